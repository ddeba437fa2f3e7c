package main

import (
	"context"
	"fmt"
	"net"
	"regexp"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	sipmsg "github.com/emiago/sipgo/sip"
	idigest "github.com/icholy/digest"
)

// floodDatagram is one distinct OPTIONS request from a scanner at local.
func floodDatagram(i int, local string) []byte {
	return fmt.Appendf(nil, "OPTIONS sip:flood.invalid SIP/2.0\r\n"+
		"Via: SIP/2.0/UDP %s;branch=z9hG4bKsysflood%d;rport\r\nMax-Forwards: 70\r\n"+
		"From: <sip:scanner@flood.invalid>;tag=f%d\r\nTo: <sip:flood.invalid>\r\n"+
		"Call-ID: sysflood-%d@%s\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
		local, i, i, i, local)
}

// flood sends n distinct requests from ip to target as fast as it can
// while counting the answers until stop is closed; it returns the count.
func flood(t *testing.T, ip, target string, n int, stop <-chan struct{}) *atomic.Int64 {
	t.Helper()
	laddr := &net.UDPAddr{IP: net.ParseIP(ip)}
	raddr, err := net.ResolveUDPAddr("udp", target)
	if err != nil {
		t.Fatal(err)
	}
	uc, err := net.DialUDP("udp", laddr, raddr)
	if err != nil {
		t.Fatal(err)
	}
	answers := &atomic.Int64{}
	go func() {
		buf := make([]byte, 65535)
		for {
			if _, err := uc.Read(buf); err != nil {
				return
			}
			answers.Add(1)
		}
	}()
	go func() {
		local := uc.LocalAddr().String()
		for i := range n {
			uc.Write(floodDatagram(i, local))
			if i%50 == 49 {
				time.Sleep(time.Millisecond) // 50,000/s at most
			}
		}
		<-stop
		uc.Close()
	}()

	return answers
}

// TestSystemFlood floods the SIP edge from one source far above its rate
// while two honest phones on other addresses register and call: the
// flooding source is banned and its requests dropped without answer, the
// honest traffic all succeeds.
func TestSystemFlood(t *testing.T) {
	const (
		floodCount  = 20000
		rounds      = 10
		rate, burst = 50, 100
	)
	r := startServer(t, testConfig(t, map[string]string{
		"PATCHBAY_SIP_GUARD_REQUESTS_PER_SECOND": fmt.Sprint(rate),
		"PATCHBAY_SIP_GUARD_BURST":               fmt.Sprint(burst),
	}))
	tn := provision(t, r.base, "flood.test", nil)
	alice := newPhone(t, "127.0.0.3", r.sipAddr(), tn.domain, "alice")
	bob := newPhone(t, "127.0.0.4", r.sipAddr(), tn.domain, "bob")
	bob.mustRegister()

	stop := make(chan struct{})
	start := time.Now()
	answers := flood(t, "127.0.0.2", r.sipAddr(), floodCount, stop)
	var regFails, callFails int
	var lastErr error
	for range rounds {
		if code, err := alice.register(t.Context()); code != 200 {
			regFails++
			lastErr = fmt.Errorf("register %d: %v", code, err)
		}
		if code, err := alice.callAndHangUp(t.Context(), "bob"); code != 200 || err != nil {
			callFails++
			lastErr = fmt.Errorf("call %d: %v", code, err)
		}
	}
	dropped := func() bool {
		return r.metricValue(t, "patchbay_sip_guard_drops_total") >= floodCount/2
	}
	if !eventually(10*time.Second, dropped) {
		t.Errorf("guard dropped %v requests, want most of %d",
			r.metricValue(t, "patchbay_sip_guard_drops_total"), floodCount)
	}
	elapsed := time.Since(start)
	time.Sleep(200 * time.Millisecond) // late answers
	close(stop)

	if regFails+callFails > 0 {
		t.Errorf("honest phones: %d/%d registrations and %d/%d calls failed; last: %v",
			regFails, rounds, callFails, rounds, lastErr)
	}
	limit := int64(burst + rate*elapsed.Seconds() + rate)
	if got := answers.Load(); got > limit || got == 0 {
		t.Errorf("flood got %d answers in %s, want 1..%d (burst + rate × time)",
			got, elapsed.Round(time.Millisecond), limit)
	}
	if n := r.metricValue(t, "patchbay_sip_guard_drops_total", `reason="banned"`); n < 1 {
		t.Errorf("guard_drops{banned} = %v: the flooding source was not banned", n)
	}
	if answered(t, "127.0.0.2", r.sipAddr()) {
		t.Error("the flooding source still gets answers after the flood")
	}
	if !answered(t, "127.0.0.8", r.sipAddr()) {
		t.Error("a quiet source gets no answer to OPTIONS")
	}
	if bob.invites.Load() != rounds {
		t.Errorf("callee got %d INVITEs, want %d", bob.invites.Load(), rounds)
	}
}

// answered reports whether one OPTIONS sent from ip gets an answer within
// half a second.
func answered(t *testing.T, ip, target string) bool {
	t.Helper()
	raddr, err := net.ResolveUDPAddr("udp", target)
	if err != nil {
		t.Fatal(err)
	}
	uc, err := net.DialUDP("udp", &net.UDPAddr{IP: net.ParseIP(ip)}, raddr)
	if err != nil {
		t.Fatal(err)
	}
	defer uc.Close()
	if _, err := uc.Write(floodDatagram(-1, uc.LocalAddr().String())); err != nil {
		t.Fatal(err)
	}
	uc.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
	_, err = uc.Read(make([]byte, 65535))

	return err == nil
}

// challengeOf sends an unauthenticated REGISTER for user and returns the
// answer.
func (p *phone) challengeOf(t *testing.T, user string) *sipmsg.Response {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
	defer cancel()
	req := sipmsg.NewRequest(sipmsg.REGISTER, sipmsg.Uri{Scheme: "sip", Host: p.domain})
	aor := sipmsg.Uri{Scheme: "sip", User: user, Host: p.domain}
	req.AppendHeader(&sipmsg.ToHeader{Address: aor})
	from := &sipmsg.FromHeader{Address: aor, Params: sipmsg.NewParams()}
	from.Params.Add("tag", sipmsg.GenerateTagN(8))
	req.AppendHeader(from)
	contact := p.contact
	req.AppendHeader(&contact)
	req.SetDestination(p.target)
	res, err := p.cli.Do(ctx, req)
	if err != nil {
		t.Fatalf("REGISTER %s: %v", user, err)
	}

	return res
}

// nonceParam matches the parts of a challenge that differ between two
// challenges to the same user: the nonce and opaque values.
var nonceParam = regexp.MustCompile(`(nonce|opaque)="[^"]*"`)

// challengeShape is res's status and challenges with nonces blanked.
func challengeShape(res *sipmsg.Response) string {
	shape := fmt.Sprintf("%d %s", res.StatusCode, res.Reason)
	for _, h := range res.GetHeaders("WWW-Authenticate") {
		shape += "\n" + nonceParam.ReplaceAllString(h.Value(), `$1="-"`)
	}

	return shape
}

// TestSystemPasswordGuessing has one source answer challenges with wrong
// passwords until the guard bans it, while the same user registers from
// another source; a missing user is challenged like an existing one.
func TestSystemPasswordGuessing(t *testing.T) {
	const failures = 5
	r := startServer(t, testConfig(t, map[string]string{
		"PATCHBAY_SIP_GUARD_AUTH_FAILURES": fmt.Sprint(failures),
	}))
	tn := provision(t, r.base, "guess.test", nil)
	guesser := newPhone(t, "127.0.0.5", r.sipAddr(), tn.domain, "alice")
	honest := newPhone(t, "127.0.0.6", r.sipAddr(), tn.domain, "alice")

	t.Run("missing and existing users look alike", func(t *testing.T) {
		known, missing := honest.challengeOf(t, "alice"), honest.challengeOf(t, "mallory")
		if known.StatusCode != 401 || challengeShape(known) != challengeShape(missing) {
			t.Errorf("challenges differ:\nalice:   %s\nmallory: %s",
				challengeShape(known), challengeShape(missing))
		}
		ghost := newPhone(t, "127.0.0.6", r.sipAddr(), tn.domain, "mallory")
		wrongMissing, _ := ghost.registerAs(t.Context(), "guess", 300)
		wrongKnown, _ := honest.registerAs(t.Context(), "guess", 300)
		if wrongMissing != 403 || wrongKnown != 403 {
			t.Errorf("wrong password: missing user %d, existing user %d; want 403 both",
				wrongMissing, wrongKnown)
		}
	})

	var codes []int
	for i := range failures {
		code, err := guesser.registerAs(t.Context(), fmt.Sprintf("guess-%d", i), 300)
		if code != 403 {
			t.Fatalf("guess %d: %d %v, want 403", i+1, code, err)
		}
		codes = append(codes, code)
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Second)
	defer cancel()
	if code, err := guesser.registerAs(ctx, guesser.pass, 300); code != 0 || err == nil {
		t.Errorf("banned source got %d %v, want no answer", code, err)
	}
	if n := r.metricValue(t, "patchbay_sip_guard_drops_total", `reason="banned"`); n < 1 {
		t.Errorf("guard_drops{banned} = %v after the ban", n)
	}
	var wg sync.WaitGroup
	okCount := atomic.Int64{}
	for range 3 {
		wg.Go(func() {
			if code, _ := honest.register(t.Context()); code == 200 {
				okCount.Add(1)
			}
		})
	}
	wg.Wait()
	if okCount.Load() != 3 {
		t.Errorf("alice from another source registered %d/3 times during the ban",
			okCount.Load())
	}
}

// TestSystemRetransmittedRegister sends one authorized REGISTER many
// times, as a phone does over UDP when answers are slow: the copies after
// the first are replays of its nonce count and earn fresh challenges, but
// they must not get the phone's address banned.
func TestSystemRetransmittedRegister(t *testing.T) {
	const failures = 3
	r := startServer(t, testConfig(t, map[string]string{
		"PATCHBAY_SIP_GUARD_AUTH_FAILURES": fmt.Sprint(failures),
	}))
	tn := provision(t, r.base, "retrans.test", nil)
	p := newPhone(t, "127.0.0.7", r.sipAddr(), tn.domain, "alice")

	challenge := p.challengeOf(t, "alice")
	req := sipmsg.NewRequest(sipmsg.REGISTER, sipmsg.Uri{Scheme: "sip", Host: p.domain})
	aor := sipmsg.Uri{Scheme: "sip", User: p.user, Host: p.domain}
	req.AppendHeader(&sipmsg.ToHeader{Address: aor})
	from := &sipmsg.FromHeader{Address: aor, Params: sipmsg.NewParams()}
	from.Params.Add("tag", "retrans")
	req.AppendHeader(from)
	contact := p.contact
	req.AppendHeader(&contact)
	req.AppendHeader(sipmsg.NewHeader("Expires", "300"))
	cred, err := idigest.Digest(parseChallenge(t, challenge), idigest.Options{
		Method: "REGISTER", URI: req.Recipient.Addr(), Username: p.user, Password: p.pass,
		Count: 1})
	if err != nil {
		t.Fatal(err)
	}
	req.AppendHeader(sipmsg.NewHeader("Authorization", cred.String()))
	req.SetDestination(p.target)

	var codes []int
	for range 3 * failures {
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
		res, err := p.cli.Do(ctx, req.Clone())
		cancel()
		if err != nil {
			t.Fatalf("copy %d of the REGISTER: %v", len(codes)+1, err)
		}
		codes = append(codes, int(res.StatusCode))
	}
	if codes[0] != 200 || codes[len(codes)-1] != 401 {
		t.Errorf("answers to the copies %v, want 200 then fresh 401 challenges", codes)
	}
	replays := r.metricValue(t, "patchbay_sip_auth_failures_total", `reason="replay"`)
	if replays < failures {
		t.Errorf("%v replays counted, want at least %d (the copies)", replays, failures)
	}
	if code, err := p.register(t.Context()); code != 200 {
		t.Errorf("REGISTER after the copies: %d %v, want 200 (source not banned)", code, err)
	}
}

// parseChallenge returns the first digest challenge of res.
func parseChallenge(t *testing.T, res *sipmsg.Response) *idigest.Challenge {
	t.Helper()
	h := res.GetHeader("WWW-Authenticate")
	if h == nil {
		t.Fatalf("no challenge in %d %s", res.StatusCode, res.Reason)
	}
	chal, err := idigest.ParseChallenge(h.Value())
	if err != nil {
		t.Fatalf("challenge %q: %v", h.Value(), err)
	}

	return chal
}

// TestSystemManyBindingsOverUDP registers one user from many devices over
// UDP. The 200 to a REGISTER lists every binding of the user (RFC 3261
// section 10.3 step 8), so it grows with each device: past 1300 bytes
// (about a dozen bindings) the registrar must keep the answer small (the
// device's own binding first), so that it fits one datagram and the
// retransmission cache, or a lost answer's retransmitted REGISTER gets a
// fresh 401.
func TestSystemManyBindingsOverUDP(t *testing.T) {
	const devices = 20
	r := startServer(t, testConfig(t, nil))
	tn := provision(t, r.base, "many.test", nil)
	codes := make([]int, devices)
	for i := range devices {
		p := newPhone(t, "127.0.0.9", r.sipAddr(), tn.domain, "alice")
		ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
		codes[i], _ = p.register(ctx)
		cancel()
	}
	if codes[0] != 200 {
		t.Fatalf("first device: %d, want 200", codes[0])
	}
	for i, code := range codes {
		if code != 200 {
			t.Errorf("device %d of %d got %d; codes %v", i+1, devices, code, codes)
		}
	}
}
