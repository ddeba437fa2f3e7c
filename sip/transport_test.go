package sip

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	sipmsg "github.com/emiago/sipgo/sip"
)

// selfSigned writes a certificate and key for 127.0.0.1 into dir.
func selfSigned(t *testing.T, dir string) (cert, key string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1),
		Subject:     pkix.Name{CommonName: "patchbay-test"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:   time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kd, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	cert, key = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	write := func(path, typ string, b []byte) {
		if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b}),
			0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(cert, "CERTIFICATE", der)
	write(key, "EC PRIVATE KEY", kd)

	return cert, key
}

// TestTLSSecureDomain: a secure domain accepts registrations over TLS only.
func TestTLSSecureDomain(t *testing.T) {
	cert, key := selfSigned(t, t.TempDir())
	e := newEnv(t, func(c *Config) {
		c.TLSListen, c.TLSCertFile, c.TLSKeyFile = "127.0.0.1:0", cert, key
	})
	tlsAddr := e.srv.Addr("tls").String()
	cases := []struct {
		transport, server string
		want              int
	}{
		{"tls", tlsAddr, 200},
		{"udp", e.addr, 403},
		{"tcp", e.addr, 403},
	}
	for _, tc := range cases {
		t.Run(tc.transport, func(t *testing.T) {
			p := newPhone(t, tc.transport, tc.server, "alice", "secure.test", "alice-pw")
			if res := p.register(300); int(res.StatusCode) != tc.want {
				t.Fatalf("got %d %s, want %d", res.StatusCode, res.Reason, tc.want)
			}
		})
	}
	b, err := e.srv.Contacts(t.Context(), "alice@secure.test")
	if err != nil || len(b) != 1 || b[0].Transport != "tls" {
		t.Fatalf("bindings %+v %v", b, err)
	}
}

func TestTLSConfigErrors(t *testing.T) {
	e := newEnv(t)
	s, err := NewServer(Config{Listen: "127.0.0.1:0", TLSListen: "127.0.0.1:0",
		TLSCertFile: "/nonexistent/cert.pem", TLSKeyFile: "/nonexistent/key.pem",
		Logger: testLogger()}, e.dir, e.loc)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Start(t.Context()); err == nil {
		t.Fatal("Start with a missing certificate succeeded")
	}
}

// TestCRLFKeepalive: a double-CRLF ping on a connection gets a CRLF pong
// (RFC 5626 section 4.4.1).
func TestCRLFKeepalive(t *testing.T) {
	e := newEnv(t)
	c, err := net.Dial("tcp", e.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	pong := make([]byte, 2)
	if _, err := io.ReadFull(c, pong); err != nil || string(pong) != "\r\n" {
		t.Fatalf("pong %q %v", pong, err)
	}
}

// TestOversizedDatagram: a datagram above MaxMessageBytes is dropped.
func TestOversizedDatagram(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.MaxMessageBytes = 1024 })
	p := e.phone("udp", "alice", "acme.test", "alice-pw")
	if res := p.do(p.registerReq(300)); res.StatusCode != 401 {
		t.Fatalf("normal datagram: %d", res.StatusCode)
	}
	req := p.registerReq(300)
	req.AppendHeader(sipmsg.NewHeader("X-Pad", strings.Repeat("x", 800)))
	if n := len(req.String()); n <= 1024 || n >= 1300 {
		t.Fatalf("padded request is %d bytes, want 1025..1299", n)
	}
	ctx, cancel := contextWithTimeout(t, 1200*time.Millisecond)
	defer cancel()
	if res, err := p.cli.Do(ctx, req); err == nil {
		t.Fatalf("oversized datagram answered: %d", res.StatusCode)
	}
}

// TestSendToBinding: call control's path to a registered device reaches it
// over the flow of its registration.
func TestSendToBinding(t *testing.T) {
	for _, tr := range []string{"udp", "tcp"} {
		t.Run(tr, func(t *testing.T) {
			e := newEnv(t)
			bob := e.phone(tr, "bob", "acme.test", "bob-pw")
			bob.mustRegister()
			bs, err := e.srv.Contacts(t.Context(), "Bob@ACME.test")
			if err != nil || len(bs) != 1 {
				t.Fatalf("contacts %v %v", bs, err)
			}
			req := outboundInvite("bob")
			req.Contact().Address = e.srv.ContactURI(tr)
			tx, err := e.srv.SendToBinding(t.Context(), req, bs[0])
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Terminate()
			if res := bob.final(tx); res == nil || res.StatusCode != 200 {
				t.Fatalf("answer %v", res)
			}
			bob.waitFor(sipmsg.INVITE, time.Second)
			foreign := bs[0]
			foreign.Transport, foreign.Node = "tcp", "node-9"
			_, err = e.srv.SendToBinding(t.Context(), outboundInvite("bob"), foreign)
			if !errors.Is(err, ErrForeignFlow) {
				t.Fatalf("sent over another node's flow: %v", err)
			}
		})
	}
}

// TestWebSocket: registration and a call over the WebSocket transport
// (RFC 7118).
func TestWebSocket(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.WSListen = "127.0.0.1:0" })
	ws := e.srv.Addr("ws").String()
	alice := newPhone(t, "ws", ws, "alice", "acme.test", "alice-pw")
	alice.mustRegister()
	bs, err := e.srv.Contacts(t.Context(), "alice@acme.test")
	if err != nil || len(bs) != 1 || bs[0].Transport != "ws" {
		t.Fatalf("bindings %+v %v", bs, err)
	}
	bob := e.phone("udp", "bob", "acme.test", "bob-pw")
	bob.mustRegister()
	_, tx := alice.invite("bob", "acme.test")
	if res := alice.final(tx); res == nil || res.StatusCode != 200 {
		t.Fatalf("call over ws: %v", res)
	}
}

// TestWildcardListen: on a wildcard address with PublicAddr set, calls
// between registered phones still flow (requests leave from the listener).
func TestWildcardListen(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Listen, c.PublicAddr = "0.0.0.0:0", "127.0.0.1" })
	_, port, _ := net.SplitHostPort(e.srv.Addr("udp").String())
	e.addr = net.JoinHostPort("127.0.0.1", port)
	alice := e.phone("udp", "alice", "acme.test", "alice-pw")
	bob := e.phone("udp", "bob", "acme.test", "bob-pw")
	alice.mustRegister()
	bob.mustRegister()
	inv, tx := alice.invite("bob", "acme.test")
	res := alice.final(tx)
	if res == nil || res.StatusCode != 200 {
		t.Fatalf("INVITE: %v", res)
	}
	alice.ack(inv, res)
	bob.waitFor(sipmsg.ACK, 2*time.Second)
	if n := bob.count(sipmsg.INVITE); n != 1 {
		t.Fatalf("bob got %d INVITEs", n)
	}
}
