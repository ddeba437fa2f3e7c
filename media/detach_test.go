package media

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestDetachBThenPlayAndDialAgain(t *testing.T) {
	tests := []struct {
		name  string
		local bool // the call began with a local answer
	}{
		{"relayed from the start", false},
		{"local answer then dial", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := testEngine(t, Config{})
			s := testSession(t, e, SessionOptions{})
			a, b, b2 := newPeer(t), newPeer(t), newPeer(t)
			if tc.local {
				localCall(t, s, a, sdpOpts{})
				if _, err := s.OfferLocal(); err != nil {
					t.Fatal(err)
				}
				if _, err := s.Answer(LegB, offerSDP(sdpOpts{port: b.port()})); err != nil {
					t.Fatal(err)
				}
			} else {
				relayCall(t, s, a, b)
			}
			bridged := s.streams[0].legs[LegA]
			a.send(bridged.sessAddrForTest(), rtpPacket(0, 1, 0, 1, []byte("to b")))
			if _, _, ok := b.recv(time.Second); !ok {
				t.Fatal("not bridged")
			}
			st, err := s.DetachB()
			if err != nil {
				t.Fatal(err)
			}
			if st.PacketsOut != 1 {
				t.Fatalf("B's final stats: %+v", st)
			}
			if inUse, _ := e.PortsInUse(); inUse != 1 {
				t.Fatalf("%d pairs in use after detach, want 1", inUse)
			}
			if err := s.Play(context.Background(), tone(160, 440)); err != nil {
				t.Fatalf("Play after detach: %v", err)
			}
			got, _, ok := a.recv(time.Second)
			if !ok {
				t.Fatal("A heard nothing after detach")
			}
			if h, _ := parseRTP(got); h.pt != 0 {
				t.Fatalf("played pt %d, want A's PCMU", h.pt)
			}
			// The next Dial.
			if _, err := s.OfferLocal(); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Answer(LegB, offerSDP(sdpOpts{port: b2.port()})); err != nil {
				t.Fatal(err)
			}
			a.send(bridged.sessAddrForTest(), rtpPacket(0, 2, 160, 1, []byte("to b2")))
			if _, _, ok := b2.recv(time.Second); !ok {
				t.Fatal("second dial not bridged")
			}
		})
	}
	e := testEngine(t, Config{})
	p2p := testSession(t, e, SessionOptions{Mode: ModePeerToPeer})
	if _, err := p2p.DetachB(); !errors.Is(err, ErrWrongMode) {
		t.Fatalf("p2p DetachB: %v", err)
	}
}
