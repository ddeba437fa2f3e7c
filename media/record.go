package media

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// DefaultRecordLimit caps a recording when StartRecording gets zero.
const DefaultRecordLimit = time.Hour

// recorder collects both directions of leg A's audio as 8 kHz PCM.
// Channel 0 is what leg A sends, channel 1 what leg A hears (Play,
// SendDTMF is not rendered, or leg B when bridged). Each channel is
// placed by RTP timestamp after anchoring its first packet (and each
// new SSRC) at its arrival time, so silence and gaps are preserved.
type recorder struct {
	start int64
	limit int

	// mu guards ch.
	mu sync.Mutex
	ch [2]recChannel
}

type recChannel struct {
	anchored bool
	ssrc     uint32
	baseTS   uint32
	baseOff  int
	samples  []int16
	scratch  []int16
}

// tap decodes an RTP payload (PCMU or PCMA only) into the channel.
func (r *recorder) tap(fromA bool, h rtpHeader, payload []byte, now int64) {
	if h.pt != 0 && h.pt != 8 {
		return
	}
	c := 1
	if fromA {
		c = 0
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	ch := &r.ch[c]
	ch.scratch = decodeG711(ch.scratch[:0], h.pt, payload)
	r.placeLocked(ch, h.ssrc, h.ts, ch.scratch, now)
}

// tapSamples records samples Patchbay itself sends to leg A.
func (r *recorder) tapSamples(fromA bool, ssrc, ts uint32, samples []int16, now int64) {
	c := 1
	if fromA {
		c = 0
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.placeLocked(&r.ch[c], ssrc, ts, samples, now)
}

func (r *recorder) placeLocked(ch *recChannel, ssrc, ts uint32, s []int16, now int64) {
	if !ch.anchored || ch.ssrc != ssrc {
		ch.anchored, ch.ssrc, ch.baseTS = true, ssrc, ts
		ch.baseOff = int((now - r.start) * audioRate / int64(time.Second))
	}
	off := ch.baseOff + int(int32(ts-ch.baseTS))
	if off < 0 || off >= r.limit {
		return
	}
	end := min(off+len(s), r.limit)
	for len(ch.samples) < end {
		ch.samples = append(ch.samples, 0)
	}
	copy(ch.samples[off:end], s)
}

// Recording is a running recording of a session; see StartRecording.
type Recording struct {
	s    *Session
	r    *recorder
	once sync.Once
}

// StartRecording records both directions of leg A (see recorder for
// the channel layout) until Stop, at most limit (DefaultRecordLimit
// when zero). Audio is held in memory, 32 kB per second. It fails with
// ErrRecording while another recording runs.
func (s *Session) StartRecording(limit time.Duration) (*Recording, error) {
	if s.closed() {
		return nil, ErrSessionClosed
	}
	if s.opts.Mode == ModePeerToPeer {
		return nil, ErrWrongMode
	}
	if limit <= 0 {
		limit = DefaultRecordLimit
	}
	r := &recorder{start: s.e.nanotime(), limit: int(limit * audioRate / time.Second)}
	if !s.rec.CompareAndSwap(nil, r) {
		return nil, ErrRecording
	}

	return &Recording{s: s, r: r}, nil
}

// Stop ends the recording and writes it to w as a 2-channel 16-bit
// 8 kHz WAV file (left: leg A's voice, right: what leg A heard). It
// returns the recorded duration. Calls after the first return an error
// wrapping ErrRecording.
func (rec *Recording) Stop(w io.Writer) (time.Duration, error) {
	stopped := false
	rec.once.Do(func() {
		rec.s.rec.CompareAndSwap(rec.r, nil)
		stopped = true
	})
	if !stopped {
		return 0, fmt.Errorf("%w: already stopped", ErrRecording)
	}
	r := rec.r
	r.mu.Lock()
	defer r.mu.Unlock()
	n := max(len(r.ch[0].samples), len(r.ch[1].samples))
	inter := make([]int16, 2*n)
	for i := range n {
		if i < len(r.ch[0].samples) {
			inter[2*i] = r.ch[0].samples[i]
		}
		if i < len(r.ch[1].samples) {
			inter[2*i+1] = r.ch[1].samples[i]
		}
	}

	return time.Duration(n) * time.Second / audioRate, writeWAV(w, 2, inter)
}
