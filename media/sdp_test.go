package media

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "media", name))
	if err != nil {
		t.Fatal(err)
	}

	return b
}

func TestOfferRewrite(t *testing.T) {
	tests := []struct {
		name     string
		file     string
		bind     string
		policy   [2]SRTPPolicy
		want     []string
		wantNot  []string
		declined []int // m= line indexes expected with port 0
		wantErr  error
	}{
		{
			name: "multi stream keeps codecs and declines the rest",
			file: "offer_multi.sdp",
			want: []string{
				"o=alice 2890844526 2890844527 IN IP4 127.0.0.1\r\n",
				"c=IN IP4 127.0.0.1\r\n", " RTP/AVP 8 0 18 101\r\n", "b=AS:80",
				"a=fmtp:18 annexb=no", "a=ptime:30", "a=sendrecv", " RTP/AVPF 96\r\n",
				"a=rtcp-fb:96 nack", "m=application 0 UDP/BFCP *", "m=image 0 udptl t38",
			},
			wantNot:  []string{"192.0.2.10", "192.0.2.11"},
			declined: []int{2, 3},
		},
		{
			name: "ice and sdes terminated",
			file: "offer_ice_sdes.sdp",
			want: []string{"RTP/AVP 0 101", "a=rtcp-mux", "a=rtpmap:101 telephone-event/8000"},
			wantNot: []string{"candidate", "ice-", "crypto", "198.51.100.7",
				"oaGh", "SAVP"},
			policy: [2]SRTPPolicy{SRTPMirror, SRTPOff},
		},
		{
			name:    "ipv6 unreachable from an ipv4 bind",
			file:    "offer_ipv6_inactive.sdp",
			wantErr: ErrNoMedia,
		},
		{
			name: "ipv6 relayed from an ipv6 bind",
			file: "offer_ipv6_inactive.sdp",
			bind: "::1",
			want: []string{"c=IN IP6 ::1\r\n", "IN IP6 ::1\r\n", "a=inactive"},
		},
		{
			name:     "dtls declined, plain kept",
			file:     "offer_dtls.sdp",
			want:     []string{"m=audio 0 UDP/TLS/RTP/SAVPF 111"},
			wantNot:  []string{"fingerprint", "setup"},
			declined: []int{0},
		},
		{name: "bad port", file: "bad_port.sdp", wantErr: ErrBadSDP},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := Config{}
			if tc.bind != "" {
				cfg.BindAddr = netip.MustParseAddr(tc.bind)
			}
			e := testEngine(t, cfg)
			s := testSession(t, e, SessionOptions{SRTP: tc.policy})
			out, err := s.Offer(LegA, readTestdata(t, tc.file))
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if err != nil {
				return
			}
			for _, w := range tc.want {
				if !strings.Contains(string(out), w) {
					t.Errorf("missing %q in\n%s", w, out)
				}
			}
			for _, w := range tc.wantNot {
				if strings.Contains(string(out), w) {
					t.Errorf("unexpected %q in\n%s", w, out)
				}
			}
			sd, err := parseSDP(out)
			if err != nil {
				t.Fatalf("rewritten SDP does not parse: %v", err)
			}
			for i, md := range sd.MediaDescriptions {
				isDeclined := md.MediaName.Port.Value == 0
				wantDeclined := false
				for _, d := range tc.declined {
					wantDeclined = wantDeclined || d == i
				}
				if isDeclined != wantDeclined {
					t.Errorf("m= line %d declined = %v, want %v", i, isDeclined, wantDeclined)
				}
			}
		})
	}
}

func TestAnswerMismatchedLines(t *testing.T) {
	e := testEngine(t, Config{})
	s := testSession(t, e, SessionOptions{})
	if _, err := s.Answer(LegB, offerSDP(sdpOpts{port: 4000})); !errors.Is(err, ErrNoOffer) {
		t.Fatalf("answer without offer: %v", err)
	}
	if _, err := s.Offer(LegA, readTestdata(t, "offer_multi.sdp")); err != nil {
		t.Fatal(err)
	}
	_, err := s.Answer(LegB, offerSDP(sdpOpts{port: 4000}))
	if !errors.Is(err, ErrBadSDP) || !strings.Contains(err.Error(), "1 m= lines, offer had 4") {
		t.Fatalf("err = %v", err)
	}
	if _, err := s.Offer(LegA, []byte("garbage")); !errors.Is(err, ErrBadSDP) {
		t.Fatalf("garbage: %v", err)
	}
}

func TestParseCrypto(t *testing.T) {
	key := testKeyA
	tests := []struct {
		name    string
		in      string
		tag     int
		suite   string
		wantErr error
	}{
		{"80", "1 AES_CM_128_HMAC_SHA1_80 inline:" + key, 1, SuiteAES128SHA1_80, nil},
		{"lifetime", "2 AES_CM_128_HMAC_SHA1_32 inline:" + key + "|2^31", 2,
			SuiteAES128SHA1_32, nil},
		{"unpadded", "3 AES_CM_128_HMAC_SHA1_80 inline:" + strings.TrimRight(key, "="), 3,
			SuiteAES128SHA1_80, nil},
		{"gcm", "4 AEAD_AES_128_GCM inline:" + testKeyGCM, 4, SuiteAEADAES128GCM, nil},
		{"mki", "1 AES_CM_128_HMAC_SHA1_80 inline:" + key + "|2^20|1:4", 0, "", ErrBadCrypto},
		{"session params", "1 AES_CM_128_HMAC_SHA1_80 inline:" + key + " KDR=1", 0, "",
			ErrBadCrypto},
		{"unknown suite", "1 F8_128_HMAC_SHA1_80 inline:" + key, 0, "", ErrNoCryptoSuite},
		{"bad tag", "x AES_CM_128_HMAC_SHA1_80 inline:" + key, 0, "", ErrBadCrypto},
		{"not inline", "1 AES_CM_128_HMAC_SHA1_80 uri:" + key, 0, "", ErrBadCrypto},
		{"bad base64", "1 AES_CM_128_HMAC_SHA1_80 inline:!!!!", 0, "", ErrBadCrypto},
		{"short", "1 AES_CM_128_HMAC_SHA1_80", 0, "", ErrBadCrypto},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := parseCrypto(tc.in)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if err != nil {
				if strings.Contains(err.Error(), key[:10]) {
					t.Fatalf("error text carries key material: %v", err)
				}

				return
			}
			if c.tag != tc.tag || c.suite.name != tc.suite {
				t.Fatalf("got tag %d suite %s", c.tag, c.suite.name)
			}
			back, err := parseCrypto(c.String())
			if err != nil || !back.equal(c) {
				t.Fatalf("round trip: %v", err)
			}
		})
	}
}
