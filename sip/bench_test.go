package sip

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"testing"
	"time"

	sipmsg "github.com/emiago/sipgo/sip"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/patchbay/patchbay/sip/internal/keyedmac"
	"github.com/patchbay/patchbay/sip/location"
	"github.com/patchbay/patchbay/tenancy"
)

func md5hex(s string) string {
	h := md5.Sum([]byte(s))
	return hex.EncodeToString(h[:])
}

// digestRegister builds a REGISTER of user answering nonce with count nc.
func digestRegister(user, nonce, opaque string, cseq, nc int) []byte {
	uri := "sip:acme.test"
	ha1 := md5hex(user + ":" + tenancy.Realm + ":" + user + "-pw")
	ha2 := md5hex("REGISTER:" + uri)
	ncs := fmt.Sprintf("%08x", nc)
	resp := md5hex(ha1 + ":" + nonce + ":" + ncs + ":c0ffee:auth:" + ha2)
	return []byte("REGISTER " + uri + " SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK" + strconv.Itoa(cseq) + ";rport\r\n" +
		"From: <sip:" + user + "@acme.test>;tag=1\r\nTo: <sip:" + user + "@acme.test>\r\n" +
		"Call-ID: bench-" + user + "\r\nCSeq: " + strconv.Itoa(cseq) + " REGISTER\r\n" +
		"Contact: <sip:" + user + "@127.0.0.1:5070>;expires=300\r\n" +
		`Authorization: Digest username="` + user + `", realm="patchbay", nonce="` + nonce +
		`", uri="` + uri + `", response="` + resp + `", algorithm=MD5, qop=auth, nc=` + ncs +
		`, cnonce="c0ffee", opaque="` + opaque + `"` + "\r\nContent-Length: 0\r\n\r\n")
}

// BenchmarkRegisterDigest measures the registrar path of one authenticated
// REGISTER (parse, who-is-calling, digest verify, location update, 200),
// without sockets.
func BenchmarkRegisterDigest(b *testing.B) {
	loc := location.NewMemory(nil)
	defer loc.Close()
	s, err := NewServer(Config{Listen: "127.0.0.1:0", Logger: testLogger(),
		Registerer: prometheus.NewRegistry()}, newDirectory(), loc)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	chal := s.auth.Challenges(tenancy.Realm, false)[1]
	nonce, opaque := param(chal, "nonce"), param(chal, "opaque")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		raw := digestRegister("alice", nonce, opaque, i+1, i+1)
		msg, err := sipmsg.ParseMessage(raw)
		if err != nil {
			b.Fatal(err)
		}
		req := msg.(*sipmsg.Request)
		req.SetSource("127.0.0.1:5070")
		req.SetTransport("UDP")
		tx := &recordTx{done: make(chan struct{})}
		s.dispatch(req, tx)
		if len(tx.codes) != 1 || tx.codes[0] != 200 {
			b.Fatalf("answer %v", tx.codes)
		}
	}
}

// param extracts a quoted parameter from a challenge.
func param(chal, name string) string {
	i := 0
	for ; i+len(name)+2 < len(chal); i++ {
		if chal[i:i+len(name)+2] == name+`="` {
			break
		}
	}
	rest := chal[i+len(name)+2:]
	for j := range rest {
		if rest[j] == '"' {
			return rest[:j]
		}
	}
	return rest
}

// BenchmarkRegisterUDP measures authenticated REGISTERs end to end over a
// real UDP socket on 127.0.0.1, one outstanding request at a time.
func BenchmarkRegisterUDP(b *testing.B) {
	loc := location.NewMemory(nil)
	defer loc.Close()
	s, err := NewServer(Config{Listen: "127.0.0.1:0", Logger: testLogger(),
		Registerer:     prometheus.NewRegistry(),
		TrustedSources: []netip.Prefix{mustPrefix("127.0.0.0/8")}}, newDirectory(), loc)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if err := s.Start(b.Context()); err != nil {
		b.Fatal(err)
	}
	c, err := net.DialUDP("udp", nil, s.Addr("udp").(*net.UDPAddr))
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	chal := s.auth.Challenges(tenancy.Realm, false)[1]
	nonce, opaque := param(chal, "nonce"), param(chal, "opaque")
	buf := make([]byte, 4096)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		raw := digestRegister("alice", nonce, opaque, i+1, i+1)
		b.SetBytes(int64(len(raw)))
		if _, err := c.Write(raw); err != nil {
			b.Fatal(err)
		}
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		n, err := c.Read(buf)
		if err != nil {
			b.Fatal(err)
		}
		if string(buf[8:11]) != "200" {
			b.Fatalf("answer %q", buf[:n])
		}
	}
}

func BenchmarkParseE164(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		ParseE164("+1-415-555-0100")
	}
}

func BenchmarkFlowToken(b *testing.B) {
	s := &Server{rrMAC: keyedmac.New(make([]byte, 32))}
	a := flow{"udp", netip.MustParseAddrPort("127.0.0.1:5070")}
	c := flow{"tcp", netip.MustParseAddrPort("127.0.0.1:5080")}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, _, ok := s.parseFlowToken(s.flowToken(a, c)); !ok {
			b.Fatal("token does not verify")
		}
	}
}

// BenchmarkProxyCall measures one whole call through the proxy over UDP on
// 127.0.0.1, one at a time: INVITE (challenged, answered with digest),
// 180, 200, ACK and BYE, between two registered test phones.
func BenchmarkProxyCall(b *testing.B) {
	e := newEnv(b, func(c *Config) {
		c.TrustedSources = []netip.Prefix{mustPrefix("127.0.0.0/8")}
	})
	alice := e.phone("udp", "alice", "acme.test", "alice-pw")
	bob := e.phone("udp", "bob", "acme.test", "bob-pw")
	alice.mustRegister()
	bob.mustRegister()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		inv, tx := alice.invite("bob", "acme.test")
		res := alice.final(tx)
		if res == nil || res.StatusCode != 200 {
			b.Fatalf("INVITE: %v", res)
		}
		alice.ack(inv, res)
		if r := alice.final(alice.send(alice.inDialog(sipmsg.BYE, inv, res))); r == nil ||
			r.StatusCode != 200 {
			b.Fatalf("BYE: %v", r)
		}
	}
}
