package media

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

var (
	maskPort = regexp.MustCompile(`(m=\w+ )[1-9][0-9]*`)
	maskRTCP = regexp.MustCompile(`a=rtcp:[0-9]+`)
	maskKey  = regexp.MustCompile(`inline:[A-Za-z0-9+/=]+`)
)

// masked replaces what changes per run (relay ports, fresh keys).
func masked(b []byte) []byte {
	b = maskPort.ReplaceAll(b, []byte("${1}PORT"))
	b = maskRTCP.ReplaceAll(b, []byte("a=rtcp:PORT"))

	return maskKey.ReplaceAll(b, []byte("inline:KEY"))
}

// TestRewriteGolden pins whole rewritten offers; regenerate with
// go test ./media -run TestRewriteGolden -update.
func TestRewriteGolden(t *testing.T) {
	tests := []struct {
		in     string
		policy [2]SRTPPolicy
	}{
		{"offer_multi.sdp", [2]SRTPPolicy{SRTPMirror, SRTPRequire}},
		{"offer_ice_sdes.sdp", [2]SRTPPolicy{}},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			e := testEngine(t, Config{})
			s := testSession(t, e, SessionOptions{SRTP: tc.policy})
			out, err := s.Offer(LegA, readTestdata(t, tc.in))
			if err != nil {
				t.Fatal(err)
			}
			got := masked(out)
			path := filepath.Join("..", "testdata", "media", tc.in+".rewritten.golden")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update)", err)
			}
			if string(got) != string(want) {
				t.Fatalf("rewritten offer differs from %s:\n%s", path, got)
			}
		})
	}
}
