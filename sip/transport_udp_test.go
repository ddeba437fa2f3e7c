package sip

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	sipmsg "github.com/emiago/sipgo/sip"
)

// TestUDPLargeResponse: a UDP request whose answer exceeds 1300 bytes (it
// repeats the request's 40 Via values) is answered over UDP in one
// datagram.
func TestUDPLargeResponse(t *testing.T) {
	e := newEnv(t)
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	local := c.LocalAddr().String()
	var vias strings.Builder
	vias.WriteString("Via: SIP/2.0/UDP " + local + ";branch=z9hG4bK-large;rport\r\n")
	for i := range 40 {
		fmt.Fprintf(&vias, "Via: SIP/2.0/UDP proxy-%02d.example.com:5060;branch=z9hG4bK-hop-%02d\r\n",
			i, i)
	}
	req := "OPTIONS sip:" + e.addr + " SIP/2.0\r\n" + vias.String() +
		"Max-Forwards: 70\r\nFrom: <sip:probe@127.0.0.1>;tag=big\r\nTo: <sip:" + e.addr + ">\r\n" +
		"Call-ID: large-response@test\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
	raddr, _ := net.ResolveUDPAddr("udp", e.addr)
	if _, err := c.WriteToUDP([]byte(req), raddr); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 65536)
	c.SetReadDeadline(time.Now().Add(3 * time.Second))
	n, err := c.Read(buf)
	if err != nil {
		t.Fatalf("no answer to a request whose answer is large: %v", err)
	}
	if code := statusCode(buf[:n]); code != 200 || n <= udpRequestLimit {
		t.Fatalf("answer %d of %d bytes, want 200 of more than %d", code, n, udpRequestLimit)
	}
}

// TestUDPRequestLimit: a request of more than 1300 bytes is not sent over
// UDP (RFC 3261 18.1.1), while the same request within the limit is.
func TestUDPRequestLimit(t *testing.T) {
	e := newEnv(t)
	bob := e.phone("udp", "bob", "acme.test", "bob-pw")
	bob.mustRegister()
	bs, err := e.srv.Contacts(t.Context(), "bob@acme.test")
	if err != nil || len(bs) != 1 {
		t.Fatalf("contacts %v %v", bs, err)
	}
	tests := []struct {
		name    string
		pad     int
		refused bool
	}{
		{"small", 100, false},
		{"over 1300 bytes", 1400, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := outboundInvite("bob")
			req.Contact().Address = e.srv.ContactURI("udp")
			req.AppendHeader(sipmsg.NewHeader("X-Pad", strings.Repeat("p", tt.pad)))
			tx, err := e.srv.SendToBinding(t.Context(), req, bs[0])
			if tt.refused {
				if !errors.Is(err, errUDPRequestTooLarge) {
					t.Fatalf("a %d-byte request over UDP: %v, want %v", len(req.String()), err,
						errUDPRequestTooLarge)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Terminate()
			if res := bob.final(tx); res == nil || res.StatusCode != 200 {
				t.Fatalf("answer %v", res)
			}
		})
	}
}

// TestRegisterAnswerOverUDPStaysSmall: with many bindings for one user,
// the 200 to a REGISTER over UDP stays within udpAnswerLimit and lists the
// registering device's own binding first, though the edge could send more.
func TestRegisterAnswerOverUDPStaysSmall(t *testing.T) {
	e := newEnv(t)
	var res *sipmsg.Response
	var last *phone
	for range 30 {
		last = e.phone("udp", "alice", "acme.test", "alice-pw")
		if res = last.register(300); res.StatusCode != 200 {
			t.Fatalf("register: %d", res.StatusCode)
		}
	}
	contacts := res.GetHeaders("Contact")
	if n := len(res.String()); n > udpAnswerLimit() || len(contacts) >= 30 {
		t.Fatalf("answer of %d bytes with %d bindings, want at most %d bytes", n,
			len(contacts), udpAnswerLimit())
	}
	own := last.registerReq(300).Contact().Address.String()
	if len(contacts) == 0 || !strings.Contains(contacts[0].Value(), own) {
		t.Errorf("first binding %v, want the device's own %s", contacts, own)
	}
}
