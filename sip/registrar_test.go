package sip

import (
	"strings"
	"testing"
	"time"

	sipmsg "github.com/emiago/sipgo/sip"

	"github.com/patchbay/patchbay/sip/digest"
	"github.com/patchbay/patchbay/tenancy"
)

func TestRegisterChallengeAndBind(t *testing.T) {
	for _, tr := range []string{"udp", "tcp"} {
		t.Run(tr, func(t *testing.T) {
			e := newEnv(t)
			p := e.phone(tr, "alice", "acme.test", "alice-pw")
			req := p.registerReq(300)
			res := p.do(req)
			if res.StatusCode != 401 {
				t.Fatalf("first REGISTER: %d, want 401", res.StatusCode)
			}
			chals := res.GetHeaders("WWW-Authenticate")
			if len(chals) != 2 || !strings.Contains(chals[0].Value(), "SHA-256") ||
				!strings.Contains(chals[1].Value(), "MD5") {
				t.Fatalf("challenges %v: want SHA-256 then MD5", chals)
			}
			for i, alg := range []string{"SHA-256", "MD5"} {
				p.authorize(req, res, alg, i+1)
				got := p.retry(req)
				if got.StatusCode != 200 {
					t.Fatalf("%s: %d %s", alg, got.StatusCode, got.Reason)
				}
				c := got.GetHeader("Contact")
				if c == nil || !strings.Contains(c.Value(), "expires=") {
					t.Fatalf("%s: contact %v lacks expires", alg, c)
				}
			}
			b, err := e.srv.Contacts(t.Context(), "alice@acme.test")
			if err != nil || len(b) != 1 {
				t.Fatalf("contacts: %v %v", b, err)
			}
			if b[0].Transport != tr || b[0].Received.Addr().String() != "127.0.0.1" ||
				b[0].AccountSID != acctA {
				t.Fatalf("binding %+v", b[0])
			}
			if v := metricValue(t, e.srv.m.registrations.WithLabelValues("bound")); v != 2 {
				t.Fatalf("bound registrations %v, want 2", v)
			}
			if v := metricValue(t, e.srv.m.requests.WithLabelValues("REGISTER", "2xx")); v != 2 {
				t.Fatalf("REGISTER 2xx answers %v, want 2", v)
			}
			if v := metricValue(t, e.srv.m.requests.WithLabelValues("REGISTER", "4xx")); v != 1 {
				t.Fatalf("REGISTER 4xx answers %v, want 1", v)
			}
		})
	}
}

// TestRegisterRefusals covers every refusal of the registrar.
func TestRegisterRefusals(t *testing.T) {
	cases := []struct {
		name       string
		user, dom  string
		password   string
		setup      func(e *testEnv)
		want       int
		wantReason string
	}{
		{name: "wrong password", user: "alice", dom: "acme.test", password: "nope",
			want: 403, wantReason: "Forbidden"},
		{name: "missing user", user: "zed", dom: "acme.test", password: "zed-pw",
			want: 403, wantReason: "Forbidden"},
		{name: "unknown domain", user: "alice", dom: "nowhere.test", password: "x",
			want: 403, wantReason: "Forbidden"},
		{name: "cross-tenant device", user: "mallory", dom: "acme.test",
			password: "mallory-pw", want: 403, wantReason: "Forbidden"},
		{name: "suspended", user: "alice", dom: "acme.test", password: "alice-pw",
			setup: func(e *testEnv) { e.dir.setStatus(acctA, tenancy.StatusSuspended) },
			want:  403, wantReason: "Account Suspended"},
		{name: "closed", user: "alice", dom: "acme.test", password: "alice-pw",
			setup: func(e *testEnv) { e.dir.setStatus(acctA, tenancy.StatusClosed) },
			want:  403, wantReason: "Account Closed"},
		{name: "parent suspended", user: "sam", dom: "sub.test", password: "sam-pw",
			setup: func(e *testEnv) { e.dir.setStatus(acctA, tenancy.StatusSuspended) },
			want:  403, wantReason: "Account Suspended"},
		{name: "registrar off", user: "alice", dom: "acme.test", password: "alice-pw",
			setup: func(e *testEnv) { e.dir.setService(acctA, tenancy.ServiceRegistrar, false) },
			want:  403, wantReason: "Service Disabled"},
		{name: "domain registration off", user: "alice", dom: "acme.test",
			password: "alice-pw", want: 403, wantReason: "Registration Disabled",
			setup: func(e *testEnv) {
				e.dir.addDomain(tenancy.Domain{SID: domA, AccountSID: acctA,
					DomainName: "acme.test"})
			}},
		{name: "secure domain over udp", user: "alice", dom: "secure.test",
			password: "alice-pw", want: 403, wantReason: "Secure Transport Required"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			if tc.setup != nil {
				tc.setup(e)
			}
			p := e.phone("udp", tc.user, tc.dom, tc.password)
			res := p.register(300)
			if int(res.StatusCode) != tc.want || res.Reason != tc.wantReason {
				t.Fatalf("got %d %q, want %d %q", res.StatusCode, res.Reason, tc.want,
					tc.wantReason)
			}
			if n, _ := e.loc.CountAccount(t.Context(), acctA); n != 0 {
				t.Fatalf("%d bindings stored after refusal", n)
			}
		})
	}
}

// TestRegisterUniformChallenge: a missing user gets the same challenge as
// an existing one, and every unknown domain the same refusal.
func TestRegisterUniformChallenge(t *testing.T) {
	e := newEnv(t)
	shape := func(user, dom string) string {
		p := e.phone("udp", user, dom, "x")
		res := p.do(p.registerReq(300))
		h := res.GetHeader("WWW-Authenticate")
		v := ""
		if h != nil {
			v = h.Value()[:strings.Index(h.Value(), "nonce=")]
		}
		return res.StartLine() + "|" + v
	}
	if a, b := shape("alice", "acme.test"), shape("nobody", "acme.test"); a != b {
		t.Fatalf("existing %q != missing %q", a, b)
	}
	if a, b := shape("x", "one.test"), shape("y", "two.test"); a != b ||
		!strings.Contains(a, "403") {
		t.Fatalf("unknown domains differ: %q %q", a, b)
	}
}

func TestRegisterUserMismatch(t *testing.T) {
	e := newEnv(t)
	p := e.phone("udp", "bob", "acme.test", "alice-pw")
	req := p.registerReq(300)
	res := p.do(req)
	p.user = "alice" // authenticate as alice for bob's AOR
	p.authorize(req, res, "", 1)
	if got := p.retry(req); got.StatusCode != 403 {
		t.Fatalf("got %d, want 403", got.StatusCode)
	}
	if v := metricValue(t, e.srv.m.authFailures.WithLabelValues("user_mismatch")); v != 1 {
		t.Fatalf("user_mismatch failures %v", v)
	}
}

// TestRegisterReplay: the same Authorization (same nonce-count) sent again
// is challenged, never accepted.
func TestRegisterReplay(t *testing.T) {
	e := newEnv(t)
	p := e.phone("udp", "alice", "acme.test", "alice-pw")
	req := p.registerReq(300)
	res := p.do(req)
	p.authorize(req, res, "MD5", 1)
	if got := p.retry(req); got.StatusCode != 200 {
		t.Fatalf("first: %d", got.StatusCode)
	}
	got := p.retry(req) // captured header, replayed with a higher CSeq
	if got.StatusCode != 401 || strings.Contains(got.GetHeader("WWW-Authenticate").Value(),
		"stale") {
		t.Fatalf("replay: %d, want fresh 401", got.StatusCode)
	}
	if v := metricValue(t, e.srv.m.authFailures.WithLabelValues("replay")); v != 1 {
		t.Fatalf("replay failures %v", v)
	}
	p.authorize(req, res, "MD5", 2) // same nonce, next count: fine
	if got := p.retry(req); got.StatusCode != 200 {
		t.Fatalf("nc=2: %d", got.StatusCode)
	}
}

// TestRegisterStaleNonce: an expired nonce with a correct response gets
// stale=true, and the retry with a fresh nonce succeeds.
func TestRegisterStaleNonce(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.NonceTTL = time.Second })
	p := e.phone("udp", "alice", "acme.test", "alice-pw")
	req := p.registerReq(300)
	res := p.do(req)
	time.Sleep(1100 * time.Millisecond)
	p.authorize(req, res, "", 1)
	got := p.retry(req)
	if got.StatusCode != 401 ||
		!strings.Contains(got.GetHeader("WWW-Authenticate").Value(), "stale=true") {
		t.Fatalf("expired nonce: %d, want 401 stale=true", got.StatusCode)
	}
	p.authorize(req, got, "", 1)
	if got := p.retry(req); got.StatusCode != 200 {
		t.Fatalf("after stale: %d", got.StatusCode)
	}
}

func TestRegisterBindings(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.MinExpires = 60 * time.Second })
	p := e.phone("udp", "alice", "acme.test", "alice-pw")
	send := func(mutate func(*sipmsg.Request), expires int) *sipmsg.Response {
		req := p.registerReq(expires)
		if mutate != nil {
			mutate(req)
		}
		res := p.do(req)
		if res.StatusCode == 401 {
			p.authorize(req, res, "", 1)
			res = p.retry(req)
		}
		return res
	}
	contacts := func() int {
		b, _ := e.srv.Contacts(t.Context(), "alice@acme.test")
		return len(b)
	}
	if res := send(nil, 10); res.StatusCode != 423 || res.GetHeader("Min-Expires") == nil ||
		res.GetHeader("Min-Expires").Value() != "60" {
		t.Fatalf("too brief: %d", res.StatusCode)
	}
	second := func(r *sipmsg.Request) {
		r.AppendHeader(sipmsg.NewHeader("Contact", "<sip:alice@192.0.2.7:5070>;expires=120"))
	}
	if res := send(second, 300); res.StatusCode != 200 || len(res.GetHeaders("Contact")) != 2 {
		t.Fatalf("two contacts: %d %v", res.StatusCode, res.GetHeaders("Contact"))
	}
	for _, h := range send(second, 300).GetHeaders("Contact") {
		if strings.Contains(h.Value(), "192.0.2.7") && !strings.Contains(h.Value(), "expires=120") {
			t.Fatalf("per-binding expires lost: %s", h.Value())
		}
	}
	query := func(r *sipmsg.Request) { r.RemoveHeader("Contact") }
	if res := send(query, -1); res.StatusCode != 200 || len(res.GetHeaders("Contact")) != 2 {
		t.Fatalf("query: %d %v", res.StatusCode, res.GetHeaders("Contact"))
	}
	star := func(r *sipmsg.Request) {
		r.RemoveHeader("Contact")
		r.AppendHeader(sipmsg.NewHeader("Contact", "*"))
	}
	if res := send(star, 300); res.StatusCode != 400 {
		t.Fatalf("* without Expires 0: %d", res.StatusCode)
	}
	if res := send(star, 0); res.StatusCode != 200 || contacts() != 0 {
		t.Fatalf("* Expires 0: %d, %d left", res.StatusCode, contacts())
	}
}

func TestRegisterLimit(t *testing.T) {
	e := newEnv(t)
	e.dir.setLimit(acctA, 1)
	e.phone("udp", "alice", "acme.test", "alice-pw").mustRegister()
	res := e.phone("udp", "bob", "acme.test", "bob-pw").register(300)
	if res.StatusCode != 403 || res.Reason != "Registration Limit Reached" {
		t.Fatalf("over limit: %d %s", res.StatusCode, res.Reason)
	}
}

func TestRegisterDraining(t *testing.T) {
	e := newEnv(t)
	e.srv.Drain()
	res := e.phone("udp", "alice", "acme.test", "alice-pw").register(300)
	if res.StatusCode != 503 || res.GetHeader("Retry-After") == nil {
		t.Fatalf("draining: %d", res.StatusCode)
	}
}

func TestDigestAlgorithmsOrder(t *testing.T) {
	e := newEnv(t, func(c *Config) {
		c.DigestAlgorithms = []digest.Algorithm{digest.MD5, digest.SHA256}
	})
	p := e.phone("udp", "alice", "acme.test", "alice-pw")
	res := p.do(p.registerReq(300))
	chals := res.GetHeaders("WWW-Authenticate")
	if len(chals) != 2 || !strings.Contains(chals[0].Value(), "MD5") {
		t.Fatalf("challenges %v: want MD5 first", chals)
	}
}

// TestRegisterExpiresCapped: an interval above MaxExpires is shortened.
func TestRegisterExpiresCapped(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.MaxExpires = 600 * time.Second })
	p := e.phone("udp", "alice", "acme.test", "alice-pw")
	res := p.register(7200)
	if res.StatusCode != 200 {
		t.Fatalf("register: %d", res.StatusCode)
	}
	c := res.GetHeader("Contact").Value()
	if !strings.Contains(c, "expires=600") && !strings.Contains(c, "expires=599") {
		t.Fatalf("contact %s: want expires capped at 600", c)
	}
}
