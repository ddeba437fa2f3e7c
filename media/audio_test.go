package media

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"testing"
	"time"
)

func TestG711RoundTrip(t *testing.T) {
	for _, pt := range []uint8{0, 8} {
		for v := -32768; v < 32768; v += 7 {
			in := int16(v)
			out := decodeG711(nil, pt, encodeG711(nil, pt, []int16{in}))[0]
			tol := math.Max(16, math.Abs(float64(in))/16)
			if math.Abs(float64(out)-float64(in)) > tol {
				t.Fatalf("pt %d: %d -> %d", pt, in, out)
			}
		}
	}
	// Known code points (ITU-T G.711): silence.
	if linearToMulaw(0) != 0xff || linearToAlaw(0) != 0xd5 {
		t.Fatalf("silence codes %#x %#x", linearToMulaw(0), linearToAlaw(0))
	}
}

// wavBytes builds a WAV file with the given format fields.
func wavBytes(format, channels uint16, rate uint32, bits uint16, data []byte) []byte {
	var b bytes.Buffer
	b.WriteString("RIFF")
	_ = binary.Write(&b, binary.LittleEndian, uint32(36+len(data)))
	b.WriteString("WAVEfmt ")
	for _, v := range []any{uint32(16), format, channels, rate,
		rate * uint32(channels*bits/8), channels * bits / 8, bits} {
		_ = binary.Write(&b, binary.LittleEndian, v)
	}
	b.WriteString("LIST")
	_ = binary.Write(&b, binary.LittleEndian, uint32(3))
	b.WriteString("abc\x00")
	b.WriteString("data")
	_ = binary.Write(&b, binary.LittleEndian, uint32(len(data)))
	b.Write(data)

	return b.Bytes()
}

func pcm16(samples ...int16) []byte {
	b := make([]byte, 2*len(samples))
	for i, s := range samples {
		binary.LittleEndian.PutUint16(b[2*i:], uint16(s))
	}

	return b
}

func TestParseWAV(t *testing.T) {
	sixteenK := make([]int16, 1600)
	for i := range sixteenK {
		sixteenK[i] = int16(i)
	}
	tests := []struct {
		name    string
		in      []byte
		want    int // samples at 8 kHz
		first   int16
		wantErr error
	}{
		{"pcm 8k mono", wavBytes(1, 1, 8000, 16, pcm16(100, 200, 300)), 3, 100, nil},
		{"pcm 16k resampled", wavBytes(1, 1, 16000, 16, pcm16(sixteenK...)), 800, 0, nil},
		{"stereo averaged", wavBytes(1, 2, 8000, 16, pcm16(100, 300, 0, 0)), 2, 200, nil},
		{"mulaw", wavBytes(7, 1, 8000, 8, []byte{0xff, 0x80}), 2, 0, nil},
		{"alaw", wavBytes(6, 1, 8000, 8, []byte{0xd5}), 1, 8, nil},
		{"8-bit pcm", wavBytes(1, 1, 8000, 8, []byte{1}), 0, 0, ErrBadWAV},
		{"not riff", []byte("RIFX...."), 0, 0, ErrBadWAV},
		{"no data", wavBytes(1, 1, 8000, 16, nil)[:36], 0, 0, ErrBadWAV},
		{"zero channels", wavBytes(1, 0, 8000, 16, pcm16(1)), 0, 0, ErrBadWAV},
		{"absurd rate", wavBytes(1, 1, 1, 16, pcm16(1)), 0, 0, ErrBadWAV},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, err := ReadWAV(bytes.NewReader(tc.in))
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if err != nil {
				return
			}
			if len(a.Samples) != tc.want || a.Samples[0] != tc.first {
				t.Fatalf("got %d samples, first %d", len(a.Samples), a.Samples[0])
			}
		})
	}
}

func TestWAVRoundTrip(t *testing.T) {
	a := tone(8000, 440)
	var buf bytes.Buffer
	if err := a.EncodeWAV(&buf); err != nil {
		t.Fatal(err)
	}
	back, err := ParseWAV(buf.Bytes())
	if err != nil || len(back.Samples) != len(a.Samples) || back.Samples[99] != a.Samples[99] {
		t.Fatalf("round trip: %v", err)
	}
	if back.Duration() != time.Second {
		t.Fatalf("duration %v", back.Duration())
	}
}
