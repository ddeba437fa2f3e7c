package media

import (
	"bytes"
	"errors"
	"net/netip"
	"testing"
	"time"
)

func TestRelayBothWays(t *testing.T) {
	e := testEngine(t, Config{})
	s := testSession(t, e, SessionOptions{CallID: "c1", Tenant: "AC1"})
	a, b := newPeer(t), newPeer(t)
	relayA, relayB := relayCall(t, s, a, b)
	if relayA == relayB || relayA.Port() == 0 {
		t.Fatalf("relay ports %v and %v", relayA, relayB)
	}

	tests := []struct {
		name     string
		from, to *peer
		dst      netip.AddrPort
	}{
		{"a to b", a, b, relayA},
		{"b to a", b, a, relayB},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for i := range 20 {
				payload := bytes.Repeat([]byte{byte(i)}, 160)
				pkt := rtpPacket(0, uint16(100+i), uint32(160*i), 0x1234, payload)
				tc.from.send(tc.dst, pkt)
				got, from, ok := tc.to.recv(time.Second)
				if !ok {
					t.Fatalf("packet %d not relayed", i)
				}
				if !bytes.Equal(got, pkt) {
					t.Fatalf("packet %d changed in transit", i)
				}
				if from.Port() == tc.dst.Port() {
					t.Fatalf("packet came from the receiving side's relay port %v", from)
				}
			}
		})
	}
	// The relay counts a packet after sending it, so the receiver may see
	// the last packet an instant before the counter does.
	st := settledStats(t, s, func(st Stats) bool {
		return st.Legs[0].PacketsOut == 20 && st.Legs[1].PacketsOut == 20
	})
	for leg, want := range []uint64{20, 20} {
		if st.Legs[leg].PacketsIn != want || st.Legs[leg].PacketsOut != want {
			t.Errorf("leg %d: in %d out %d, want %d each", leg, st.Legs[leg].PacketsIn,
				st.Legs[leg].PacketsOut, want)
		}
		if st.Legs[leg].Codec != "PCMU/8000" || st.Legs[leg].SRTP {
			t.Errorf("leg %d codec %q srtp %v", leg, st.Legs[leg].Codec, st.Legs[leg].SRTP)
		}
		if st.Legs[leg].PacketsLost != 0 {
			t.Errorf("leg %d lost %d", leg, st.Legs[leg].PacketsLost)
		}
	}
	if st.Mode != ModeRelay {
		t.Errorf("mode %v", st.Mode)
	}
}

func TestRelayLatchingAndStrictSource(t *testing.T) {
	e := testEngine(t, Config{})
	s := testSession(t, e, SessionOptions{})
	a, b := newPeer(t), newPeer(t)
	nat := newPeer(t) // A's real source behind NAT
	attacker := newPeer(t)
	relayA, relayB := relayCall(t, s, a, b)

	// Before A sends, B's media goes to A's signalled address.
	b.send(relayB, rtpPacket(0, 1, 0, 2, []byte("before")))
	if got, _, ok := a.recv(time.Second); !ok || !bytes.Contains(got, []byte("before")) {
		t.Fatalf("signalled address did not get media before latching")
	}
	// A's first packet comes from the NAT mapping: latch there.
	nat.send(relayA, rtpPacket(0, 1, 0, 1, []byte("hello")))
	if _, _, ok := b.recv(time.Second); !ok {
		t.Fatal("first packet from NAT source not relayed")
	}
	b.send(relayB, rtpPacket(0, 2, 160, 2, []byte("after")))
	if got, _, ok := nat.recv(time.Second); !ok || !bytes.Contains(got, []byte("after")) {
		t.Fatal("media not sent to the latched source")
	}
	// Strict: a third party injecting into A's relay port is dropped.
	attacker.send(relayA, rtpPacket(0, 2, 160, 1, []byte("inject")))
	if _, _, ok := b.recv(200 * time.Millisecond); ok {
		t.Fatal("packet from an unlatched source was relayed")
	}
	dropped := func(st Stats) bool { return st.Legs[LegA].DroppedSource == 1 }
	if got := settledStats(t, s, dropped).Legs[LegA].DroppedSource; got != 1 {
		t.Fatalf("DroppedSource = %d, want 1", got)
	}
	if got := s.Stats().Legs[LegA].Latched; got.Port() != uint16(nat.port()) {
		t.Fatalf("Latched = %v, want port %d", got, nat.port())
	}

	// A re-offer (new address) re-latches.
	if _, err := s.Offer(LegA, offerSDP(sdpOpts{port: attacker.port()})); err != nil {
		t.Fatalf("re-offer: %v", err)
	}
	if _, err := s.Answer(LegB, offerSDP(sdpOpts{port: b.port()})); err != nil {
		t.Fatalf("re-answer: %v", err)
	}
	attacker.send(relayA, rtpPacket(0, 3, 320, 1, []byte("relatched")))
	if got, _, ok := b.recv(time.Second); !ok || !bytes.Contains(got, []byte("relatched")) {
		t.Fatal("re-offer did not re-latch")
	}
	nat.send(relayA, rtpPacket(0, 4, 480, 1, []byte("old")))
	if _, _, ok := b.recv(200 * time.Millisecond); ok {
		t.Fatal("old source still accepted after re-latching")
	}
}

func TestRelayRTCP(t *testing.T) {
	e := testEngine(t, Config{})
	s := testSession(t, e, SessionOptions{})
	a, b := newPeer(t), newPeer(t)
	aRTCP, bRTCP := newPeer(t), newPeer(t)
	offer, err := s.Offer(LegA, offerSDP(sdpOpts{port: a.port(),
		extra: "a=rtcp:" + itoa(aRTCP.port()) + "\r\n"}))
	if err != nil {
		t.Fatal(err)
	}
	answer, err := s.Answer(LegB, offerSDP(sdpOpts{port: b.port(),
		extra: "a=rtcp:" + itoa(bRTCP.port()) + "\r\n"}))
	if err != nil {
		t.Fatal(err)
	}
	toA := relayPort(t, answer)
	toB := relayPort(t, offer)
	rtcpA := netip.AddrPortFrom(toA.Addr(), toA.Port()+1)
	rtcpB := netip.AddrPortFrom(toB.Addr(), toB.Port()+1)

	sr := senderReport(0xa, 0x11223344)
	aRTCP.send(rtcpA, sr)
	got, _, ok := bRTCP.recv(time.Second)
	if !ok || !bytes.Equal(got, sr) {
		t.Fatal("sender report not relayed to B's RTCP port")
	}
	// B answers with a receiver report referencing that SR, delayed 0.
	time.Sleep(20 * time.Millisecond)
	bRTCP.send(rtcpB, receiverReport(0xb, 0xa, 0x11223344, 0))
	if _, _, ok := aRTCP.recv(time.Second); !ok {
		t.Fatal("receiver report not relayed to A")
	}
	st := settledStats(t, s, func(st Stats) bool {
		return st.Legs[LegB].RTT != 0 && st.Legs[LegB].RTCPOut == 1
	})
	if rtt := st.Legs[LegB].RTT; rtt < 15*time.Millisecond || rtt > time.Second {
		t.Fatalf("leg B RTT = %v, want about 20ms", rtt)
	}
	if st.Legs[LegA].RTCPIn != 1 || st.Legs[LegB].RTCPOut != 1 {
		t.Fatalf("rtcp counters: %+v", st)
	}
}

func TestPeerToPeerUntouched(t *testing.T) {
	e := testEngine(t, Config{})
	tests := []struct {
		name    string
		opts    SessionOptions
		body    []byte
		wantErr error
	}{
		{"plain", SessionOptions{Mode: ModePeerToPeer},
			offerSDP(sdpOpts{port: 4000}), nil},
		{"srtp passes with keys intact", SessionOptions{Mode: ModePeerToPeer,
			SRTP: [2]SRTPPolicy{SRTPRequire, SRTPRequire}},
			offerSDP(sdpOpts{port: 4000, proto: "RTP/SAVP", crypto: []string{testCryptoA}}), nil},
		{"secure leg refuses plain", SessionOptions{Mode: ModePeerToPeer,
			SRTP: [2]SRTPPolicy{SRTPMirror, SRTPRequire}},
			offerSDP(sdpOpts{port: 4000}), ErrSRTPRequired},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := testSession(t, e, tc.opts)
			out, err := s.Offer(LegA, tc.body)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if err == nil && !bytes.Equal(out, tc.body) {
				t.Fatalf("p2p SDP changed:\n%s", out)
			}
			if inUse, _ := e.PortsInUse(); inUse != 0 {
				t.Fatalf("p2p used %d port pairs", inUse)
			}
			if s.Mode() != ModePeerToPeer || s.Stats().Mode.String() != "p2p" {
				t.Fatalf("mode %v", s.Mode())
			}
		})
	}
}

func TestCloseReleasesPorts(t *testing.T) {
	e := testEngine(t, Config{Quarantine: time.Hour})
	s := testSession(t, e, SessionOptions{})
	a, b := newPeer(t), newPeer(t)
	relayA, _ := relayCall(t, s, a, b)
	if inUse, _ := e.PortsInUse(); inUse != 2 {
		t.Fatalf("in use = %d, want 2", inUse)
	}
	a.send(relayA, rtpPacket(0, 1, 0, 1, []byte("x")))
	if _, _, ok := b.recv(time.Second); !ok {
		t.Fatal("no media")
	}
	for range 2 {
		if err := s.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
	}
	if inUse, _ := e.PortsInUse(); inUse != 0 {
		t.Fatalf("in use after close = %d", inUse)
	}
	if !errors.Is(s.Err(), ErrSessionClosed) {
		t.Fatalf("Err = %v", s.Err())
	}
	if _, err := s.Offer(LegA, offerSDP(sdpOpts{port: a.port()})); !errors.Is(err,
		ErrSessionClosed) {
		t.Fatalf("Offer after close: %v", err)
	}
	// The released port is quarantined: a new session gets other ports.
	s2 := testSession(t, e, SessionOptions{})
	relayA2, _ := relayCall(t, s2, a, b)
	if relayA2.Port() == relayA.Port() {
		t.Fatalf("quarantined port %d reused", relayA.Port())
	}
	if got := s.Stats().Legs[LegA].PacketsIn; got != 1 {
		t.Fatalf("final stats lost: PacketsIn = %d", got)
	}
}
