package media

import (
	"math"
	"sync"
)

// Ringback returns one cycle of the ringing tone a caller hears while
// Patchbay rings someone for it after answering it itself: 440 Hz plus
// 480 Hz for two seconds, then four seconds of silence (the North American
// ringback of ITU-T E.180), each tone about 16 dB below full scale. The
// Audio is shared; it must not be changed.
func Ringback() *Audio { return ringback() }

var ringback = sync.OnceValue(func() *Audio {
	const (
		on        = 2 * audioRate
		off       = 4 * audioRate
		amplitude = 5000 // per tone, of 32767
	)
	a := &Audio{Samples: make([]int16, on+off)}
	for i := range on {
		t := float64(i) / audioRate
		v := amplitude * (math.Sin(2*math.Pi*440*t) + math.Sin(2*math.Pi*480*t))
		a.Samples[i] = int16(v)
	}

	return a
})
