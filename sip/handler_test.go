package sip

import (
	"testing"

	sipmsg "github.com/emiago/sipgo/sip"
)

// TestMiscRequests covers OPTIONS keepalives, unknown methods and requests
// for dialogs that do not exist.
func TestMiscRequests(t *testing.T) {
	cases := []struct {
		name   string
		build  func(p *phone) *sipmsg.Request
		want   int
		header string
	}{
		{name: "options keepalive", want: 200, header: "Allow",
			build: func(p *phone) *sipmsg.Request {
				r := p.request(sipmsg.OPTIONS, "", "127.0.0.1")
				r.Recipient.User = ""
				return r
			}},
		{name: "unknown method", want: 405, header: "Allow",
			build: func(p *phone) *sipmsg.Request {
				return p.request(sipmsg.RequestMethod("PUBLISH"), "x", "acme.test")
			}},
		{name: "bye for no dialog", want: 481,
			build: func(p *phone) *sipmsg.Request {
				r := p.request(sipmsg.BYE, "bob", "acme.test")
				r.To().Params.Add("tag", "nosuchdialog")
				return r
			}},
		{name: "preloaded route without token", want: 481,
			build: func(p *phone) *sipmsg.Request {
				r := p.request(sipmsg.BYE, "bob", "acme.test")
				r.To().Params.Add("tag", "t")
				var u sipmsg.Uri
				sipmsg.ParseUri("sip:"+p.server+";transport=udp;lr", &u)
				r.PrependHeader(&sipmsg.RouteHeader{Address: u})
				return r
			}},
		{name: "forged route token", want: 403,
			build: func(p *phone) *sipmsg.Request {
				r := p.request(sipmsg.BYE, "bob", "acme.test")
				r.To().Params.Add("tag", "t")
				var u sipmsg.Uri
				sipmsg.ParseUri("sip:"+p.server+";transport=udp;lr;pb=Zm9v.AAAA", &u)
				r.PrependHeader(&sipmsg.RouteHeader{Address: u})
				return r
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			p := e.phone("udp", "alice", "acme.test", "alice-pw")
			req := tc.build(p)
			cid := sipmsg.CallIDHeader(sipmsg.GenerateTagN(10))
			req.AppendHeader(&cid)
			res := p.do(req)
			if int(res.StatusCode) != tc.want {
				t.Fatalf("got %d %s, want %d", res.StatusCode, res.Reason, tc.want)
			}
			if tc.header != "" && res.GetHeader(tc.header) == nil {
				t.Fatalf("response lacks %s", tc.header)
			}
		})
	}
}

// TestDomainIPACL: a device call from an address in the domain's access
// list needs no digest.
func TestDomainIPACL(t *testing.T) {
	e := newEnv(t)
	e.dir.allowDomain(domA, mustPrefix("127.0.0.1/32"))
	bob := e.phone("udp", "bob", "acme.test", "bob-pw")
	bob.mustRegister()
	alice := e.phone("udp", "alice", "acme.test", "")
	req := alice.request(sipmsg.INVITE, "bob", "acme.test")
	cid := sipmsg.CallIDHeader(sipmsg.GenerateTagN(10))
	req.AppendHeader(&cid)
	if res := alice.final(alice.send(req)); res == nil || res.StatusCode != 200 {
		t.Fatalf("ACL call: %v", res)
	}
}

// TestAuthExemptSource: a REGISTER from an auth-exempt network needs no
// digest; a merely trusted (guard-exempt) one still does.
func TestAuthExemptSource(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*Config)
		want   int
	}{
		{"auth exempt", func(c *Config) {
			c.AuthExemptSources = append(c.AuthExemptSources, mustPrefix("127.0.0.0/8"))
		}, 200},
		{"trusted only", func(c *Config) {
			c.TrustedSources = append(c.TrustedSources, mustPrefix("127.0.0.0/8"))
		}, 401},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tc.mutate)
			p := e.phone("udp", "alice", "acme.test", "")
			if res := p.do(p.registerReq(300)); int(res.StatusCode) != tc.want {
				t.Fatalf("got %d, want %d", res.StatusCode, tc.want)
			}
		})
	}
}
