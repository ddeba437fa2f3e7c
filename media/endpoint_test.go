package media

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"math"
	"net/netip"
	"testing"
	"time"
)

// localCall answers peer a locally and returns the relay address.
func localCall(t *testing.T, s *Session, a *peer, o sdpOpts) (netip.AddrPort, []byte) {
	t.Helper()
	o.port = a.port()
	answer, err := s.AnswerLocal(offerSDP(o))
	if err != nil {
		t.Fatalf("AnswerLocal: %v", err)
	}

	return relayPort(t, answer), answer
}

func tone(n int, freq float64) *Audio {
	a := &Audio{Samples: make([]int16, n)}
	for i := range a.Samples {
		a.Samples[i] = int16(8000 * math.Sin(2*math.Pi*freq*float64(i)/audioRate))
	}

	return a
}

func TestAnswerLocalCodecChoice(t *testing.T) {
	e := testEngine(t, Config{})
	tests := []struct {
		name    string
		offer   string
		want    []string
		wantErr error
	}{
		{"pcmu first", string(offerSDP(sdpOpts{port: 4000})),
			[]string{"m=audio ", " RTP/AVP 0 101\r\n", "a=rtpmap:101 telephone-event/8000",
				"a=sendrecv"}, nil},
		{"pcma preferred", "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n" +
			"t=0 0\r\nm=video 5000 RTP/AVP 96\r\nm=audio 4000 RTP/AVP 18 8 0\r\na=sendonly\r\n",
			[]string{"m=video 0 RTP/AVP 96", " RTP/AVP 8\r\n", "a=rtpmap:8 PCMA/8000",
				"a=recvonly"},
			nil},
		{"no g711", "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n" +
			"t=0 0\r\nm=audio 4000 RTP/AVP 18\r\n", nil, ErrNoCodec},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := testSession(t, e, SessionOptions{})
			ans, err := s.AnswerLocal([]byte(tc.offer))
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			for _, w := range tc.want {
				if !bytes.Contains(ans, []byte(w)) {
					t.Errorf("answer lacks %q:\n%s", w, ans)
				}
			}
			if err == nil {
				if _, perr := parseSDP(ans); perr != nil {
					t.Fatalf("answer does not parse: %v", perr)
				}
			}
		})
	}
}

func TestDTMFDetection(t *testing.T) {
	e := testEngine(t, Config{})
	s := testSession(t, e, SessionOptions{})
	a := newPeer(t)
	relay, _ := localCall(t, s, a, sdpOpts{})
	seq := uint16(1)
	press := func(digit byte, ts uint32, sendEnd bool) {
		for k := range 5 {
			te := telephoneEvent{event: digit, volume: 10, duration: uint16(160 * (k + 1)),
				end: k >= 3}
			if te.end && !sendEnd {
				return
			}
			var p [4]byte
			te.put(p[:])
			a.send(relay, rtpPacket(101, seq, ts, 7, p[:]))
			seq++
		}
	}
	press(1, 1000, true)  // "1"
	press(11, 3000, true) // "#"
	press(5, 5000, false) // "5", end packets lost
	press(0, 7000, true)  // "0" reveals the lost end of "5"
	want := "1#50"
	for i, w := range want {
		select {
		case ev := <-s.DTMF():
			if ev.Digit != w || ev.Source != "rfc4733" || ev.Leg != LegA {
				t.Fatalf("event %d = %+v, want %q", i, ev, w)
			}
		case <-time.After(time.Second):
			t.Fatalf("digit %d (%q) not detected", i, w)
		}
	}
	if err := s.InjectDTMF(DTMFEvent{Digit: '*', Source: "info"}); err != nil {
		t.Fatal(err)
	}
	if ev := <-s.DTMF(); ev.Digit != '*' || ev.Source != "info" {
		t.Fatalf("injected %+v", ev)
	}
	if err := s.InjectDTMF(DTMFEvent{Digit: 'x'}); !errors.Is(err, ErrBadDTMF) {
		t.Fatalf("bad digit err = %v", err)
	}
	select {
	case ev := <-s.DTMF():
		t.Fatalf("spurious event %+v", ev)
	case <-time.After(50 * time.Millisecond):
	}
}

func TestPlayPacing(t *testing.T) {
	e := testEngine(t, Config{})
	s := testSession(t, e, SessionOptions{})
	a := newPeer(t)
	localCall(t, s, a, sdpOpts{})
	audio := tone(8000/2, 440) // 500 ms = 25 packets
	errc := make(chan error, 1)
	go func() { errc <- s.Play(context.Background(), audio) }()

	var arrivals []time.Time
	var pkts [][]byte
	for range 25 {
		p, _, ok := a.recv(time.Second)
		if !ok {
			t.Fatalf("only %d packets", len(pkts))
		}
		arrivals = append(arrivals, time.Now())
		pkts = append(pkts, p)
	}
	if err := <-errc; err != nil {
		t.Fatalf("Play: %v", err)
	}
	span := arrivals[24].Sub(arrivals[0])
	if span < 440*time.Millisecond || span > time.Second {
		t.Fatalf("25 packets spanned %v, want about 480ms", span)
	}
	for i, p := range pkts {
		h, err := parseRTP(p)
		if err != nil || h.pt != 0 || h.end-h.payload != 160 {
			t.Fatalf("packet %d: %+v %v", i, h, err)
		}
		if (i == 0) != h.marker {
			t.Fatalf("packet %d marker %v", i, h.marker)
		}
		if i > 0 {
			prev, _ := parseRTP(pkts[i-1])
			if h.seq != prev.seq+1 || h.ts != prev.ts+160 || h.ssrc != prev.ssrc {
				t.Fatalf("packet %d seq/ts/ssrc not continuous", i)
			}
		}
	}
	// The payload decodes back to the tone.
	got := decodeG711(nil, 0, pkts[3][12:])
	if d := math.Abs(float64(got[10]) - float64(audio.Samples[480+10])); d > 300 {
		t.Fatalf("decoded sample off by %v", d)
	}
}

func TestPlayStopsOnCancelAndClose(t *testing.T) {
	e := testEngine(t, Config{})
	tests := []struct {
		name string
		stop func(s *Session, cancel context.CancelFunc)
		want error
	}{
		{"cancel", func(_ *Session, c context.CancelFunc) { c() }, context.Canceled},
		{"close", func(s *Session, _ context.CancelFunc) { _ = s.Close() }, ErrSessionClosed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := testSession(t, e, SessionOptions{})
			localCall(t, s, newPeer(t), sdpOpts{})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			errc := make(chan error, 1)
			go func() { errc <- s.Play(ctx, tone(8000*10, 300)) }()
			time.Sleep(60 * time.Millisecond)
			tc.stop(s, cancel)
			select {
			case err := <-errc:
				if !errors.Is(err, tc.want) {
					t.Fatalf("Play err = %v, want %v", err, tc.want)
				}
			case <-time.After(time.Second):
				t.Fatal("Play did not stop")
			}
		})
	}
	s := testSession(t, e, SessionOptions{})
	if err := s.Play(context.Background(), tone(160, 1)); !errors.Is(err, ErrNotNegotiated) {
		t.Fatalf("Play before AnswerLocal: %v", err)
	}
}

func TestSendDTMF(t *testing.T) {
	e := testEngine(t, Config{})
	s := testSession(t, e, SessionOptions{})
	a := newPeer(t)
	localCall(t, s, a, sdpOpts{})
	if err := s.SendDTMF(context.Background(), "1z", 0); !errors.Is(err, ErrBadDTMF) {
		t.Fatalf("bad digit: %v", err)
	}
	errc := make(chan error, 1)
	go func() { errc <- s.SendDTMF(context.Background(), "9#", 60*time.Millisecond) }()
	var ds dtmfState
	var digits []rune
	for len(digits) < 2 {
		p, _, ok := a.recv(time.Second)
		if !ok {
			t.Fatalf("got digits %q", string(digits))
		}
		h, _ := parseRTP(p)
		if h.pt != 101 {
			t.Fatalf("pt %d", h.pt)
		}
		if ev, ok := ds.observe(h, p[h.payload:h.end]); ok {
			digits = append(digits, ev.Digit)
			if ev.Duration != 60*time.Millisecond {
				t.Fatalf("duration %v", ev.Duration)
			}
		}
	}
	if err := <-errc; err != nil || string(digits) != "9#" {
		t.Fatalf("digits %q err %v", string(digits), err)
	}
}

func TestRecordBothDirections(t *testing.T) {
	e := testEngine(t, Config{})
	s := testSession(t, e, SessionOptions{})
	a := newPeer(t)
	relay, _ := localCall(t, s, a, sdpOpts{})
	rec, err := s.StartRecording(0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.StartRecording(0); !errors.Is(err, ErrRecording) {
		t.Fatalf("second recording: %v", err)
	}
	go func() { _ = s.Play(context.Background(), tone(1600, 1000)) }()
	caller := tone(1600, 500)
	for i := range 10 {
		payload := encodeG711(nil, 0, caller.Samples[i*160:(i+1)*160])
		a.send(relay, rtpPacket(0, uint16(i), uint32(i*160), 9, payload))
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond)
	var buf bytes.Buffer
	dur, err := rec.Stop(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rec.Stop(&buf); !errors.Is(err, ErrRecording) {
		t.Fatalf("second Stop: %v", err)
	}
	if dur < 150*time.Millisecond || dur > time.Second {
		t.Fatalf("recorded %v", dur)
	}
	b := buf.Bytes()
	if string(b[:4]) != "RIFF" || binary.LittleEndian.Uint16(b[22:]) != 2 ||
		binary.LittleEndian.Uint32(b[24:]) != 8000 {
		t.Fatalf("bad WAV header % x", b[:44])
	}
	var energy [2]float64
	for i := 44; i+3 < len(b); i += 4 {
		for c := range 2 {
			v := float64(int16(binary.LittleEndian.Uint16(b[i+2*c:])))
			energy[c] += v * v
		}
	}
	if energy[0] == 0 || energy[1] == 0 {
		t.Fatalf("a channel is silent: energy %v", energy)
	}
}

func TestBridgeAfterLocalAnswer(t *testing.T) {
	e := testEngine(t, Config{})
	s := testSession(t, e, SessionOptions{SRTP: [2]SRTPPolicy{SRTPMirror, SRTPRequire}})
	a, b := newPeer(t), newPeer(t)
	toA, _ := localCall(t, s, a, sdpOpts{})
	offer, err := s.OfferLocal()
	if err != nil {
		t.Fatal(err)
	}
	offered := cryptoLines(t, offer)
	if !bytes.Contains(offer, []byte("RTP/SAVP 0 101")) || len(offered) == 0 {
		t.Fatalf("bridge offer:\n%s", offer)
	}
	bLine := "1 AES_CM_128_HMAC_SHA1_80 inline:" + testKeyB
	tests := []struct {
		name    string
		answer  sdpOpts
		wantErr error
	}{
		{"wrong codec", sdpOpts{}, ErrNoCodec},
		{"ok", sdpOpts{proto: "RTP/SAVP", crypto: []string{bLine}}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.answer.port = b.port()
			if tc.wantErr != nil {
				body := bytes.Replace(offerSDP(tc.answer), []byte("RTP/AVP 0 8 101"),
					[]byte("RTP/AVP 8"), 1)
				if _, err := s.Answer(LegB, body); !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v", err)
				}
				// The failed answer consumed the offer; make a new one.
				if offer, err = s.OfferLocal(); err != nil {
					t.Fatal(err)
				}
				offered = cryptoLines(t, offer)

				return
			}
			out, err := s.Answer(LegB, offerSDP(tc.answer))
			if err != nil || out != nil {
				t.Fatalf("Answer = %q, %v", out, err)
			}
		})
	}
	if err := s.Play(context.Background(), tone(160, 1)); !errors.Is(err, ErrBridged) {
		t.Fatalf("Play after bridge: %v", err)
	}
	plain := rtpPacket(0, 1, 0, 1, []byte("bridged"))
	a.send(toA, plain)
	got, _, ok := b.recv(time.Second)
	if !ok {
		t.Fatal("A not bridged to B")
	}
	var line string
	for _, l := range offered {
		if l[0] == '1' {
			line = l
		}
	}
	if dec, err := pionCtx(t, line, true).DecryptRTP(nil, got, nil); err != nil ||
		!bytes.Equal(dec, plain) {
		t.Fatalf("B decrypt: %v", err)
	}
}

func TestLocalEndpointOverSRTP(t *testing.T) {
	e := testEngine(t, Config{})
	s := testSession(t, e, SessionOptions{})
	a := newPeer(t)
	relay, answer := localCall(t, s, a, sdpOpts{proto: "RTP/SAVP", crypto: []string{testCryptoA}})
	lines := cryptoLines(t, answer)
	if len(lines) != 1 || !bytes.Contains(answer, []byte("RTP/SAVP 0 101")) {
		t.Fatalf("local answer to an SRTP offer:\n%s", answer)
	}
	go func() { _ = s.Play(context.Background(), tone(320, 440)) }()
	aDec := pionCtx(t, lines[0], true)
	for i := range 2 {
		got, _, ok := a.recv(time.Second)
		if !ok {
			t.Fatalf("packet %d not played", i)
		}
		if _, err := aDec.DecryptRTP(nil, got, nil); err != nil {
			t.Fatalf("played packet %d does not decrypt: %v", i, err)
		}
	}
	aEnc := pionCtx(t, testCryptoA, false)
	for k := range 4 {
		var p [4]byte
		telephoneEvent{event: 9, volume: 10, duration: 480, end: k == 3}.put(p[:])
		enc, _ := aEnc.EncryptRTP(nil, rtpPacket(101, uint16(k+1), 800, 3, p[:]), nil)
		a.send(relay, enc)
	}
	select {
	case ev := <-s.DTMF():
		if ev.Digit != '9' {
			t.Fatalf("digit %q", ev.Digit)
		}
	case <-time.After(time.Second):
		t.Fatal("SRTP DTMF not detected")
	}
}

func TestLocalEndpointSendsRTCP(t *testing.T) {
	e := testEngine(t, Config{})
	s, err := e.NewSession(SessionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	s.rtcpEvery = 50 * time.Millisecond
	a := newPeer(t)
	relay, _ := localCall(t, s, a, sdpOpts{mux: true})
	go func() { _ = s.Play(context.Background(), tone(800, 440)) }()
	var sr []byte
	for sr == nil {
		p, _, ok := a.recv(time.Second)
		if !ok {
			t.Fatal("no sender report")
		}
		if isRTCP(p) && p[1] == rtcpSR {
			sr = p
		}
	}
	info, err := walkRTCP(sr)
	if err != nil || info.srNTP == 0 {
		t.Fatalf("bad SR: %v", err)
	}
	time.Sleep(20 * time.Millisecond)
	a.send(relay, receiverReport(7, binary.BigEndian.Uint32(sr[4:]), info.srNTP, 0))
	deadline := time.Now().Add(time.Second)
	for s.Stats().Legs[LegA].RTT == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if rtt := s.Stats().Legs[LegA].RTT; rtt < 15*time.Millisecond || rtt > time.Second {
		t.Fatalf("leg A RTT = %v, want about 20ms", rtt)
	}
}
