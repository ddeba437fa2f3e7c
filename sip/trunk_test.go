package sip

import (
	"context"
	"errors"
	"net"
	"strconv"
	"testing"
	"time"

	sipmsg "github.com/emiago/sipgo/sip"

	"github.com/patchbay/patchbay/tenancy"
)

const trunkA = "TKaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

// carrier is a fake SIP peer: a phone whose INVITE answer is fixed.
// answerFunc answers an INVITE at a test phone.
type answerFunc = func(*sipmsg.Request, sipmsg.ServerTransaction)

func carrier(t *testing.T, e *testEnv, answer answerFunc) *phone {
	p := e.phone("udp", "carrier", "carrier.test", "")
	p.setAnswer(answer)
	return p
}

func origination(port, prio int) tenancy.OriginationURI {
	return tenancy.OriginationURI{SIPURL: "sip:127.0.0.1:" + strconv.Itoa(port),
		Priority: prio, Weight: 10, Enabled: true}
}

// outboundInvite builds the INVITE call control would hand to DialTrunk.
func outboundInvite(number string) *sipmsg.Request {
	req := sipmsg.NewRequest(sipmsg.INVITE, sipmsg.Uri{Scheme: "sip", User: number,
		Host: "invalid"})
	from := &sipmsg.FromHeader{Address: sipmsg.Uri{Scheme: "sip", User: "+14155550100",
		Host: "patchbay.test"}, Params: sipmsg.NewParams()}
	from.Params.Add("tag", sipmsg.GenerateTagN(8))
	req.AppendHeader(from)
	req.AppendHeader(&sipmsg.ToHeader{Address: sipmsg.Uri{Scheme: "sip", User: number,
		Host: "invalid"}, Params: sipmsg.NewParams()})
	cid := sipmsg.CallIDHeader(sipmsg.GenerateTagN(16))
	req.AppendHeader(&cid)
	req.AppendHeader(&sipmsg.CSeqHeader{SeqNo: 1, MethodName: sipmsg.INVITE})
	req.AppendHeader(&sipmsg.ContactHeader{Address: sipmsg.Uri{Scheme: "sip",
		User: "pb", Host: "127.0.0.1"}})
	req.SetBody([]byte("v=0\r\n"))

	return req
}

func TestDialTrunkFailover(t *testing.T) {
	cases := []struct {
		name      string
		first     func(*phone) answerFunc
		silent    bool // first target never answers
		wantCode  int  // 0: answered by the second target
		secondHit bool
	}{
		{name: "503 fails over",
			first:    func(*phone) answerFunc { return answerWith(503) },
			wantCode: 0, secondHit: true},
		{name: "408 fails over",
			first:    func(*phone) answerFunc { return answerWith(408) },
			wantCode: 0, secondHit: true},
		{name: "486 does not",
			first:    func(*phone) answerFunc { return answerWith(486) },
			wantCode: 486},
		{name: "404 does not",
			first:    func(*phone) answerFunc { return answerWith(404) },
			wantCode: 404},
		{name: "603 does not",
			first:    func(*phone) answerFunc { return answerWith(603) },
			wantCode: 603},
		{name: "timeout fails over", silent: true, wantCode: 0, secondHit: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			var firstPort int
			if tc.silent {
				c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { c.Close() })
				firstPort = c.LocalAddr().(*net.UDPAddr).Port
			} else {
				p1 := carrier(t, e, nil)
				p1.setAnswer(tc.first(p1))
				firstPort = p1.port
			}
			p2 := carrier(t, e, nil)
			p2.setAnswer(ringThenAnswer(p2, 0))
			trunk := &tenancy.Trunk{SID: trunkA, AccountSID: acctA,
				OriginationURIs: []tenancy.OriginationURI{origination(p2.port, 20),
					origination(firstPort, 10)}}
			call, err := e.srv.DialTrunk(t.Context(), trunk, outboundInvite("+442071234567"))
			if tc.wantCode == 0 {
				if err != nil || call.Response.StatusCode != 200 || call.Target.Priority != 20 {
					t.Fatalf("want answer by second target: %v %v", call, err)
				}
			} else {
				var se *StatusError
				if !errors.As(err, &se) || se.Code != tc.wantCode {
					t.Fatalf("got %v, want %d", err, tc.wantCode)
				}
			}
			if hit := p2.count(sipmsg.INVITE) > 0; hit != tc.secondHit {
				t.Fatalf("second target reached: %v, want %v", hit, tc.secondHit)
			}
		})
	}
}

// TestDialTrunkDigest: a carrier's challenge is answered with the trunk's
// credentials.
func TestDialTrunkDigest(t *testing.T) {
	e := newEnv(t)
	p := carrier(t, e, nil)
	p.setAnswer(func(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
		if req.GetHeader("Proxy-Authorization") == nil {
			res := sipmsg.NewResponseFromRequest(req, 407, "Proxy Authentication Required", nil)
			res.AppendHeader(sipmsg.NewHeader("Proxy-Authenticate",
				`Digest realm="carrier", nonce="abc123", algorithm=MD5, qop="auth"`))
			tx.Respond(res)
			return
		}
		ringThenAnswer(p, 0)(req, tx)
	})
	trunk := &tenancy.Trunk{SID: trunkA, AccountSID: acctA, AuthUsername: "pbx",
		AuthPassword: "secret", OriginationURIs: []tenancy.OriginationURI{origination(p.port, 10)}}
	call, err := e.srv.DialTrunk(t.Context(), trunk, outboundInvite("+442071234567"))
	if err != nil || call.Response.StatusCode != 200 {
		t.Fatalf("digest dial: %v %v", call, err)
	}
	if call.Request.GetHeader("Proxy-Authorization") == nil {
		t.Fatal("answered request lacks Proxy-Authorization")
	}
}

// TestDialTrunkCancel: cancelling ctx while the carrier rings sends CANCEL.
func TestDialTrunkCancel(t *testing.T) {
	e := newEnv(t)
	p := carrier(t, e, nil)
	p.setAnswer(p.ringForever)
	trunk := &tenancy.Trunk{SID: trunkA, AccountSID: acctA,
		OriginationURIs: []tenancy.OriginationURI{origination(p.port, 10)}}
	ctx, cancel := context.WithCancel(t.Context())
	rang := make(chan struct{})
	go func() {
		<-rang
		cancel()
	}()
	_, err := e.srv.DialTrunkProgress(ctx, trunk, outboundInvite("+442071234567"),
		func(res *sipmsg.Response) {
			if res.StatusCode == 180 {
				close(rang)
			}
		})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	p.waitFor(sipmsg.CANCEL, 3*time.Second)
}

func TestTrunkTargets(t *testing.T) {
	trunk := &tenancy.Trunk{Secure: false, OriginationURIs: []tenancy.OriginationURI{
		{SIPURL: "sip:b.test", Priority: 20, Weight: 1, Enabled: true},
		{SIPURL: "sip:a1.test", Priority: 10, Weight: 1, Enabled: true},
		{SIPURL: "sip:a2.test;transport=tcp", Priority: 10, Weight: 9, Enabled: true},
		{SIPURL: "sip:off.test", Priority: 1, Enabled: false},
		{SIPURL: "sips:tls.test", Priority: 30, Enabled: true},
		{SIPURL: "not a uri", Priority: 5, Enabled: true},
	}}
	// rnd always 0: the first of each priority group wins the draw.
	got := trunkTargets(trunk, func(int) int { return 0 })
	var hosts []string
	for _, tg := range got {
		hosts = append(hosts, tg.uri.Host+"/"+tg.transport)
	}
	want := []string{"a1.test/udp", "a2.test/tcp", "b.test/udp", "tls.test/tls"}
	if len(hosts) != len(want) {
		t.Fatalf("targets %v, want %v", hosts, want)
	}
	for i := range want {
		if hosts[i] != want[i] {
			t.Fatalf("targets %v, want %v", hosts, want)
		}
	}
	// rnd at the top of the range picks the heavy one first.
	got = trunkTargets(trunk, func(n int) int { return n - 1 })
	if got[0].uri.Host != "a2.test" {
		t.Fatalf("weighted draw picked %s first", got[0].uri.Host)
	}
	trunk.Secure = true
	if got := trunkTargets(trunk, func(int) int { return 0 }); len(got) != 1 ||
		got[0].uri.Host != "tls.test" {
		t.Fatalf("secure trunk targets %v", got)
	}
}

// TestInboundTrunkCall: an INVITE from a trunk's address to a number of the
// trunk's account reaches the CallHandler; other numbers get 404.
func TestInboundTrunkCall(t *testing.T) {
	cases := []struct {
		name   string
		number string
		secure bool
		setup  func(e *testEnv)
		want   int
		reason string
	}{
		{name: "own number", number: "+14155550100", want: 200},
		{name: "secure trunk over udp", number: "+14155550100", secure: true, want: 403,
			reason: "Secure Transport Required"},
		{name: "number without plus", number: "14155550100", want: 200},
		{name: "other account's number", number: "+14155550199", want: 404},
		{name: "unknown number", number: "+14155550111", want: 404},
		{name: "not a number", number: "alice", want: 404},
		{name: "trunking disabled", number: "+14155550100", want: 403,
			reason: "Service Disabled",
			setup:  func(e *testEnv) { e.dir.setService(acctA, tenancy.ServiceTrunking, false) }},
		{name: "account suspended", number: "+14155550100", want: 403,
			reason: "Account Suspended",
			setup:  func(e *testEnv) { e.dir.setStatus(acctA, tenancy.StatusSuspended) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.dir.addTrunk(tenancy.Trunk{SID: trunkA, AccountSID: acctA, Secure: tc.secure},
				mustPrefix("127.0.0.1/32"))
			e.dir.addNumber(tenancy.IncomingNumber{SID: "PN1", AccountSID: acctA,
				PhoneNumber: "+14155550100"}, "https://app.test/in")
			e.dir.addNumber(tenancy.IncomingNumber{SID: "PN2", AccountSID: acctB,
				PhoneNumber: "+14155550199"}, "https://b.test/in")
			if tc.setup != nil {
				tc.setup(e)
			}
			e.srv.SetCallHandler(appHandler{calls: e.calls})
			p := e.phone("udp", "gw", "carrier.test", "")
			req := p.request(sipmsg.INVITE, tc.number, "127.0.0.1")
			cid := sipmsg.CallIDHeader(sipmsg.GenerateTagN(12))
			req.AppendHeader(&cid)
			res := p.final(p.send(req))
			if int(res.StatusCode) != tc.want || (tc.reason != "" && res.Reason != tc.reason) {
				t.Fatalf("got %d %s, want %d %s", res.StatusCode, res.Reason, tc.want, tc.reason)
			}
			if tc.want == 200 {
				c := <-e.calls
				if c.Trunk == nil || c.Trunk.SID != trunkA || c.Number.SID != "PN1" ||
					c.Account.SID != acctA || c.Route.VoiceURL != "https://app.test/in" {
					t.Fatalf("inbound trunk call %+v", c)
				}
			}
		})
	}
}

// TestTrunkByTerminationDomain: a carrier without an IP access list that
// calls the trunk's termination domain authenticates with digest.
func TestTrunkByTerminationDomain(t *testing.T) {
	e := newEnv(t)
	e.dir.addTrunk(tenancy.Trunk{SID: trunkA, AccountSID: acctA, DomainName: "pbx.trunks.test"})
	e.dir.addTrunkUser(trunkA, acctA, "carrier", "carrier-pw")
	e.dir.addNumber(tenancy.IncomingNumber{SID: "PN1", AccountSID: acctA,
		PhoneNumber: "+14155550100"}, "https://app.test/in")
	e.srv.SetCallHandler(appHandler{calls: e.calls})
	p := e.phone("udp", "carrier", "carrier.test", "carrier-pw")
	_, tx := p.invite("+14155550100", "pbx.trunks.test")
	if res := p.final(tx); res == nil || res.StatusCode != 200 {
		t.Fatalf("trunk call by domain: %v", res)
	}
	if c := <-e.calls; c.Trunk.SID != trunkA || c.AuthUser != "carrier" {
		t.Fatalf("inbound call %+v", c)
	}
	wrong := e.phone("udp", "carrier", "carrier.test", "nope")
	_, tx = wrong.invite("+14155550100", "pbx.trunks.test")
	if res := wrong.final(tx); res == nil || res.StatusCode != 403 {
		t.Fatalf("wrong trunk password: %v", res)
	}
}
