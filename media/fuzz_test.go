package media

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// seedFiles adds every testdata/media file matching glob to f.
func seedFiles(f *testing.F, glob string) {
	f.Helper()
	paths, err := filepath.Glob(filepath.Join("..", "testdata", "media", glob))
	if err != nil || len(paths) == 0 {
		f.Fatalf("no seeds for %s: %v", glob, err)
	}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

func FuzzParseRTP(f *testing.F) {
	seedFiles(f, "*.rtp")
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := parseRTP(b)
		if err != nil {
			return
		}
		if h.payload < rtpFixedLen || h.payload > h.end || h.end > len(b) {
			t.Fatalf("bounds %d..%d of %d", h.payload, h.end, len(b))
		}
	})
}

func FuzzWalkRTCP(f *testing.F) {
	seedFiles(f, "*.rtcp")
	f.Fuzz(func(t *testing.T, b []byte) {
		info, _ := walkRTCP(b)
		if info.nblocks > len(info.blocks) {
			t.Fatalf("%d blocks", info.nblocks)
		}
		_ = isRTCP(b)
	})
}

func FuzzParseCrypto(f *testing.F) {
	file, err := os.Open(filepath.Join("..", "testdata", "media", "crypto_lines.txt"))
	if err != nil {
		f.Fatal(err)
	}
	defer file.Close()
	sc := bufio.NewScanner(file)
	for sc.Scan() {
		f.Add(sc.Text())
	}
	f.Fuzz(func(t *testing.T, line string) {
		c, err := parseCrypto(line)
		if err != nil {
			return
		}
		if len(c.key) != c.suite.keyLen+c.suite.saltLen {
			t.Fatalf("key length %d for %s", len(c.key), c.suite.name)
		}
		if _, err := c.srtpContext(true); err != nil {
			t.Fatalf("accepted line gives no context: %v", err)
		}
	})
}

func FuzzParseWAV(f *testing.F) {
	seedFiles(f, "*.wav")
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := ParseWAV(b)
		if err == nil && a == nil {
			t.Fatal("nil audio without error")
		}
	})
}

func FuzzTelephoneEvent(f *testing.F) {
	f.Add([]byte{1, 0x8a, 0x03, 0x20})
	f.Add([]byte{16, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		var ds dtmfState
		h := rtpHeader{ts: 1}
		if ev, ok := ds.observe(h, b); ok && !strings.ContainsRune(dtmfDigits, ev.Digit) {
			t.Fatalf("digit %q", ev.Digit)
		}
	})
}

// FuzzOfferAnswer feeds SDP to a relay session as offer and as answer:
// bad input must give an error, never a panic, and accepted SDP must
// come back parseable.
func FuzzOfferAnswer(f *testing.F) {
	seedFiles(f, "*.sdp")
	e := testEngine(f, Config{Quarantine: time.Nanosecond})
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, mode := range []Mode{ModeRelay, ModePeerToPeer} {
			s, err := e.NewSession(SessionOptions{Mode: mode})
			if err != nil {
				t.Fatal(err)
			}
			out, err := s.Offer(LegA, b)
			if err == nil {
				if _, perr := parseSDP(out); perr != nil && mode == ModeRelay {
					t.Fatalf("rewritten offer does not parse: %v\n%q", perr, out)
				}
				_, _ = s.Answer(LegB, b)
			}
			if ans, err := s.AnswerLocal(bytes.Clone(b)); err == nil {
				if _, perr := parseSDP(ans); perr != nil {
					t.Fatalf("local answer does not parse: %v\n%q", perr, ans)
				}
			}
			_ = s.Close()
		}
	})
}
