package media

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// TestSRTPLatchNeedsAuthentication: on an SRTP leg a forged packet from
// another source cannot take the latch before the endpoint's first
// authenticated packet.
func TestSRTPLatchNeedsAuthentication(t *testing.T) {
	e := testEngine(t, Config{})
	s := testSession(t, e, SessionOptions{})
	a, b, attacker := newPeer(t), newPeer(t), newPeer(t)
	if _, err := s.Offer(LegA, offerSDP(sdpOpts{port: a.port(), proto: "RTP/SAVP",
		crypto: []string{testCryptoA}})); err != nil {
		t.Fatal(err)
	}
	answer, err := s.Answer(LegB, offerSDP(sdpOpts{port: b.port()}))
	if err != nil {
		t.Fatal(err)
	}
	toA := relayPort(t, answer)
	attacker.send(toA, rtpPacket(0, 1, 0, 1, make([]byte, 40)))
	if _, _, ok := b.recv(200 * time.Millisecond); ok {
		t.Fatal("forged packet relayed")
	}
	enc, _ := pionCtx(t, testCryptoA, false).EncryptRTP(nil, rtpPacket(0, 2, 0, 1,
		[]byte("genuine")), nil)
	a.send(toA, enc)
	if got, _, ok := b.recv(time.Second); !ok || !bytes.Contains(got, []byte("genuine")) {
		t.Fatal("genuine packet after a forged one was not relayed")
	}
	if st := s.Stats().Legs[LegA]; st.Latched.Port() != uint16(a.port()) || st.DroppedAuth != 1 {
		t.Fatalf("latched %v, auth drops %d", st.Latched, st.DroppedAuth)
	}
}

// lockedBuffer is a log sink safe for the engine's goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()

	return l.buf.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()

	return l.buf.String()
}

func TestLogsCarryNoKeysAndMetricsCount(t *testing.T) {
	var logs lockedBuffer
	reg := prometheus.NewRegistry()
	e := testEngine(t, Config{
		Logger: slog.New(slog.NewTextHandler(&logs,
			&slog.HandlerOptions{Level: slog.LevelDebug})),
		Registerer: reg,
	})
	s := testSession(t, e, SessionOptions{CallID: "call-9", Tenant: "AC9",
		SRTP: [2]SRTPPolicy{SRTPMirror, SRTPRequire}})
	a, b := newPeer(t), newPeer(t)
	offer, err := s.Offer(LegA, offerSDP(sdpOpts{port: a.port(), proto: "RTP/SAVP",
		crypto: []string{testCryptoA}}))
	if err != nil {
		t.Fatal(err)
	}
	bLine := "1 AES_CM_128_HMAC_SHA1_80 inline:" + testKeyB
	answer, err := s.Answer(LegB, offerSDP(sdpOpts{port: b.port(), proto: "RTP/SAVP",
		crypto: []string{bLine}}))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		enc, _ := pionCtx(t, testCryptoA, false).EncryptRTP(nil,
			rtpPacket(0, uint16(i), 0, 1, []byte("m")), nil)
		a.send(relayPort(t, answer), enc)
		_, _, _ = b.recv(time.Second)
	}
	if got := sample(t, reg, "patchbay_media_sessions_active", "mode", "relay"); got != 1 {
		t.Fatalf("sessions_active{relay} = %v", got)
	}
	_ = s.Close()
	if got := sample(t, reg, "patchbay_media_packets_total", "leg", "a", "direction",
		"in"); got != 3 {
		t.Fatalf("packets_total{leg=a,direction=in} = %v", got)
	}
	if got := sample(t, reg, "patchbay_media_sessions_total", "mode", "relay"); got != 1 {
		t.Fatalf("sessions_total{relay} = %v", got)
	}
	out := logs.String()
	if !strings.Contains(out, "media session ended") || !strings.Contains(out, "call_id=call-9") {
		t.Fatalf("lifecycle log missing:\n%s", out)
	}
	for _, secret := range append([]string{testKeyA, testKeyB, "inline:", "crypto"},
		cryptoLines(t, offer)...) {
		if strings.Contains(out, secret) {
			t.Fatalf("log contains %q:\n%s", secret, out)
		}
	}
}

// sample returns the value of the sample of name whose labels include
// the given name/value pairs.
func sample(t *testing.T, reg *prometheus.Registry, name string, kv ...string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.Metric {
			labels := map[string]string{}
			for _, lp := range m.Label {
				labels[lp.GetName()] = lp.GetValue()
			}
			match := true
			for i := 0; i+1 < len(kv); i += 2 {
				match = match && labels[kv[i]] == kv[i+1]
			}
			if !match {
				continue
			}
			if m.Counter != nil {
				return m.GetCounter().GetValue()
			}

			return m.GetGauge().GetValue()
		}
	}
	t.Fatalf("metric %s%v not found", name, kv)

	return 0
}
