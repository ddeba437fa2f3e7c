package sip

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	sipmsg "github.com/emiago/sipgo/sip"
)

// checkMsg builds a request from its start line and headers; every line
// but the start line is a header, and "Call-ID", "From", "To", "CSeq" and
// "Via" are added unless the lines give them (a "-Name" line omits one).
func checkMsg(start string, lines ...string) string {
	method, _, _ := strings.Cut(start, " ")
	defaults := []string{
		"Via: SIP/2.0/UDP 127.0.0.1:5070;rport;branch=z9hG4bK" + sipmsg.GenerateTagN(10),
		"From: <sip:alice@example.com>;tag=1928",
		"To: <sip:user@example.com>",
		"Call-ID: " + sipmsg.GenerateTagN(12),
		"CSeq: 1 " + method,
		"Max-Forwards: 70",
	}
	var out []string
	for _, d := range defaults {
		name, _, _ := strings.Cut(d, ":")
		if !hasLine(lines, name) {
			out = append(out, d)
		}
	}
	for _, l := range lines {
		if !strings.HasPrefix(l, "-") {
			out = append(out, l)
		}
	}

	return start + "\r\n" + strings.Join(out, "\r\n") + "\r\nContent-Length: 0\r\n\r\n"
}

func hasLine(lines []string, name string) bool {
	for _, l := range lines {
		if strings.HasPrefix(l, name+":") || l == "-"+name {
			return true
		}
	}

	return false
}

// parseRequest parses a request the way the transport does.
func parseRequest(t *testing.T, raw string) *sipmsg.Request {
	t.Helper()
	msg, err := sipmsg.NewParser().ParseSIP([]byte(raw))
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, raw)
	}
	req, ok := msg.(*sipmsg.Request)
	if !ok {
		t.Fatalf("not a request: %s", raw)
	}

	return req
}

// TestInspectRequest pins each refusal of the request check, and that
// ordinary traffic passes (code 0).
func TestInspectRequest(t *testing.T) {
	inv, reg, opt := "INVITE sip:bob@example.com SIP/2.0", "REGISTER sip:example.com SIP/2.0",
		"OPTIONS sip:user@example.com SIP/2.0"
	cases := []struct {
		name   string
		raw    string
		code   int
		reason string
		header string // "Name: value" the answer must carry
	}{
		{"plain options", checkMsg(opt), 0, "", ""},
		{"plain register", checkMsg(reg), 0, "", ""},
		{"plain invite", checkMsg(inv), 0, "", ""},
		{"lower-case version", checkMsg("OPTIONS sip:user@example.com sip/2.0"), 0, "", ""},
		{"version 7.0", checkMsg("OPTIONS sip:user@example.com SIP/7.0"), 505,
			"Version Not Supported", ""},
		{"version 2.1", checkMsg("REGISTER sip:example.com SIP/2.1"), 505,
			"Version Not Supported", ""},
		{"unknown method", checkMsg("NEWMETHOD sip:user@example.com SIP/2.0"), 501,
			"Not Implemented", "Allow: " + allowMethods},
		{"known method not allowed", checkMsg("PUBLISH sip:user@example.com SIP/2.0"), 0,
			"", ""},
		{"unknown method in dialog", checkMsg("NEWMETHOD sip:user@example.com SIP/2.0",
			"To: <sip:user@example.com>;tag=99"), 0, "", ""},
		// sipgo upper-cases the request-line method but not the CSeq one,
		// so "invite" (an unknown method, RFC 3261 7.1) is caught as a
		// mismatch instead of answered 501.
		{"lower-case method", checkMsg("invite sip:bob@example.com SIP/2.0"), 400,
			"CSeq Method Does Not Match", ""},
		{"cseq mismatch", checkMsg(opt, "CSeq: 8 INVITE"), 400,
			"CSeq Method Does Not Match", ""},
		{"unknown method, cseq mismatch", checkMsg("NEWMETHOD sip:u@example.com SIP/2.0",
			"CSeq: 8 INVITE"), 501, "Not Implemented", ""},
		{"duplicate call-id", checkMsg(inv, "Call-ID: a", "Call-ID: b"), 400,
			"Duplicate Call-ID", ""},
		{"duplicate compact call-id", checkMsg(inv, "Call-ID: a", "i: b"), 400,
			"Duplicate Call-ID", ""},
		{"duplicate from", checkMsg(inv, "From: <sip:a@example.com>;tag=1",
			"From: <sip:b@example.com>;tag=2"), 400, "Duplicate From", ""},
		{"duplicate to", checkMsg(inv, "To: <sip:a@example.com>",
			"To: <sip:b@example.com>"), 400, "Duplicate To", ""},
		{"duplicate cseq", checkMsg(inv, "CSeq: 1 INVITE", "CSeq: 2 INVITE"), 400,
			"Duplicate CSeq", ""},
		{"duplicate max-forwards", checkMsg(inv, "Max-Forwards: 70", "Max-Forwards: 5"),
			400, "Duplicate Max-Forwards", ""},
		{"no max-forwards", checkMsg(inv, "-Max-Forwards"), 0, "", ""},
		{"two via", checkMsg(inv, "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKa",
			"Via: SIP/2.0/UDP 192.0.2.2;branch=z9hG4bKb"), 0, "", ""},
		{"missing call-id", checkMsg(inv, "-Call-ID"), 400, "Missing Call-ID", ""},
		{"missing from", checkMsg(inv, "-From"), 400, "Missing From", ""},
		{"unknown scheme", checkMsg("OPTIONS nobodyKnows:opaque SIP/2.0"), 416,
			"Unsupported URI Scheme", ""},
		{"tel scheme", checkMsg("INVITE tel:+15551234567 SIP/2.0"), 416,
			"Unsupported URI Scheme", ""},
		{"sips scheme", checkMsg("OPTIONS sips:user@example.com SIP/2.0"), 0, "", ""},
		{"require on options", checkMsg(opt, "Require: foo, bar"), 420, "Bad Extension",
			"Unsupported: foo, bar"},
		{"require on register", checkMsg(reg, "Require: path"), 420, "Bad Extension",
			"Unsupported: path"},
		{"require and proxy-require", checkMsg(opt, "Require: a", "Proxy-Require: b, a"),
			420, "Bad Extension", "Unsupported: a, b"},
		{"require on invite is end to end", checkMsg(inv, "Require: 100rel"), 0, "", ""},
		{"proxy-require on invite", checkMsg(inv, "Proxy-Require: sec-agree"), 420,
			"Bad Extension", "Unsupported: sec-agree"},
		{"empty require", checkMsg(opt, "Require: ,"), 0, "", ""},
		{"proxy-require on cancel", checkMsg("CANCEL sip:bob@example.com SIP/2.0",
			"Proxy-Require: x"), 0, "", ""},
		{"options to user, max-forwards 0", checkMsg(opt, "Max-Forwards: 0"), 483,
			"Too Many Hops", ""},
		{"options to edge, max-forwards 0", checkMsg("OPTIONS sip:example.com SIP/2.0",
			"Max-Forwards: 0"), 0, "", ""},
		{"register, max-forwards 0", checkMsg(reg, "Max-Forwards: 0"), 0, "", ""},
		{"ack is never refused", checkMsg("ACK urn:x:y SIP/2.0", "Require: x",
			"CSeq: 1 INVITE"), 0, "", ""},
		{"options in dialog, max-forwards 0", checkMsg(opt, "Max-Forwards: 0",
			"To: <sip:user@example.com>;tag=7"), 0, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			extra, err := inspectRequest(parseRequest(t, tc.raw))
			if tc.code == 0 {
				if err != nil {
					t.Fatalf("refused a request that should pass: %v", err)
				}
				return
			}
			code, reason := statusOf(err)
			if err == nil || code != tc.code || reason != tc.reason {
				t.Fatalf("got %v, want %d %s", err, tc.code, tc.reason)
			}
			if tc.header != "" && !carries(extra, tc.header) {
				t.Fatalf("answer headers %v lack %q", extra, tc.header)
			}
		})
	}
}

func carries(hs []sipmsg.Header, want string) bool {
	for _, h := range hs {
		if h.Name()+": "+h.Value() == want {
			return true
		}
	}

	return false
}

// TestInspectTortureValid: the check never refuses a torture message the
// RFCs call well-formed with a status the index does not expect of it.
func TestInspectTortureValid(t *testing.T) {
	for _, c := range loadTorture(t) {
		if c.response {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			msg, err := sipmsg.NewParser().ParseSIP(c.data)
			req, ok := msg.(*sipmsg.Request)
			if err != nil || !ok {
				t.Skipf("sipgo does not parse it as a request (%v)", err)
			}
			_, err = inspectRequest(req)
			if err == nil {
				return
			}
			code, _ := statusOf(err)
			if jerr := c.judge([]int{code}, false, false); jerr != nil {
				t.Errorf("check answers %v: %v", err, jerr)
			}
			if c.class == "valid" && code == 400 {
				t.Errorf("a valid message refused: %v", err)
			}
		})
	}
}

// udpExchange sends raw, a request whose top Via is rewritten to the
// client socket, to the server and returns its first final response.
func udpExchange(t *testing.T, addr, raw string) *sipmsg.Response {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	raw = strings.Replace(raw, "127.0.0.1:5070", c.LocalAddr().String(), 1)
	srv, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.WriteToUDP([]byte(raw), srv); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 65536)
	for {
		c.SetReadDeadline(time.Now().Add(3 * time.Second))
		n, err := c.Read(buf)
		if err != nil {
			t.Fatalf("no final answer: %v", err)
		}
		msg, err := sipmsg.NewParser().ParseSIP(buf[:n])
		if err != nil {
			t.Fatalf("unparsable answer: %v\n%s", err, buf[:n])
		}
		if res, ok := msg.(*sipmsg.Response); ok && res.StatusCode >= 200 {
			return res
		}
	}
}

// TestRequestCheckServer sends refused requests to a real server over UDP
// and checks the whole answer: status line, SIP/2.0, the headers the
// status requires, and the request metric.
func TestRequestCheckServer(t *testing.T) {
	e := newEnv(t)
	cases := []struct {
		name, raw, method string
		code              int
		header            string
	}{
		{"505", checkMsg("OPTIONS sip:user@acme.test SIP/7.0"), "OPTIONS", 505, ""},
		{"501", checkMsg("NEWMETHOD sip:user@acme.test SIP/2.0"), "other", 501,
			"Allow: " + allowMethods},
		{"416", checkMsg("OPTIONS urn:service:sos SIP/2.0"), "OPTIONS", 416, ""},
		{"420", checkMsg("OPTIONS sip:user@acme.test SIP/2.0", "Require: x, y",
			"Proxy-Require: z"), "OPTIONS", 420, "Unsupported: x, y, z"},
		{"483", checkMsg("OPTIONS sip:user@acme.test SIP/2.0", "Max-Forwards: 0"),
			"OPTIONS", 483, ""},
		{"400 duplicate", checkMsg("INVITE sip:bob@acme.test SIP/2.0", "To: <sip:a@acme.test>",
			"To: <sip:b@acme.test>"), "INVITE", 400, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			class := fmt.Sprintf("%dxx", tc.code/100)
			counter := e.srv.m.requests.WithLabelValues(tc.method, class)
			before := metricValue(t, counter)
			res := udpExchange(t, e.addr, tc.raw)
			if int(res.StatusCode) != tc.code || res.SipVersion != "SIP/2.0" {
				t.Fatalf("got %s %d %s, want SIP/2.0 %d", res.SipVersion, res.StatusCode,
					res.Reason, tc.code)
			}
			name, value, _ := strings.Cut(tc.header, ": ")
			if h := res.GetHeader(name); tc.header != "" && (h == nil || h.Value() != value) {
				t.Fatalf("the %d lacks %q:\n%s", tc.code, tc.header, res)
			}
			if res.CallID() == nil || res.CSeq() == nil || res.Via() == nil {
				t.Fatalf("the answer lacks Via, Call-ID or CSeq:\n%s", res)
			}
			if got := metricValue(t, counter); got != before+1 {
				t.Fatalf("requests_total{%s,%s} went %v -> %v", tc.method, class, before, got)
			}
		})
	}
}

// FuzzInspectRequest runs the request check over the torture messages and
// their mutations: no panic, only the statuses the check is documented to
// answer, and the headers each requires.
func FuzzInspectRequest(f *testing.F) {
	for _, c := range loadTorture(f) {
		f.Add(c.data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		msg, err := sipmsg.NewParser().ParseSIP(data)
		req, ok := msg.(*sipmsg.Request)
		if err != nil || !ok {
			return
		}
		extra, err := inspectRequest(req)
		if err == nil {
			return
		}
		code, reason := statusOf(err)
		want := map[int]string{501: "Allow", 420: "Unsupported"}
		switch code {
		case 400, 416, 483, 505:
		case 501, 420:
			if len(extra) != 1 || extra[0].Name() != want[code] {
				t.Fatalf("%d without %s: %v", code, want[code], extra)
			}
		default:
			t.Fatalf("unexpected status %d %s", code, reason)
		}
		if req.IsAck() || (req.IsCancel() && (code == 420 || code == 483)) {
			t.Fatalf("%s refused with %d", req.Method, code)
		}
	})
}

// BenchmarkInspectRequest measures the check on a typical REGISTER, the
// edge's most frequent request.
func BenchmarkInspectRequest(b *testing.B) {
	raw := checkMsg("REGISTER sip:example.com SIP/2.0",
		"Contact: <sip:alice@192.0.2.1:5060>;expires=300", "Supported: path, outbound",
		"Authorization: Digest username=\"alice\", realm=\"patchbay\", nonce=\"n\", "+
			"uri=\"sip:example.com\", response=\"r\"")
	msg, err := sipmsg.NewParser().ParseSIP([]byte(raw))
	if err != nil {
		b.Fatal(err)
	}
	req := msg.(*sipmsg.Request)
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		if _, err := inspectRequest(req); err != nil {
			b.Fatal(err)
		}
	}
}

// TestForeignAuthScheme: credentials of another scheme than Digest draw a
// fresh challenge (RFC 4475 3.3.7), counted as reason "scheme".
func TestForeignAuthScheme(t *testing.T) {
	cases := []struct {
		name, header, creds, challenge string
		method                         sipmsg.RequestMethod
		want                           int
	}{
		{"register basic", "Authorization", "Basic YWxpY2U6YWxpY2UtcHc=", "WWW-Authenticate",
			sipmsg.REGISTER, 401},
		{"register unknown", "Authorization", "NoOneKnowsThisScheme x=y", "WWW-Authenticate",
			sipmsg.REGISTER, 401},
		{"invite basic", "Proxy-Authorization", "Basic YWxpY2U6YWxpY2UtcHc=",
			"Proxy-Authenticate", sipmsg.INVITE, 407},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			p := e.phone("udp", "alice", "acme.test", "alice-pw")
			req := p.registerReq(300)
			if tc.method == sipmsg.INVITE {
				req = p.request(sipmsg.INVITE, "bob", "acme.test")
				cid := sipmsg.CallIDHeader(sipmsg.GenerateTagN(10))
				req.AppendHeader(&cid)
			}
			req.AppendHeader(sipmsg.NewHeader(tc.header, tc.creds))
			counter := e.srv.m.authFailures.WithLabelValues("scheme")
			res := p.final(p.send(req))
			if res == nil || int(res.StatusCode) != tc.want {
				t.Fatalf("got %v, want %d", res, tc.want)
			}
			h := res.GetHeader(tc.challenge)
			if h == nil || !strings.HasPrefix(h.Value(), "Digest ") {
				t.Fatalf("the %d carries no Digest %s:\n%s", tc.want, tc.challenge, res)
			}
			if got := metricValue(t, counter); got != 1 {
				t.Fatalf("auth_failures_total{reason=scheme} = %v, want 1", got)
			}
		})
	}
}
