package sip

import (
	"strings"
	"testing"

	sipmsg "github.com/emiago/sipgo/sip"
)

// TestConsumeCredentials: the credentials of Patchbay's realm, under either
// header name and in any spelling of it, are removed before forwarding;
// another realm's stay.
func TestConsumeCredentials(t *testing.T) {
	msg := "INVITE sip:bob@acme.test SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1\r\n" +
		"From: <sip:alice@acme.test>;tag=1\r\nTo: <sip:bob@acme.test>\r\n" +
		"Call-ID: c1\r\nCSeq: 2 INVITE\r\n" +
		`Proxy-Authorization: Digest username="alice", realm="patchbay", nonce="n", ` +
		`uri="sip:bob@acme.test", response="r"` + "\r\n" +
		`Proxy-Authorization: Digest username="alice", realm="carrier.example", nonce="m", ` +
		`uri="sip:bob@acme.test", response="s"` + "\r\n" +
		`proxy-authorization: Digest username="alice", realm="patchbay", nonce="o", ` +
		`uri="sip:bob@acme.test", response="q"` + "\r\n" +
		`Authorization: Digest username="alice", realm="patchbay", nonce="n", ` +
		`uri="sip:bob@acme.test", response="r"` + "\r\n" +
		"Content-Length: 0\r\n\r\n"
	m, err := sipmsg.NewParser().ParseSIP([]byte(msg))
	if err != nil {
		t.Fatal(err)
	}
	req := m.(*sipmsg.Request)
	consumeCredentials(req)
	if h := req.GetHeaders("Authorization"); len(h) != 0 {
		t.Errorf("Authorization of our realm kept: %v", h)
	}
	left := req.GetHeaders("Proxy-Authorization")
	if len(left) != 1 || !strings.Contains(left[0].Value(), `realm="carrier.example"`) {
		t.Errorf("Proxy-Authorization left: %v, want only the carrier's", left)
	}
}
