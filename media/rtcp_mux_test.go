package media

import (
	"bytes"
	"errors"
	"net"
	"net/netip"
	"os"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// openFDs counts the process's open file descriptors.
func openFDs(t testing.TB) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatalf("open files: %v", err)
	}

	return len(ents)
}

// readLoops counts the goroutines running a leg's socket reader.
func readLoops() int {
	buf := make([]byte, 1<<20)
	n := runtime.Stack(buf, true)

	return strings.Count(string(buf[:n]), "(*legConn).readLoop(")
}

// socketsForTest counts the sockets the session's open legs hold.
func (s *Session) socketsForTest() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, str := range s.streams {
		for _, l := range str.legsOrNil() {
			if l.closed.Load() {
				continue
			}
			n++
			if l.rtcp.Load() != nil {
				n++
			}
		}
	}

	return n
}

// wantSockets checks that the session holds want sockets, that the
// process holds want more open files than base, and that one reader
// runs per socket.
func wantSockets(t *testing.T, s *Session, base, want int, when string) {
	t.Helper()
	if got := s.socketsForTest(); got != want {
		t.Errorf("%s: session holds %d sockets, want %d", when, got, want)
	}
	if got := openFDs(t) - base; got != want {
		t.Errorf("%s: %d more open files, want %d", when, got, want)
	}
	// A reader just started may not have reached its loop yet.
	got := readLoops()
	for deadline := time.Now().Add(time.Second); got != want && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
		got = readLoops()
	}
	if got != want {
		t.Errorf("%s: %d socket readers, want %d", when, got, want)
	}
}

// muxExtra is the SDP tail of an endpoint whose RTCP goes to p.
func muxExtra(p *peer) string { return "a=rtcp:" + itoa(p.port()) + "\r\n" }

func TestRTCPMuxSocketsPerLeg(t *testing.T) {
	tests := []struct {
		name             string
		aMux, bMux       bool
		offered, settled int
	}{
		{"both mux", true, true, 3, 2},
		{"a mux, b declines", true, false, 3, 3},
		{"b would, a did not offer", false, true, 4, 4},
		{"no mux", false, false, 4, 4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := testEngine(t, Config{})
			a, b := newPeer(t), newPeer(t)
			base := openFDs(t)
			s := testSession(t, e, SessionOptions{})
			if _, err := s.Offer(LegA, offerSDP(sdpOpts{port: a.port(),
				mux: tc.aMux})); err != nil {
				t.Fatal(err)
			}
			wantSockets(t, s, base, tc.offered, "after the offer")
			if _, err := s.Answer(LegB, offerSDP(sdpOpts{port: b.port(),
				mux: tc.bMux})); err != nil {
				t.Fatal(err)
			}
			wantSockets(t, s, base, tc.settled, "after the answer")
			_ = s.Close()
			wantSockets(t, s, base, 0, "after close")
		})
	}
}

// TestRTCPMuxRelayedOnOneSocket: with rtcp-mux on both legs RTP and RTCP
// share each leg's one socket, both ways.
func TestRTCPMuxRelayedOnOneSocket(t *testing.T) {
	_, a, b, offer, answer := muxedSession(t)
	if !bytes.Contains(answer, []byte("a=rtcp-mux")) || bytes.Contains(answer, []byte("a=rtcp:")) {
		t.Fatalf("answer to A should carry rtcp-mux and no a=rtcp:\n%s", answer)
	}
	toA, toB := relayPort(t, answer), relayPort(t, offer)
	checkMuxedPath(t, a, b, toA, toB)
}

// checkMuxedPath sends RTP and RTCP each way between a and b through the
// relay addresses toA and toB, all on the RTP ports.
func checkMuxedPath(t *testing.T, a, b *peer, toA, toB netip.AddrPort) {
	t.Helper()
	rtp := rtpPacket(0, 1, 0, 1, []byte("rtp"))
	a.send(toA, rtp)
	if got, _, ok := b.recv(time.Second); !ok || !bytes.Equal(got, rtp) {
		t.Fatal("RTP from A did not reach B")
	}
	sr := senderReport(1, 0x01020304)
	a.send(toA, sr)
	if got, from, ok := b.recv(time.Second); !ok || !bytes.Equal(got, sr) || from != toB {
		t.Fatalf("muxed RTCP from A did not reach B from %v (got from %v)", toB, from)
	}
	b.send(toB, rtpPacket(0, 1, 0, 2, []byte("rtp")))
	if _, _, ok := a.recv(time.Second); !ok {
		t.Fatal("RTP from B did not reach A")
	}
	rr := receiverReport(2, 1, 0x01020304, 0)
	b.send(toB, rr)
	if got, from, ok := a.recv(time.Second); !ok || !bytes.Equal(got, rr) || from != toA {
		t.Fatalf("muxed RTCP from B did not reach A from %v (got from %v)", toA, from)
	}
}

// TestRTCPMuxDroppedByReoffer: a re-offer without rtcp-mux binds port+1
// again on both legs and RTCP flows there; a later re-offer with mux
// closes them again.
func TestRTCPMuxDroppedByReoffer(t *testing.T) {
	e := testEngine(t, Config{})
	a, aRTCP, b, bRTCP := newPeer(t), newPeer(t), newPeer(t), newPeer(t)
	base := openFDs(t)
	s := testSession(t, e, SessionOptions{})
	if _, err := s.Offer(LegA, offerSDP(sdpOpts{port: a.port(), mux: true})); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Answer(LegB, offerSDP(sdpOpts{port: b.port(), mux: true})); err != nil {
		t.Fatal(err)
	}
	wantSockets(t, s, base, 2, "muxed call")

	offer, err := s.Offer(LegA, offerSDP(sdpOpts{port: a.port(), extra: muxExtra(aRTCP)}))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(offer, []byte("a=rtcp-mux")) {
		t.Fatalf("re-offer to B still offers rtcp-mux:\n%s", offer)
	}
	wantSockets(t, s, base, 4, "after the re-offer without mux")
	answer, err := s.Answer(LegB, offerSDP(sdpOpts{port: b.port(), extra: muxExtra(bRTCP)}))
	if err != nil {
		t.Fatal(err)
	}
	wantSockets(t, s, base, 4, "after its answer")
	toA, toB := relayPort(t, answer), relayPort(t, offer)
	toARTCP := netip.AddrPortFrom(toA.Addr(), toA.Port()+1)
	toBRTCP := netip.AddrPortFrom(toB.Addr(), toB.Port()+1)
	sr := senderReport(1, 0x01020304)
	aRTCP.send(toARTCP, sr)
	if got, from, ok := bRTCP.recv(time.Second); !ok || !bytes.Equal(got, sr) || from != toBRTCP {
		t.Fatalf("RTCP from A's port did not reach B's RTCP port from %v (from %v)", toBRTCP, from)
	}
	rr := receiverReport(2, 1, 0x01020304, 0)
	bRTCP.send(toBRTCP, rr)
	if got, from, ok := aRTCP.recv(time.Second); !ok || !bytes.Equal(got, rr) || from != toARTCP {
		t.Fatalf("RTCP from B did not reach A's RTCP port from %v (from %v)", toARTCP, from)
	}

	// B turns rtcp-mux back on in its own re-offer; A accepts it.
	offer, err = s.Offer(LegB, offerSDP(sdpOpts{port: b.port(), mux: true}))
	if err != nil {
		t.Fatal(err)
	}
	answer, err = s.Answer(LegA, offerSDP(sdpOpts{port: a.port(), mux: true}))
	if err != nil {
		t.Fatal(err)
	}
	wantSockets(t, s, base, 2, "after mux is negotiated again")
	checkMuxedPath(t, a, b, relayPort(t, offer), relayPort(t, answer))
	_ = s.Close()
	wantSockets(t, s, base, 0, "after close")
}

// TestRTCPMuxRebindRefused: when another socket took a muxed leg's
// port+1, an offer or answer dropping rtcp-mux fails with ErrNoPorts and
// the call keeps relaying as negotiated before.
func TestRTCPMuxRebindRefused(t *testing.T) {
	s, a, b, offer, answer := muxedSession(t)
	toA, toB := relayPort(t, answer), relayPort(t, offer)
	squat := func(port uint16) {
		c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(
			netip.AddrPortFrom(toA.Addr(), port+1)))
		if err != nil {
			t.Fatalf("take port %d: %v", port+1, err)
		}
		t.Cleanup(func() { _ = c.Close() })
	}
	squat(toA.Port())
	_, err := s.Offer(LegA, offerSDP(sdpOpts{port: a.port()}))
	if !errors.Is(err, ErrNoPorts) || !errors.Is(err, syscall.EADDRINUSE) {
		t.Fatalf("re-offer without mux, port+1 taken: %v, want ErrNoPorts and EADDRINUSE", err)
	}
	checkMuxedPath(t, a, b, toA, toB)

	squat(toB.Port())
	if _, err := s.Offer(LegA, offerSDP(sdpOpts{port: a.port(), mux: true})); err != nil {
		t.Fatal(err)
	}
	_, err = s.Answer(LegB, offerSDP(sdpOpts{port: b.port()}))
	if !errors.Is(err, ErrNoPorts) {
		t.Fatalf("answer without mux, port+1 taken: %v, want ErrNoPorts", err)
	}
	checkMuxedPath(t, a, b, toA, toB)
}

// TestRTCPMuxEndpointMode: a locally answered leg A with rtcp-mux holds
// one socket; so does the B leg a Dial bridges once it accepts mux.
func TestRTCPMuxEndpointMode(t *testing.T) {
	e := testEngine(t, Config{})
	a, b := newPeer(t), newPeer(t)
	base := openFDs(t)
	s := testSession(t, e, SessionOptions{})
	toA, answer := localCall(t, s, a, sdpOpts{mux: true})
	if !bytes.Contains(answer, []byte("a=rtcp-mux")) {
		t.Fatalf("local answer lacks rtcp-mux:\n%s", answer)
	}
	wantSockets(t, s, base, 1, "answered locally")
	offer, err := s.OfferLocal()
	if err != nil {
		t.Fatal(err)
	}
	wantSockets(t, s, base, 3, "dialling B")
	if _, err := s.Answer(LegB, offerSDP(sdpOpts{port: b.port(), mux: true})); err != nil {
		t.Fatal(err)
	}
	wantSockets(t, s, base, 2, "bridged")
	checkMuxedPath(t, a, b, toA, relayPort(t, offer))
}

// TestRTCPMuxPortsQuarantined: a muxed leg's pair, port+1 included, goes
// back to the pool on close and stays out of use for the quarantine.
func TestRTCPMuxPortsQuarantined(t *testing.T) {
	lo := freeRange(t, 4)
	e := testEngine(t, Config{PortMin: lo, PortMax: lo + 3, Quarantine: time.Hour})
	s := testSession(t, e, SessionOptions{})
	a, b := newPeer(t), newPeer(t)
	if _, err := s.Offer(LegA, offerSDP(sdpOpts{port: a.port(), mux: true})); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Answer(LegB, offerSDP(sdpOpts{port: b.port(), mux: true})); err != nil {
		t.Fatal(err)
	}
	if inUse, free := e.PortsInUse(); inUse != 2 || free != 0 {
		t.Fatalf("muxed call: %d pairs in use, %d free; want 2 and 0", inUse, free)
	}
	_ = s.Close()
	if inUse, free := e.PortsInUse(); inUse != 0 || free != 2 {
		t.Fatalf("after close: %d pairs in use, %d free; want 0 and 2", inUse, free)
	}
	next := testSession(t, e, SessionOptions{})
	if _, err := next.Offer(LegA, offerSDP(sdpOpts{port: a.port(), mux: true})); !errors.Is(err,
		ErrNoPorts) {
		t.Fatalf("offer during quarantine: %v, want ErrNoPorts", err)
	}
}

// TestPortPoolMuxPair: a pair acquired for rtcp-mux binds only its RTP
// port, yet is reserved and quarantined whole; bindRTCP binds port+1
// later.
func TestPortPoolMuxPair(t *testing.T) {
	lo := freeRange(t, 2)
	p := newPortPool(netip.MustParseAddr("127.0.0.1"), lo, lo+1, time.Hour)
	now := time.Unix(1000, 0)
	p.now = func() time.Time { return now }
	sp, err := p.acquire(true)
	if err != nil {
		t.Fatal(err)
	}
	if sp.rtp == nil || sp.rtcp != nil {
		t.Fatalf("mux pair: rtp %v, rtcp %v; want only rtp", sp.rtp, sp.rtcp)
	}
	rtcp, err := p.bindRTCP(sp.port)
	if err != nil {
		t.Fatalf("bind port+1 of a mux pair: %v", err)
	}
	if got := rtcp.LocalAddr().(*net.UDPAddr).Port; got != lo+1 {
		t.Fatalf("rtcp bound on %d, want %d", got, lo+1)
	}
	_ = rtcp.Close()
	_ = sp.rtp.Close()
	p.release(sp.port)
	if _, err := p.acquire(true); !errors.Is(err, ErrNoPorts) {
		t.Fatalf("quarantined mux pair handed out: %v", err)
	}
	now = now.Add(time.Hour + time.Second)
	again, err := p.acquire(false)
	if err != nil || again.port != lo || again.rtcp == nil {
		t.Fatalf("after quarantine: port %d, rtcp %v, %v", again.port, again.rtcp, err)
	}
	_ = again.rtp.Close()
	_ = again.rtcp.Close()
}

// muxedSession sets up a relayed session whose two peers both use
// rtcp-mux, and returns it with the relay's offer to B and answer to A.
func muxedSession(t *testing.T) (s *Session, a, b *peer, offer, answer []byte) {
	t.Helper()
	s = testSession(t, testEngine(t, Config{}), SessionOptions{})
	a, b = newPeer(t), newPeer(t)
	offer, err := s.Offer(LegA, offerSDP(sdpOpts{port: a.port(), mux: true}))
	if err != nil {
		t.Fatal(err)
	}
	answer, err = s.Answer(LegB, offerSDP(sdpOpts{port: b.port(), mux: true}))
	if err != nil {
		t.Fatal(err)
	}

	return s, a, b, offer, answer
}
