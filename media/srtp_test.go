package media

import (
	"bytes"
	"encoding/base64"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/pion/srtp/v3"
)

// Test keys: 30 bytes (16 key + 14 salt), and 28 for the GCM suite.
var (
	testKeyA    = base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0xa1}, 30))
	testKeyB    = base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0xb2}, 30))
	testKeyGCM  = base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0xc3}, 28))
	testCryptoA = "1 AES_CM_128_HMAC_SHA1_80 inline:" + testKeyA
)

// pionCtx builds an independent pion context straight from an a=crypto
// value, the way a remote endpoint would.
func pionCtx(t testing.TB, line string, replay bool) *srtp.Context {
	t.Helper()
	f := strings.Fields(line)
	profiles := map[string]srtp.ProtectionProfile{
		"AES_CM_128_HMAC_SHA1_80": srtp.ProtectionProfileAes128CmHmacSha1_80,
		"AES_CM_128_HMAC_SHA1_32": srtp.ProtectionProfileAes128CmHmacSha1_32,
		"AEAD_AES_128_GCM":        srtp.ProtectionProfileAeadAes128Gcm,
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(f[2], "inline:"))
	if err != nil {
		t.Fatalf("key: %v", err)
	}
	p := profiles[f[1]]
	kl, _ := p.KeyLen()
	var opts []srtp.ContextOption
	if replay {
		opts = append(opts, srtp.SRTPReplayProtection(64))
	}
	c, err := srtp.CreateContext(key[:kl], key[kl:], p, opts...)
	if err != nil {
		t.Fatalf("pion context: %v", err)
	}

	return c
}

func TestRTPToSRTPInterworking(t *testing.T) {
	e := testEngine(t, Config{})
	s := testSession(t, e, SessionOptions{SRTP: [2]SRTPPolicy{SRTPMirror, SRTPRequire}})
	a, b := newPeer(t), newPeer(t)
	offer, err := s.Offer(LegA, offerSDP(sdpOpts{port: a.port()}))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(offer, []byte("RTP/SAVP")) {
		t.Fatalf("offer to secure leg is not RTP/SAVP:\n%s", offer)
	}
	offered := cryptoLines(t, offer)
	if len(offered) != 2 || !strings.HasPrefix(offered[0], "1 AES_CM_128_HMAC_SHA1_80 inline:") {
		t.Fatalf("offered crypto %q", offered)
	}
	bLine := "1 AES_CM_128_HMAC_SHA1_80 inline:" + testKeyB
	answer, err := s.Answer(LegB, offerSDP(sdpOpts{port: b.port(), proto: "RTP/SAVP",
		crypto: []string{bLine}}))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(answer, []byte("crypto")) || !bytes.Contains(answer, []byte("RTP/AVP")) {
		t.Fatalf("answer to plain leg carries SRTP:\n%s", answer)
	}
	toA, toB := relayPort(t, answer), relayPort(t, offer)
	bDecrypt := pionCtx(t, offered[0], true)
	bEncrypt := pionCtx(t, bLine, false)

	plain := rtpPacket(0, 7, 1120, 0xaaaa, []byte("caller audio"))
	a.send(toA, plain)
	got, _, ok := b.recv(time.Second)
	if !ok {
		t.Fatal("no SRTP at B")
	}
	dec, err := bDecrypt.DecryptRTP(nil, got, nil)
	if err != nil || !bytes.Equal(dec, plain) {
		t.Fatalf("B cannot decrypt relay's SRTP: %v", err)
	}

	for i, tc := range []struct {
		name       string
		mangle     func([]byte) []byte
		wantPlain  bool
		wantReplay uint64
		wantAuth   uint64
	}{
		{"valid", func(p []byte) []byte { return p }, true, 0, 0},
		{"replayed", nil, false, 1, 0},
		{"tampered", func(p []byte) []byte { p[len(p)-12] ^= 1; return p }, false, 1, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var pkt []byte
			if tc.mangle == nil {
				pkt = lastSent
			} else {
				enc, err := bEncrypt.EncryptRTP(nil,
					rtpPacket(0, uint16(50+i), uint32(160*i), 0xbbbb, []byte("callee audio")), nil)
				if err != nil {
					t.Fatal(err)
				}
				lastSent = append([]byte(nil), enc...)
				pkt = tc.mangle(enc)
			}
			b.send(toB, pkt)
			got, _, ok := a.recv(300 * time.Millisecond)
			if ok != tc.wantPlain {
				t.Fatalf("delivered = %v, want %v", ok, tc.wantPlain)
			}
			if ok && !bytes.Contains(got, []byte("callee audio")) {
				t.Fatalf("A got %q", got)
			}
			st := s.Stats().Legs[LegB]
			if st.DroppedReplay != tc.wantReplay || st.DroppedAuth != tc.wantAuth {
				t.Fatalf("replay %d auth %d, want %d %d", st.DroppedReplay, st.DroppedAuth,
					tc.wantReplay, tc.wantAuth)
			}
		})
	}
	if st := s.Stats(); !st.Legs[LegB].SRTP || st.Legs[LegA].SRTP ||
		st.Legs[LegB].CryptoSuite != SuiteAES128SHA1_80 {
		t.Fatalf("srtp flags: %+v", st)
	}
}

// lastSent keeps the previous SRTP packet for the replay case.
var lastSent []byte

func TestSRTPBothLegsIndependentKeys(t *testing.T) {
	suites := []struct{ name, line, bSuite string }{
		{"sha1_80", "1 AES_CM_128_HMAC_SHA1_80 inline:" + testKeyA, "AES_CM_128_HMAC_SHA1_80"},
		{"sha1_32", "3 AES_CM_128_HMAC_SHA1_32 inline:" + testKeyA, "AES_CM_128_HMAC_SHA1_80"},
		{"gcm", "2 AEAD_AES_128_GCM inline:" + testKeyGCM, "AES_CM_128_HMAC_SHA1_32"},
	}
	for _, tc := range suites {
		t.Run(tc.name, func(t *testing.T) {
			e := testEngine(t, Config{})
			s := testSession(t, e, SessionOptions{})
			a, b := newPeer(t), newPeer(t)
			offer, err := s.Offer(LegA, offerSDP(sdpOpts{port: a.port(), proto: "RTP/SAVP",
				crypto: []string{"9 UNKNOWN_SUITE inline:AAAA", tc.line}}))
			if err != nil {
				t.Fatal(err)
			}
			offered := cryptoLines(t, offer)
			var pick string
			for _, l := range offered {
				if strings.Fields(l)[1] == tc.bSuite {
					pick = l
				}
			}
			if pick == "" || strings.Contains(string(offer), tc.line[2:]) {
				t.Fatalf("offer to B reuses A's key or lacks %s:\n%s", tc.bSuite, offer)
			}
			bLine := strings.Fields(pick)[0] + " " + tc.bSuite + " inline:" + testKeyB
			answer, err := s.Answer(LegB, offerSDP(sdpOpts{port: b.port(), proto: "RTP/SAVP",
				crypto: []string{bLine}}))
			if err != nil {
				t.Fatal(err)
			}
			ansLines := cryptoLines(t, answer)
			if len(ansLines) != 1 || strings.Fields(ansLines[0])[0] != strings.Fields(tc.line)[0] ||
				strings.Contains(ansLines[0], testKeyA) ||
				strings.Contains(ansLines[0], testKeyB) ||
				ansLines[0] == pick {
				t.Fatalf("answer crypto %q does not pick A's tag with a fresh key", ansLines)
			}
			checkSRTPFlow(t, a, b, relayPort(t, answer), relayPort(t, offer),
				pionCtx(t, tc.line, false), pionCtx(t, pick, true),
				pionCtx(t, bLine, false), pionCtx(t, ansLines[0], true))
		})
	}
}

// checkSRTPFlow sends one SRTP packet each way and checks that each
// side decrypts it with the key the relay announced to it.
func checkSRTPFlow(t *testing.T, a, b *peer, toA, toB netip.AddrPort,
	aEnc, bDec, bEnc, aDec *srtp.Context) {
	t.Helper()
	plain := rtpPacket(0, 1, 0, 0xa, []byte("from a"))
	enc, _ := aEnc.EncryptRTP(nil, plain, nil)
	a.send(toA, enc)
	got, _, ok := b.recv(time.Second)
	if !ok {
		t.Fatal("nothing at B")
	}
	if dec, err := bDec.DecryptRTP(nil, got, nil); err != nil || !bytes.Equal(dec, plain) {
		t.Fatalf("B decrypt: %v", err)
	}
	plain = rtpPacket(0, 1, 0, 0xb, []byte("from b"))
	enc, _ = bEnc.EncryptRTP(nil, plain, nil)
	b.send(toB, enc)
	got, _, ok = a.recv(time.Second)
	if !ok {
		t.Fatal("nothing at A")
	}
	if dec, err := aDec.DecryptRTP(nil, got, nil); err != nil || !bytes.Equal(dec, plain) {
		t.Fatalf("A decrypt: %v", err)
	}
}

func TestSRTPToPlain(t *testing.T) {
	e := testEngine(t, Config{})
	s := testSession(t, e, SessionOptions{SRTP: [2]SRTPPolicy{SRTPMirror, SRTPOff}})
	a, b := newPeer(t), newPeer(t)
	offer, err := s.Offer(LegA, offerSDP(sdpOpts{port: a.port(), proto: "RTP/SAVP",
		crypto: []string{testCryptoA}}))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(offer, []byte("crypto")) || bytes.Contains(offer, []byte("SAVP")) {
		t.Fatalf("SRTP not stripped for plain leg:\n%s", offer)
	}
	answer, err := s.Answer(LegB, offerSDP(sdpOpts{port: b.port()}))
	if err != nil {
		t.Fatal(err)
	}
	lines := cryptoLines(t, answer)
	if len(lines) != 1 || !bytes.Contains(answer, []byte("RTP/SAVP")) {
		t.Fatalf("answer to SRTP leg: %s", answer)
	}
	plain := rtpPacket(0, 9, 0, 0xa, []byte("secret voice"))
	enc, _ := pionCtx(t, testCryptoA, false).EncryptRTP(nil, plain, nil)
	a.send(relayPort(t, answer), enc)
	got, _, ok := b.recv(time.Second)
	if !ok || !bytes.Equal(got, plain) {
		t.Fatalf("B did not get the decrypted packet")
	}
	b.send(relayPort(t, offer), plain)
	got, _, ok = a.recv(time.Second)
	if !ok {
		t.Fatal("A got nothing")
	}
	if dec, err := pionCtx(t, lines[0], true).DecryptRTP(nil, got, nil); err != nil ||
		!bytes.Equal(dec, plain) {
		t.Fatalf("A cannot decrypt: %v", err)
	}
}

func TestSRTPPolicyErrors(t *testing.T) {
	tests := []struct {
		name    string
		policy  [2]SRTPPolicy
		offer   sdpOpts
		answer  *sdpOpts
		wantErr error
	}{
		{"secure caller offers plain", [2]SRTPPolicy{SRTPRequire, SRTPMirror},
			sdpOpts{}, nil, ErrSRTPRequired},
		{"secure callee answers plain", [2]SRTPPolicy{SRTPMirror, SRTPRequire},
			sdpOpts{}, &sdpOpts{}, ErrSRTPRequired},
		{"savp with unknown suite", [2]SRTPPolicy{},
			sdpOpts{proto: "RTP/SAVP",
				crypto: []string{"1 F8_128_HMAC_SHA1_80 inline:" + testKeyA}},
			nil, ErrNoCryptoSuite},
		{"savp without crypto", [2]SRTPPolicy{}, sdpOpts{proto: "RTP/SAVP"}, nil, ErrNoCryptoSuite},
		{"short key", [2]SRTPPolicy{},
			sdpOpts{proto: "RTP/SAVP", crypto: []string{"1 AES_CM_128_HMAC_SHA1_80 inline:AAAA"}},
			nil, ErrBadCrypto},
		{"answer picks unoffered tag", [2]SRTPPolicy{SRTPMirror, SRTPRequire},
			sdpOpts{}, &sdpOpts{proto: "RTP/SAVP",
				crypto: []string{"7 AES_CM_128_HMAC_SHA1_80 inline:" + testKeyB}},
			ErrNoCryptoSuite},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := testEngine(t, Config{})
			s := testSession(t, e, SessionOptions{SRTP: tc.policy})
			tc.offer.port = 4000
			_, err := s.Offer(LegA, offerSDP(tc.offer))
			if tc.answer != nil {
				if err != nil {
					t.Fatalf("offer: %v", err)
				}
				tc.answer.port = 4002
				_, err = s.Answer(LegB, offerSDP(*tc.answer))
			}
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if strings.Contains(err.Error(), testKeyA) || strings.Contains(err.Error(), testKeyB) {
				t.Fatalf("error leaks key material: %v", err)
			}
		})
	}
}
