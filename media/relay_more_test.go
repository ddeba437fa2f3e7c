package media

import (
	"bytes"
	"errors"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestRelayIPv6(t *testing.T) {
	probe, err := net.ListenUDP("udp6", &net.UDPAddr{IP: net.IPv6loopback})
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	_ = probe.Close()
	e := testEngine(t, Config{BindAddr: netip.IPv6Loopback()})
	s := testSession(t, e, SessionOptions{})
	listen := func() *net.UDPConn {
		c, err := net.ListenUDP("udp6", &net.UDPAddr{IP: net.IPv6loopback})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })

		return c
	}
	a, b := listen(), listen()
	port := func(c *net.UDPConn) int { return c.LocalAddr().(*net.UDPAddr).Port }
	offer, err := s.Offer(LegA, offerSDP(sdpOpts{port: port(a), addr: "::1"}))
	if err != nil {
		t.Fatal(err)
	}
	answer, err := s.Answer(LegB, offerSDP(sdpOpts{port: port(b), addr: "::1"}))
	if err != nil {
		t.Fatal(err)
	}
	for _, body := range [][]byte{offer, answer} {
		if !bytes.Contains(body, []byte("c=IN IP6 ::1")) {
			t.Fatalf("no IPv6 c= line:\n%s", body)
		}
	}
	pkt := rtpPacket(0, 1, 0, 1, []byte("v6"))
	if _, err := a.WriteToUDPAddrPort(pkt, relayPort(t, answer)); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 100)
	_ = b.SetReadDeadline(time.Now().Add(time.Second))
	if n, _, err := b.ReadFromUDPAddrPort(buf); err != nil || !bytes.Equal(buf[:n], pkt) {
		t.Fatalf("IPv6 relay: %v", err)
	}
}

func TestRTCPMuxOnOneLeg(t *testing.T) {
	e := testEngine(t, Config{})
	s := testSession(t, e, SessionOptions{})
	a, b, bRTCP := newPeer(t), newPeer(t), newPeer(t)
	offer, err := s.Offer(LegA, offerSDP(sdpOpts{port: a.port(), mux: true}))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(offer, []byte("a=rtcp-mux")) {
		t.Fatalf("mux not offered to B:\n%s", offer)
	}
	// B does not take rtcp-mux: its RTCP uses its own port.
	answer, err := s.Answer(LegB, offerSDP(sdpOpts{port: b.port(),
		extra: "a=rtcp:" + itoa(bRTCP.port()) + "\r\n"}))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(answer, []byte("a=rtcp-mux")) {
		t.Fatalf("A offered rtcp-mux but the answer lacks it:\n%s", answer)
	}
	toA, toB := relayPort(t, answer), relayPort(t, offer)
	sr := senderReport(1, 0x01020304)
	a.send(toA, sr) // RTCP on A's RTP port (muxed)
	if got, _, ok := bRTCP.recv(time.Second); !ok || !bytes.Equal(got, sr) {
		t.Fatal("muxed RTCP from A did not reach B's RTCP port")
	}
	rr := receiverReport(2, 1, 0x01020304, 0)
	b.send(netip.AddrPortFrom(toB.Addr(), toB.Port()+1), rr)
	if got, _, ok := a.recv(time.Second); !ok || !bytes.Equal(got, rr) {
		t.Fatal("B's RTCP did not reach A's RTP port")
	}
	// RTP still flows on A's muxed port.
	a.send(toA, rtpPacket(0, 1, 0, 1, []byte("rtp")))
	if got, _, ok := b.recv(time.Second); !ok || !bytes.Contains(got, []byte("rtp")) {
		t.Fatal("RTP lost on a muxed port")
	}
}

func TestSRTCPInterworking(t *testing.T) {
	e := testEngine(t, Config{})
	s := testSession(t, e, SessionOptions{SRTP: [2]SRTPPolicy{SRTPMirror, SRTPOff}})
	a, aRTCP, b, bRTCP := newPeer(t), newPeer(t), newPeer(t), newPeer(t)
	if _, err := s.Offer(LegA, offerSDP(sdpOpts{port: a.port(), proto: "RTP/SAVP",
		crypto: []string{testCryptoA},
		extra:  "a=rtcp:" + itoa(aRTCP.port()) + "\r\n"})); err != nil {
		t.Fatal(err)
	}
	offer := s.pendingOfferPortForTest()
	answer, err := s.Answer(LegB, offerSDP(sdpOpts{port: b.port(),
		extra: "a=rtcp:" + itoa(bRTCP.port()) + "\r\n"}))
	if err != nil {
		t.Fatal(err)
	}
	toA := relayPort(t, answer)
	aEnc := pionCtx(t, testCryptoA, false)
	sr := senderReport(0xa, 0x0a0b0c0d)
	enc, err := aEnc.EncryptRTCP(nil, sr, nil)
	if err != nil {
		t.Fatal(err)
	}
	aRTCP.send(netip.AddrPortFrom(toA.Addr(), toA.Port()+1), enc)
	if got, _, ok := bRTCP.recv(time.Second); !ok || !bytes.Equal(got, sr) {
		t.Fatal("SRTCP from A not delivered to B as plain RTCP")
	}
	rr := receiverReport(0xb, 0xa, 0x0a0b0c0d, 0)
	bRTCP.send(netip.AddrPortFrom(toA.Addr(), uint16(offer+1)), rr)
	got, _, ok := aRTCP.recv(time.Second)
	if !ok {
		t.Fatal("no SRTCP at A")
	}
	aDec := pionCtx(t, cryptoLines(t, answer)[0], false)
	if dec, err := aDec.DecryptRTCP(nil, got, nil); err != nil || !bytes.Equal(dec, rr) {
		t.Fatalf("A cannot decrypt SRTCP: %v", err)
	}
}

// pendingOfferPortForTest returns the relay's B-side RTP port of stream 0.
func (s *Session) pendingOfferPortForTest() int {
	s.mu.Lock()
	defer s.mu.Unlock()

	return s.streams[0].legs[LegB].port
}

func TestReofferKeepsKeysAndFollowsCodec(t *testing.T) {
	e := testEngine(t, Config{})
	s := testSession(t, e, SessionOptions{SRTP: [2]SRTPPolicy{SRTPMirror, SRTPRequire}})
	a, b := newPeer(t), newPeer(t)
	offer1, err := s.Offer(LegA, offerSDP(sdpOpts{port: a.port()}))
	if err != nil {
		t.Fatal(err)
	}
	bLine := "1 AES_CM_128_HMAC_SHA1_80 inline:" + testKeyB
	if _, err := s.Answer(LegB, offerSDP(sdpOpts{port: b.port(), proto: "RTP/SAVP",
		crypto: []string{bLine}})); err != nil {
		t.Fatal(err)
	}
	// Codec change: A re-offers PCMA only.
	reoffer := bytes.Replace(offerSDP(sdpOpts{port: a.port()}), []byte("RTP/AVP 0 8 101"),
		[]byte("RTP/AVP 8 101"), 1)
	offer2, err := s.Offer(LegA, reoffer)
	if err != nil {
		t.Fatal(err)
	}
	if cryptoLines(t, offer1)[0] != cryptoLines(t, offer2)[0] {
		t.Fatal("Patchbay's key towards B changed on a re-offer")
	}
	answer := bytes.Replace(offerSDP(sdpOpts{port: b.port(), proto: "RTP/SAVP",
		crypto: []string{bLine}}), []byte("RTP/SAVP 0 8 101"), []byte("RTP/SAVP 8 101"), 1)
	if _, err := s.Answer(LegB, answer); err != nil {
		t.Fatal(err)
	}
	if st := s.Stats(); st.Legs[LegA].Codec != "PCMA/8000" || st.Legs[LegB].Codec != "PCMA/8000" {
		t.Fatalf("codec after re-offer: %q %q", st.Legs[LegA].Codec, st.Legs[LegB].Codec)
	}
}

// TestConcurrentSessions opens, drives and closes sessions in parallel
// under the race detector.
func TestConcurrentSessions(t *testing.T) {
	e := testEngine(t, Config{Quarantine: -1})
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 5 {
				s, err := e.NewSession(SessionOptions{})
				if err != nil {
					errs <- err

					return
				}
				if _, err := s.Offer(LegA, offerSDP(sdpOpts{port: 4000})); err != nil {
					errs <- err
				}
				if _, err := s.Answer(LegB, offerSDP(sdpOpts{port: 4002})); err != nil {
					errs <- err
				}
				_ = s.Stats()
				_ = s.Close()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if !strings.Contains(err.Error(), "no free media ports") {
			t.Fatal(err)
		}
	}
	if inUse, _ := e.PortsInUse(); inUse != 0 {
		t.Fatalf("%d pairs leaked", inUse)
	}
}

func TestEarlyMediaThenFinalAnswer(t *testing.T) {
	e := testEngine(t, Config{})
	s := testSession(t, e, SessionOptions{})
	a, early, final := newPeer(t), newPeer(t), newPeer(t)
	offer, err := s.Offer(LegA, offerSDP(sdpOpts{port: a.port()}))
	if err != nil {
		t.Fatal(err)
	}
	toB := relayPort(t, offer)
	steps := []struct {
		name string
		b    *peer
	}{
		{"183 with sdp", early},
		{"200 from another fork", final},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			ans, err := s.Answer(LegB, offerSDP(sdpOpts{port: st.b.port()}))
			if err != nil {
				t.Fatal(err)
			}
			a.send(relayPort(t, ans), rtpPacket(0, 1, 0, 1, []byte(st.name)))
			got, _, ok := st.b.recv(time.Second)
			if !ok || !bytes.Contains(got, []byte(st.name)) {
				t.Fatal("media not sent to the latest answer's address")
			}
			st.b.send(toB, rtpPacket(0, 1, 0, 2, []byte("back")))
			if _, _, ok := a.recv(time.Second); !ok {
				t.Fatal("B did not reach A")
			}
		})
	}
}

func TestSerialForkReoffers(t *testing.T) {
	e := testEngine(t, Config{})
	s := testSession(t, e, SessionOptions{})
	a, b2 := newPeer(t), newPeer(t)
	if _, err := s.Offer(LegA, offerSDP(sdpOpts{port: a.port()})); err != nil {
		t.Fatal(err)
	}
	// The first B rejected the call: the same offer goes to the next B.
	offer, err := s.Offer(LegA, offerSDP(sdpOpts{port: a.port()}))
	if err != nil {
		t.Fatalf("re-sending the outstanding offer: %v", err)
	}
	if _, err := s.Offer(LegB, offerSDP(sdpOpts{port: b2.port()})); !errors.Is(err,
		ErrOfferPending) {
		t.Fatalf("glare: %v", err)
	}
	answer, err := s.Answer(LegB, offerSDP(sdpOpts{port: b2.port()}))
	if err != nil {
		t.Fatal(err)
	}
	a.send(relayPort(t, answer), rtpPacket(0, 1, 0, 1, []byte("x")))
	if _, _, ok := b2.recv(time.Second); !ok {
		t.Fatal("no media to the second B")
	}
	b2.send(relayPort(t, offer), rtpPacket(0, 1, 0, 2, []byte("y")))
	if _, _, ok := a.recv(time.Second); !ok {
		t.Fatal("no media from the second B")
	}
	if inUse, _ := e.PortsInUse(); inUse != 2 {
		t.Fatalf("%d pairs in use, want 2", inUse)
	}
}
