package sip

import (
	"net/netip"
	"testing"
	"time"

	sipmsg "github.com/emiago/sipgo/sip"
)

// fakeClock is a settable clock for the guard.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

func TestGuardRate(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	g := newGuard(GuardConfig{RequestsPerSecond: 10, Burst: 3},
		[]netip.Prefix{mustPrefix("10.0.0.0/8")}, clk.now)
	ip := netip.MustParseAddr("192.0.2.1")
	for i := range 3 {
		if v := g.admit(ip); v != guardPass {
			t.Fatalf("request %d refused within burst", i)
		}
	}
	if v := g.admit(ip); v != guardRateLimited {
		t.Fatalf("4th request: %v, want rate limited", v)
	}
	clk.t = clk.t.Add(100 * time.Millisecond) // one token back
	if v := g.admit(ip); v != guardPass {
		t.Fatalf("after refill: %v", v)
	}
	for range 100 {
		if g.admit(netip.MustParseAddr("10.1.2.3")) != guardPass {
			t.Fatal("trusted source limited")
		}
	}
}

func TestGuardBan(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	g := newGuard(GuardConfig{AuthFailures: 3, AuthWindow: time.Minute,
		BanDuration: 30 * time.Second}, nil, clk.now)
	ip := netip.MustParseAddr("192.0.2.9")
	if g.authFailed(ip) || g.authFailed(ip) {
		t.Fatal("banned before the threshold")
	}
	if !g.authFailed(ip) {
		t.Fatal("not banned at the threshold")
	}
	if g.admit(ip) != guardBanned {
		t.Fatal("banned source admitted")
	}
	clk.t = clk.t.Add(31 * time.Second)
	if g.admit(ip) != guardPass {
		t.Fatal("ban did not lift")
	}
}

func TestGuardBoundedSources(t *testing.T) {
	g := newGuard(GuardConfig{MaxSources: 10}, nil, nil)
	for i := range 100 {
		g.admit(netip.AddrFrom4([4]byte{192, 0, 2, byte(i)}))
	}
	if n := len(g.sources); n > 10 {
		t.Fatalf("%d sources tracked, max 10", n)
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
	_ = sipmsg.REGISTER
}
