package media

import (
	"math"
	"testing"
	"time"
)

// goertzel returns the power of frequency f in samples (8 kHz).
func goertzel(samples []int16, f float64) float64 {
	k := 2 * math.Cos(2*math.Pi*f/audioRate)
	var s1, s2 float64
	for _, x := range samples {
		s0 := float64(x) + k*s1 - s2
		s2, s1 = s1, s0
	}

	return s1*s1 + s2*s2 - k*s1*s2
}

func TestRingback(t *testing.T) {
	a := Ringback()
	if a.Duration() != 6*time.Second {
		t.Fatalf("cycle of %v, want 6s", a.Duration())
	}
	tone, silence := a.Samples[:2*audioRate], a.Samples[2*audioRate:]
	for _, s := range silence {
		if s != 0 {
			t.Fatal("the last four seconds are not silent")
		}
	}
	window := tone[:800] // 100 ms
	p440, p480 := goertzel(window, 440), goertzel(window, 480)
	p1000 := goertzel(window, 1000)
	if p440 < 100*p1000 || p480 < 100*p1000 {
		t.Errorf("power at 440, 480, 1000 Hz: %.3g %.3g %.3g", p440, p480, p1000)
	}
	peak := 0
	for _, s := range tone {
		peak = max(peak, int(s), -int(s))
	}
	if peak < 8000 || peak > 10000 {
		t.Errorf("peak %d, want about 10000 (two tones of 5000)", peak)
	}
}
