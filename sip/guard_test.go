package sip

import (
	"net/netip"
	"testing"
	"time"

	sipmsg "github.com/emiago/sipgo/sip"

	"github.com/patchbay/patchbay/tenancy"
)

// answeredOptions sends n OPTIONS keepalives from p over UDP, each waiting
// at most wait for its answer, and counts the answered ones.
func answeredOptions(t *testing.T, p *phone, n int, wait time.Duration) int {
	t.Helper()
	answered := 0
	for range n {
		req := p.request(sipmsg.OPTIONS, "", "127.0.0.1")
		req.Recipient.User = ""
		ctx, cancel := contextWithTimeout(t, wait)
		if res, err := p.cli.Do(ctx, req); err == nil && res.StatusCode == 200 {
			answered++
		}
		cancel()
	}

	return answered
}

// TestGuardRateLimitsAndExemptsTrunks: a source over its rate is banned and
// gets no answers, unless it is a carrier trunk's address.
func TestGuardRateLimitsAndExemptsTrunks(t *testing.T) {
	strict := func(c *Config) { c.Guard = GuardConfig{RequestsPerSecond: 0.5, Burst: 3} }
	cases := []struct {
		name  string
		trunk bool
		want  func(answered int) bool
	}{
		{"unknown source banned", false, func(n int) bool { return n == 3 }},
		{"trunk source exempt", true, func(n int) bool { return n == 8 }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, strict)
			if tc.trunk {
				e.dir.addTrunk(tenancy.Trunk{SID: trunkA, AccountSID: acctA},
					netip.MustParsePrefix("127.0.0.0/8"))
			}
			p := e.phone("udp", "alice", "acme.test", "pw")
			if n := answeredOptions(t, p, 8, 300*time.Millisecond); !tc.want(n) {
				t.Fatalf("%d of 8 OPTIONS answered", n)
			}
		})
	}
}

// TestGuardOverUDP: a source that keeps failing authentication is banned
// and then gets no answer at all.
func TestGuardOverUDP(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Guard = GuardConfig{AuthFailures: 2} })
	p := e.phone("udp", "alice", "acme.test", "wrong")
	for i := range 2 {
		if res := p.register(300); res.StatusCode != 403 {
			t.Fatalf("attempt %d: %d", i, res.StatusCode)
		}
	}
	req := p.registerReq(300)
	ctx, cancel := contextWithTimeout(t, 1500*time.Millisecond)
	defer cancel()
	if res, err := p.cli.Do(ctx, req); err == nil {
		t.Fatalf("banned source answered: %d", res.StatusCode)
	}
	if v := metricValue(t, e.srv.m.guardDrops.WithLabelValues("banned")); v < 1 {
		t.Fatalf("banned drops %v", v)
	}
}
