package media

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestMediaTimeout(t *testing.T) {
	const timeout = 500 * time.Millisecond
	tests := []struct {
		name        string
		hold        string // direction A re-offers with, "" for none
		wantTimeout bool
	}{
		{"silence times out", "", true},
		{"sendonly hold", "sendonly", false},
		{"inactive hold", "inactive", false},
		{"recvonly hold", "recvonly", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := testEngine(t, Config{MediaTimeout: timeout})
			s := testSession(t, e, SessionOptions{})
			a, b := newPeer(t), newPeer(t)
			relayA, _ := relayCall(t, s, a, b)
			if tc.hold != "" {
				o := sdpOpts{port: a.port(), dir: tc.hold}
				if _, err := s.Offer(LegA, offerSDP(o)); err != nil {
					t.Fatal(err)
				}
				if _, err := s.Answer(LegB, offerSDP(sdpOpts{port: b.port()})); err != nil {
					t.Fatal(err)
				}
			}
			// Media flowing keeps the session up past the timeout.
			for i := range 10 {
				a.send(relayA, rtpPacket(0, uint16(i), 0, 1, []byte("x")))
				time.Sleep(timeout / 6)
			}
			if s.Err() != nil {
				t.Fatalf("ended while media flowed: %v", s.Err())
			}
			select {
			case <-s.Done():
				if !tc.wantTimeout {
					t.Fatalf("ended on hold: %v", s.Err())
				}
				if !errors.Is(s.Err(), ErrMediaTimeout) {
					t.Fatalf("Err = %v", s.Err())
				}
				if inUse, _ := e.PortsInUse(); inUse != 0 {
					t.Fatalf("timed-out session holds %d port pairs", inUse)
				}
			case <-time.After(4 * timeout):
				if tc.wantTimeout {
					t.Fatal("no media timeout")
				}
			}
		})
	}
}

func TestHoldResumeRelaysAgain(t *testing.T) {
	// The timeout itself under hold is TestMediaTimeout's job; here the
	// hold state must follow the SDP and relaying must survive it.
	e := testEngine(t, Config{})
	s := testSession(t, e, SessionOptions{})
	a, b := newPeer(t), newPeer(t)
	relayA, relayB := relayCall(t, s, a, b)
	steps := []struct {
		name   string
		from   Leg
		dir    string
		inHold bool
	}{
		{"b holds with sendonly", LegB, "sendonly", true},
		{"b resumes", LegB, "sendrecv", false},
		{"a holds with c=0.0.0.0", LegA, "hold0", true},
		{"a resumes", LegA, "", false},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			offerer, answerer := a, b
			if st.from == LegB {
				offerer, answerer = b, a
			}
			o := sdpOpts{port: offerer.port(), dir: st.dir}
			if st.dir == "hold0" {
				o = sdpOpts{port: offerer.port(), addr: "0.0.0.0"}
			}
			out, err := s.Offer(st.from, offerSDP(o))
			if err != nil {
				t.Fatal(err)
			}
			if st.dir == "sendonly" && !contains(out, "a=sendonly") {
				t.Fatalf("direction not kept:\n%s", out)
			}
			ans := offerSDP(sdpOpts{port: answerer.port()})
			if _, err := s.Answer(st.from.other(), ans); err != nil {
				t.Fatal(err)
			}
			if s.onHold.Load() != st.inHold {
				t.Fatalf("onHold = %v", s.onHold.Load())
			}
		})
	}
	// After resume both directions relay again.
	a.send(relayA, rtpPacket(0, 1, 0, 1, []byte("resumed")))
	if _, _, ok := b.recv(time.Second); !ok {
		t.Fatal("a to b broken after resume")
	}
	b.send(relayB, rtpPacket(0, 1, 0, 2, []byte("resumed")))
	if _, _, ok := a.recv(time.Second); !ok {
		t.Fatal("b to a broken after resume")
	}
	if _, err := s.Offer(LegA, offerSDP(sdpOpts{port: a.port()})); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Offer(LegB, offerSDP(sdpOpts{port: b.port()})); !errors.Is(err,
		ErrOfferPending) {
		t.Fatalf("glare: %v", err)
	}
	if _, err := s.Answer(LegA, offerSDP(sdpOpts{port: b.port()})); !errors.Is(err, ErrNoOffer) {
		t.Fatalf("answer from offerer: %v", err)
	}
}

func contains(b []byte, s string) bool { return strings.Contains(string(b), s) }
