package media

import (
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// testEngine starts an engine on 127.0.0.1 with a random 200-port range;
// pairs taken by other processes are skipped by the pool.
func testEngine(t testing.TB, cfg Config) *Engine {
	t.Helper()
	if cfg.PortMin == 0 {
		cfg.PortMin = 20000 + 2*rand.IntN(15000)
		cfg.PortMax = cfg.PortMin + 199
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.MediaTimeout == 0 {
		cfg.MediaTimeout = -1
	}
	e, err := NewEngine(cfg)
	if err != nil {
		t.Fatalf("NewEngine: %v", err)
	}
	t.Cleanup(func() { _ = e.Close() })

	return e
}

func testSession(t testing.TB, e *Engine, opts SessionOptions) *Session {
	t.Helper()
	s, err := e.NewSession(opts)
	if err != nil {
		t.Fatalf("NewSession: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })

	return s
}

// peer is a fake SIP endpoint's media socket on 127.0.0.1:0.
type peer struct {
	t    testing.TB
	conn *net.UDPConn
}

func newPeer(t testing.TB) *peer {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })

	return &peer{t: t, conn: c}
}

func (p *peer) port() int { return p.conn.LocalAddr().(*net.UDPAddr).Port }

func (p *peer) send(to netip.AddrPort, b []byte) {
	p.t.Helper()
	if _, err := p.conn.WriteToUDPAddrPort(b, to); err != nil {
		p.t.Fatalf("send: %v", err)
	}
}

// recv waits up to d for one datagram; ok is false on timeout.
func (p *peer) recv(d time.Duration) ([]byte, netip.AddrPort, bool) {
	buf := make([]byte, 2048)
	_ = p.conn.SetReadDeadline(time.Now().Add(d))
	n, from, err := p.conn.ReadFromUDPAddrPort(buf)
	if err != nil {
		return nil, netip.AddrPort{}, false
	}

	return buf[:n], from, true
}

// sdpOpts describes a test endpoint's SDP.
type sdpOpts struct {
	port   int
	proto  string
	dir    string
	crypto []string
	mux    bool
	addr   string
	extra  string
}

func offerSDP(o sdpOpts) []byte {
	if o.proto == "" {
		o.proto = "RTP/AVP"
	}
	if o.addr == "" {
		o.addr = "127.0.0.1"
	}
	typ := "IP4"
	if strings.Contains(o.addr, ":") {
		typ = "IP6"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "v=0\r\no=- 1 1 IN %s %s\r\ns=-\r\nc=IN %s %s\r\nt=0 0\r\n",
		typ, o.addr, typ, o.addr)
	fmt.Fprintf(&b, "m=audio %d %s 0 8 101\r\n", o.port, o.proto)
	b.WriteString("a=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n")
	b.WriteString("a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=ptime:20\r\n")
	if o.dir != "" {
		fmt.Fprintf(&b, "a=%s\r\n", o.dir)
	}
	if o.mux {
		b.WriteString("a=rtcp-mux\r\n")
	}
	for _, c := range o.crypto {
		fmt.Fprintf(&b, "a=crypto:%s\r\n", c)
	}
	b.WriteString(o.extra)

	return []byte(b.String())
}

// relayPort returns the port of the first m= line of body.
func relayPort(t testing.TB, body []byte) netip.AddrPort {
	t.Helper()
	sd, err := parseSDP(body)
	if err != nil {
		t.Fatalf("parse rewritten sdp: %v\n%s", err, body)
	}
	d := describe(sd, sd.MediaDescriptions[0], false)

	return netip.AddrPortFrom(d.addr, uint16(d.port))
}

// cryptoLines returns the a=crypto values of body.
func cryptoLines(t testing.TB, body []byte) []string {
	t.Helper()
	sd, err := parseSDP(body)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}

	return describe(sd, sd.MediaDescriptions[0], false).crypto
}

func rtpPacket(pt uint8, seq uint16, ts, ssrc uint32, payload []byte) []byte {
	b := make([]byte, rtpFixedLen+len(payload))
	putRTPHeader(b, false, pt, seq, ts, ssrc)
	copy(b[rtpFixedLen:], payload)

	return b
}

// relayCall sets up a plain relayed call between two peers and returns
// the relay addresses each peer must send to.
func relayCall(t testing.TB, s *Session, a, b *peer) (toA, toB netip.AddrPort) {
	t.Helper()
	offer, err := s.Offer(LegA, offerSDP(sdpOpts{port: a.port()}))
	if err != nil {
		t.Fatalf("Offer: %v", err)
	}
	answer, err := s.Answer(LegB, offerSDP(sdpOpts{port: b.port()}))
	if err != nil {
		t.Fatalf("Answer: %v", err)
	}

	return relayPort(t, answer), relayPort(t, offer)
}

func seqOf(b []byte) uint16 { return binary.BigEndian.Uint16(b[2:]) }

// sessAddrForTest is the relay address endpoint A sends to for leg l.
func (l *legConn) sessAddrForTest() netip.AddrPort {
	return netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(l.port))
}

// settledStats returns the session's stats once done reports them
// complete, or the last ones read after a second: counters are updated by
// the relay goroutines just after the packets they count are sent.
func settledStats(t testing.TB, s *Session, done func(Stats) bool) Stats {
	t.Helper()
	deadline := time.Now().Add(time.Second)
	st := s.Stats()
	for !done(st) && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
		st = s.Stats()
	}

	return st
}
