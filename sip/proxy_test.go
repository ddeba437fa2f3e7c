package sip

import (
	"net/netip"
	"strconv"
	"testing"
	"time"

	sipmsg "github.com/emiago/sipgo/sip"

	"github.com/patchbay/patchbay/tenancy"
)

// TestProxyCall: a call between two registered users of one domain, over
// each transport pair, with ACK, re-INVITE and BYE following the route set.
func TestProxyCall(t *testing.T) {
	for _, pair := range [][2]string{{"udp", "udp"}, {"tcp", "tcp"}, {"udp", "tcp"}} {
		t.Run(pair[0]+"-"+pair[1], func(t *testing.T) {
			e := newEnv(t)
			alice := e.phone(pair[0], "alice", "acme.test", "alice-pw")
			bob := e.phone(pair[1], "bob", "acme.test", "bob-pw")
			alice.mustRegister()
			bob.mustRegister()

			inv, tx := alice.invite("bob", "acme.test")
			res := alice.final(tx)
			if res == nil || res.StatusCode != 200 {
				t.Fatalf("INVITE: %v", res)
			}
			if len(res.GetHeaders("Record-Route")) == 0 {
				t.Fatal("2xx without Record-Route")
			}
			got := bob.waitFor(sipmsg.INVITE, time.Second)
			if got.MaxForwards().Val() != 69 {
				t.Fatalf("Max-Forwards at callee %d, want 69", got.MaxForwards().Val())
			}
			if inv.GetHeader("Proxy-Authorization") == nil {
				t.Fatal("the caller sent no credentials: nothing to check")
			}
			if h := got.GetHeader("Proxy-Authorization"); h != nil {
				t.Fatalf("the callee received the caller's credentials: %s", h.Value())
			}
			alice.ack(inv, res)
			bob.waitFor(sipmsg.ACK, 2*time.Second)

			for _, m := range []sipmsg.RequestMethod{sipmsg.INVITE, sipmsg.INFO, sipmsg.BYE} {
				req := alice.inDialog(m, inv, res)
				if m == sipmsg.INVITE {
					req.SetBody([]byte("v=0\r\n"))
				}
				r := alice.final(alice.send(req))
				if r == nil || r.StatusCode != 200 {
					t.Fatalf("in-dialog %s: %v", m, r)
				}
				bob.waitFor(m, 2*time.Second)
				if m == sipmsg.INVITE {
					alice.ackSeq(inv, res, req.CSeq().SeqNo)
					bob.waitFor(sipmsg.ACK, 2*time.Second)
				}
			}
			if v := metricValue(t, e.srv.m.dialogs); v != 0 {
				t.Fatalf("active dialogs %v after BYE", v)
			}
		})
	}
}

// TestProxyForking: two contacts of one user ring; the first to answer
// wins and the other is cancelled.
func TestProxyForking(t *testing.T) {
	e := newEnv(t)
	alice := e.phone("udp", "alice", "acme.test", "alice-pw")
	desk := e.phone("udp", "bob", "acme.test", "bob-pw")
	mobile := e.phone("tcp", "bob", "acme.test", "bob-pw")
	desk.setAnswer(desk.ringForever)
	mobile.setAnswer(ringThenAnswer(mobile, 200*time.Millisecond))
	alice.mustRegister()
	desk.mustRegister()
	mobile.callID = "mobile-" + mobile.callID
	mobile.mustRegister()
	if b, _ := e.srv.Contacts(t.Context(), "bob@acme.test"); len(b) != 2 {
		t.Fatalf("bob has %d bindings", len(b))
	}

	_, tx := alice.invite("bob", "acme.test")
	res := alice.final(tx)
	if res == nil || res.StatusCode != 200 {
		t.Fatalf("forked INVITE: %v", res)
	}
	if c := res.Contact(); c == nil || c.Address.Port != mobile.port {
		t.Fatalf("answer not from the mobile: %v", c)
	}
	desk.waitFor(sipmsg.CANCEL, 3*time.Second)
}

// TestProxyCancel: the caller's CANCEL reaches every ringing branch and the
// caller gets 487.
func TestProxyCancel(t *testing.T) {
	e := newEnv(t)
	alice := e.phone("udp", "alice", "acme.test", "alice-pw")
	bob := e.phone("udp", "bob", "acme.test", "bob-pw")
	bob.setAnswer(bob.ringForever)
	alice.mustRegister()
	bob.mustRegister()

	inv, tx := alice.invite("bob", "acme.test")
	for res := range tx.Responses() {
		if res.StatusCode == 180 {
			break
		}
	}
	cancel := newCancel(inv)
	cancel.SetDestination(alice.server)
	cr := alice.final(alice.send(cancel))
	if cr == nil || cr.StatusCode != 200 {
		t.Fatalf("CANCEL: %v", cr)
	}
	if res := alice.final(tx); res == nil || res.StatusCode != 487 {
		t.Fatalf("INVITE after CANCEL: %v", res)
	}
	bob.waitFor(sipmsg.CANCEL, 3*time.Second)
}

// TestProxyRefusals covers the proxy's error answers.
func TestProxyRefusals(t *testing.T) {
	cases := []struct {
		name   string
		to     string
		host   string
		mutate func(*sipmsg.Request)
		want   int
	}{
		{name: "unknown user", to: "nobody", host: "acme.test", want: 404},
		{name: "known user offline", to: "carol", host: "acme.test", want: 480},
		{name: "max-forwards", to: "bob", host: "acme.test", want: 483,
			mutate: func(r *sipmsg.Request) {
				mf := sipmsg.MaxForwardsHeader(0)
				r.AppendHeader(&mf)
			}},
		{name: "callee answers busy", to: "bob", host: "acme.test", want: 486},
		{name: "cross-tenant without voice url", to: "mallory", host: "other.test",
			want: 403},
		{name: "external destination", to: "someone", host: "example.org", want: 404},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			alice := e.phone("udp", "alice", "acme.test", "alice-pw")
			bob := e.phone("udp", "bob", "acme.test", "bob-pw")
			bob.setAnswer(answerWith(486))
			bob.mustRegister()
			mallory := e.phone("udp", "mallory", "other.test", "mallory-pw")
			mallory.mustRegister()
			req := alice.request(sipmsg.INVITE, tc.to, tc.host)
			cid := sipmsg.CallIDHeader("refusal-" + sipmsg.GenerateTagN(8))
			req.AppendHeader(&cid)
			if tc.mutate != nil {
				tc.mutate(req)
			}
			res := alice.final(alice.send(req))
			if res.StatusCode == 407 {
				alice.authorize(req, res, "", 1)
				res = alice.retry(req)
			}
			if int(res.StatusCode) != tc.want {
				t.Fatalf("got %d %s, want %d", res.StatusCode, res.Reason, tc.want)
			}
		})
	}
}

// TestLoopDetection: a request that already carries this server's Via is
// a loop (482, RFC 3261 16.3 step 4).
func TestLoopDetection(t *testing.T) {
	e := newEnv(t)
	port := e.srv.listenPort("udp")
	cases := []struct {
		name string
		vias []string
		want bool
	}{
		{"foreign", []string{"SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKa"}, false},
		{"ours below", []string{"SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKa",
			"SIP/2.0/UDP 127.0.0.1:" + strconv.Itoa(port) + ";branch=z9hG4bKb"}, true},
		{"our host other port", []string{"SIP/2.0/UDP 127.0.0.1:1;branch=z9hG4bKa"}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			msg := "INVITE sip:bob@acme.test SIP/2.0\r\n"
			for _, v := range tc.vias {
				msg += "Via: " + v + "\r\n"
			}
			msg += "From: <sip:a@acme.test>;tag=1\r\nTo: <sip:bob@acme.test>\r\n" +
				"Call-ID: x\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n"
			m, err := sipmsg.ParseMessage([]byte(msg))
			if err != nil {
				t.Fatal(err)
			}
			if got := e.srv.hasOurVia(m.(*sipmsg.Request)); got != tc.want {
				t.Fatalf("hasOurVia %v, want %v", got, tc.want)
			}
		})
	}
}

// TestCallToApplication: a device call into a domain with a voice URL goes
// to the CallHandler — also across accounts, as an inbound call of the
// domain's account — and to 503 without a handler.
func TestCallToApplication(t *testing.T) {
	e := newEnv(t)
	alice := e.phone("udp", "alice", "acme.test", "alice-pw")
	call := func() *sipmsg.Response {
		_, tx := alice.invite("support", "hooks.test")
		return alice.final(tx)
	}
	if res := call(); res.StatusCode != 503 {
		t.Fatalf("without handler: %d", res.StatusCode)
	}
	e.srv.SetCallHandler(appHandler{calls: e.calls})
	if res := call(); res.StatusCode != 200 {
		t.Fatalf("with handler: %d", res.StatusCode)
	}
	c := <-e.calls
	if c.Account.SID != acctB || c.Domain.SID != domHook || c.Route.VoiceURL == "" ||
		c.AuthUser != "alice" || c.Transport != "udp" {
		t.Fatalf("inbound call %+v", c)
	}
}

// TestProxyRingTimeout: Timer C cancels a branch that rings too long and
// the caller gets 408.
func TestProxyRingTimeout(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.RingTimeout = 500 * time.Millisecond })
	alice := e.phone("udp", "alice", "acme.test", "alice-pw")
	bob := e.phone("udp", "bob", "acme.test", "bob-pw")
	bob.setAnswer(bob.ringForever)
	bob.mustRegister()
	_, tx := alice.invite("bob", "acme.test")
	if res := alice.final(tx); res == nil || res.StatusCode != 408 {
		t.Fatalf("after Timer C: %v, want 408", res)
	}
	bob.waitFor(sipmsg.CANCEL, 3*time.Second)
}

func TestBestResponse(t *testing.T) {
	cases := []struct {
		codes []int
		want  int
	}{
		{[]int{486, 404}, 486},
		{[]int{404, 302}, 302},
		{[]int{500, 486}, 486},
		{[]int{486, 603, 302}, 603},
		{[]int{603, 302}, 603},
	}
	for _, tc := range cases {
		f := &fork{}
		for _, c := range tc.codes {
			f.consider(sipmsg.NewResponse(c, "x"))
		}
		if int(f.best.StatusCode) != tc.want {
			t.Errorf("best of %v = %d, want %d", tc.codes, f.best.StatusCode, tc.want)
		}
	}
}

// TestSipsOverPlainTransport: a sips: Request-URI over UDP is refused.
func TestSipsOverPlainTransport(t *testing.T) {
	e := newEnv(t)
	alice := e.phone("udp", "alice", "acme.test", "alice-pw")
	req := alice.request(sipmsg.INVITE, "bob", "acme.test")
	req.Recipient.Scheme = "sips"
	cid := sipmsg.CallIDHeader(sipmsg.GenerateTagN(10))
	req.AppendHeader(&cid)
	if res := alice.final(alice.send(req)); res.StatusCode != 403 ||
		res.Reason != "Secure Transport Required" {
		t.Fatalf("got %d %s", res.StatusCode, res.Reason)
	}
}

// TestProxyCalleeHangsUp: the callee's BYE follows the route set back to
// the caller over the caller's flow.
func TestProxyCalleeHangsUp(t *testing.T) {
	for _, pair := range [][2]string{{"udp", "udp"}, {"tcp", "udp"}, {"udp", "tcp"}} {
		t.Run(pair[0]+"-"+pair[1], func(t *testing.T) {
			e := newEnv(t)
			alice := e.phone(pair[0], "alice", "acme.test", "alice-pw")
			bob := e.phone(pair[1], "bob", "acme.test", "bob-pw")
			alice.mustRegister()
			bob.mustRegister()
			inv, tx := alice.invite("bob", "acme.test")
			res := alice.final(tx)
			if res == nil || res.StatusCode != 200 {
				t.Fatalf("INVITE: %v", res)
			}
			alice.ack(inv, res)
			bob.waitFor(sipmsg.ACK, 2*time.Second)
			bye := bob.calleeRequest(sipmsg.BYE)
			if r := bob.final(bob.send(bye)); r == nil || r.StatusCode != 200 {
				t.Fatalf("callee BYE: %v", r)
			}
			alice.waitFor(sipmsg.BYE, 2*time.Second)
		})
	}
}

// TestCrossTenantCallerSuspended: a suspended account's device cannot call
// into another account's application either.
func TestCrossTenantCallerSuspended(t *testing.T) {
	e := newEnv(t)
	e.srv.SetCallHandler(appHandler{calls: e.calls})
	e.dir.setStatus(acctA, tenancy.StatusSuspended)
	alice := e.phone("udp", "alice", "acme.test", "alice-pw")
	_, tx := alice.invite("support", "hooks.test")
	if res := alice.final(tx); res == nil || res.StatusCode != 403 ||
		res.Reason != "Account Suspended" {
		t.Fatalf("got %v, want 403 Account Suspended", res)
	}
}

// TestProxyMessage: a MESSAGE between two users of a domain is proxied
// without record-routing.
func TestProxyMessage(t *testing.T) {
	e := newEnv(t)
	alice := e.phone("udp", "alice", "acme.test", "alice-pw")
	bob := e.phone("tcp", "bob", "acme.test", "bob-pw")
	bob.mustRegister()
	req := alice.request(sipmsg.MESSAGE, "bob", "acme.test")
	cid := sipmsg.CallIDHeader(sipmsg.GenerateTagN(10))
	req.AppendHeader(&cid)
	req.AppendHeader(sipmsg.NewHeader("Content-Type", "text/plain"))
	req.SetBody([]byte("hello"))
	res := alice.final(alice.send(req))
	if res.StatusCode == 407 {
		alice.authorize(req, res, "", 1)
		res = alice.retry(req)
	}
	if res.StatusCode != 200 {
		t.Fatalf("MESSAGE: %d", res.StatusCode)
	}
	got := bob.waitFor(sipmsg.MESSAGE, time.Second)
	if string(got.Body()) != "hello" || got.GetHeader("Record-Route") != nil {
		t.Fatalf("delivered %q with Record-Route %v", got.Body(), got.GetHeader("Record-Route"))
	}
}

// TestCallByServerAddress: a device that dials sip:bob@<edge address>
// reaches bob of its own domain.
func TestCallByServerAddress(t *testing.T) {
	e := newEnv(t)
	alice := e.phone("udp", "alice", "acme.test", "alice-pw")
	bob := e.phone("udp", "bob", "acme.test", "bob-pw")
	bob.mustRegister()
	_, tx := alice.invite("bob", "127.0.0.1")
	if res := alice.final(tx); res == nil || res.StatusCode != 200 {
		t.Fatalf("call by address: %v", res)
	}
	bob.waitFor(sipmsg.INVITE, time.Second)
}

// TestCancelSentOnce: a branch that starts ringing after another answered
// gets one CANCEL, however many provisional responses it sends.
func TestCancelSentOnce(t *testing.T) {
	e := newEnv(t)
	alice := e.phone("udp", "alice", "acme.test", "alice-pw")
	desk := e.phone("udp", "bob", "acme.test", "bob-pw")
	mobile := e.phone("udp", "bob", "acme.test", "bob-pw")
	mobile.callID = "mobile-" + mobile.callID
	desk.setAnswer(func(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
		tx.OnCancel(func(c *sipmsg.Request) { desk.got <- c })
		time.Sleep(400 * time.Millisecond) // ring only once the mobile answered
		for _, code := range []int{180, 183, 180} {
			tx.Respond(sipmsg.NewResponseFromRequest(req, code, "Progress", nil))
		}
		<-tx.Done()
	})
	mobile.setAnswer(ringThenAnswer(mobile, 150*time.Millisecond))
	desk.mustRegister()
	mobile.mustRegister()
	_, tx := alice.invite("bob", "acme.test")
	if res := alice.final(tx); res == nil || res.StatusCode != 200 {
		t.Fatalf("INVITE: %v", res)
	}
	desk.waitFor(sipmsg.CANCEL, 2*time.Second)
	time.Sleep(300 * time.Millisecond)
	if n := desk.cancels.Load(); n != 1 {
		t.Fatalf("desk got %d CANCELs, want 1", n)
	}
}

// TestProxyDeadFlow: a callee whose TCP connection is gone fails the branch
// quickly instead of ringing until Timer C.
func TestProxyDeadFlow(t *testing.T) {
	e := newEnv(t)
	alice := e.phone("udp", "alice", "acme.test", "alice-pw")
	bob := e.phone("tcp", "bob", "acme.test", "bob-pw")
	bob.mustRegister()
	bob.ua.Close()
	time.Sleep(100 * time.Millisecond)
	start := time.Now()
	_, tx := alice.invite("bob", "acme.test")
	res := alice.final(tx)
	if res == nil || res.StatusCode < 400 {
		t.Fatalf("call to a dead flow: %v", res)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("took %s", d)
	}
}

// TestDrainRefusesCalls: a draining server refuses new calls with 503 and
// Retry-After.
func TestDrainRefusesCalls(t *testing.T) {
	e := newEnv(t)
	alice := e.phone("udp", "alice", "acme.test", "alice-pw")
	e.srv.Drain()
	_, tx := alice.invite("bob", "acme.test")
	res := alice.final(tx)
	if res == nil || res.StatusCode != 503 || res.GetHeader("Retry-After") == nil {
		t.Fatalf("draining: %v", res)
	}
}

// TestResponseDestination pins where relayed responses go: the source
// with rport or over a connection, else the source host and Via port.
func TestResponseDestination(t *testing.T) {
	src := netip.MustParseAddrPort("192.0.2.7:40001")
	tests := []struct {
		transport, via, want string
	}{
		{"udp", "SIP/2.0/UDP 10.0.0.1:5070;branch=z9hG4bK1;rport", "192.0.2.7:40001"},
		{"udp", "SIP/2.0/UDP 10.0.0.1:5070;branch=z9hG4bK1", "192.0.2.7:5070"},
		{"udp", "SIP/2.0/UDP phone.test;branch=z9hG4bK1", "192.0.2.7:5060"},
		{"udp", "SIP/2.0/UDP 10.0.0.1:5070;branch=z9hG4bK1;rport=9", "192.0.2.7:5070"},
		{"tcp", "SIP/2.0/TCP 10.0.0.1:5070;branch=z9hG4bK1", "192.0.2.7:40001"},
		{"ws", "SIP/2.0/WS df7jal23ls0d.invalid;branch=z9hG4bK1", "192.0.2.7:40001"},
	}
	for _, tt := range tests {
		t.Run(tt.transport+" "+tt.via, func(t *testing.T) {
			msg := "OPTIONS sip:a@b SIP/2.0\r\nVia: " + tt.via + "\r\n" +
				"From: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\n" +
				"Content-Length: 0\r\n\r\n"
			m, err := sipmsg.NewParser().ParseSIP([]byte(msg))
			if err != nil {
				t.Fatal(err)
			}
			r := &request{req: m.(*sipmsg.Request), source: src, transport: tt.transport}
			if got := responseDestination(r); got != tt.want {
				t.Errorf("responseDestination = %s, want %s", got, tt.want)
			}
		})
	}
}

// TestProxyTrying: a callee that says nothing for 400 ms makes the edge
// send 100 Trying after 200 ms (RFC 3261 17.2.1); one that rings at once
// draws no 100.
func TestProxyTrying(t *testing.T) {
	for _, tc := range []struct {
		name       string
		ringFirst  bool
		wantTrying bool
	}{{"silent callee", false, true}, {"ringing callee", true, false}} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			alice := e.phone("udp", "alice", "acme.test", "alice-pw")
			bob := e.phone("udp", "bob", "acme.test", "bob-pw")
			alice.mustRegister()
			bob.mustRegister()
			bob.setAnswer(func(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
				if tc.ringFirst {
					tx.Respond(sipmsg.NewResponseFromRequest(req, 180, "Ringing", nil))
				}
				time.Sleep(400 * time.Millisecond)
				tx.Respond(sipmsg.NewResponseFromRequest(req, 486, "Busy Here", nil))
			})
			_, tx := alice.invite("bob", "acme.test")
			trying, final := false, false
			timeout := time.After(5 * time.Second)
			for !final {
				select {
				case res := <-tx.Responses():
					trying = trying || res.StatusCode == 100
					final = !res.IsProvisional()
				case <-timeout:
					t.Fatal("no final response")
				}
			}
			if trying != tc.wantTrying {
				t.Errorf("100 Trying received: %v, want %v", trying, tc.wantTrying)
			}
		})
	}
}
