package media

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// DefaultRecordLimit caps a recording when StartRecording gets zero.
const DefaultRecordLimit = time.Hour

// recordWindow is how far behind the newest sample a late packet may
// still land; older audio is flushed to the spool file (2 s at 8 kHz).
const recordWindow = 2 * audioRate

// recorder collects both directions of leg A's audio as 8 kHz PCM.
// Channel 0 is what leg A sends, channel 1 what leg A hears (Play, or
// leg B when bridged; SendDTMF is not rendered). Each channel is placed
// by RTP timestamp after anchoring its first packet (and each new SSRC)
// at its arrival time, so silence and gaps are preserved. Audio older
// than recordWindow is written, interleaved, to a spool file, so memory
// stays small however long the recording runs.
type recorder struct {
	start int64
	limit int

	// mu guards ch, flushed, spool, out and err.
	mu      sync.Mutex
	ch      [2]recChannel
	flushed int // samples per channel already in the spool
	spool   *os.File
	out     *bufio.Writer
	err     error
}

// recChannel holds one direction from sample flushed onwards.
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
	end := min(off+len(s), r.limit)
	if off < r.flushed {
		s, off = s[min(len(s), r.flushed-off):], r.flushed
	}
	if off >= end {
		return
	}
	for len(ch.samples) < end-r.flushed {
		ch.samples = append(ch.samples, 0)
	}
	copy(ch.samples[off-r.flushed:end-r.flushed], s)
	if newest := r.flushed + len(ch.samples); newest-r.flushed > 2*recordWindow {
		r.flushLocked(newest - recordWindow)
	}
}

// flushLocked writes both channels, interleaved, up to sample upTo.
func (r *recorder) flushLocked(upTo int) {
	n := upTo - r.flushed
	if n <= 0 {
		return
	}
	var frame [4]byte
	for i := range n {
		for c := range r.ch {
			var v int16
			if i < len(r.ch[c].samples) {
				v = r.ch[c].samples[i]
			}
			binary.LittleEndian.PutUint16(frame[2*c:], uint16(v))
		}
		if _, err := r.out.Write(frame[:]); err != nil && r.err == nil {
			r.err = fmt.Errorf("media: write recording spool: %w", err)
		}
	}
	for c := range r.ch {
		k := min(n, len(r.ch[c].samples))
		r.ch[c].samples = append(r.ch[c].samples[:0], r.ch[c].samples[k:]...)
	}
	r.flushed = upTo
}

// Recording is a running recording of a session; see StartRecording.
type Recording struct {
	s    *Session
	r    *recorder
	once sync.Once
}

// StartRecording records both directions of leg A (see recorder for
// the channel layout) until Stop, at most limit (DefaultRecordLimit
// when zero). Audio goes to a spool file in Config.RecordDir as the
// call runs; a few seconds stay in memory. Stop must be called, also
// after the session ended (the recording stays readable), or the spool
// file is left behind. It fails with ErrRecording while another
// recording runs.
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
	spool, err := os.CreateTemp(s.e.cfg.RecordDir, "patchbay-rec-*.pcm")
	if err != nil {
		return nil, fmt.Errorf("media: recording spool: %w", err)
	}
	r := &recorder{start: s.e.nanotime(), limit: int(limit * audioRate / time.Second),
		spool: spool, out: bufio.NewWriterSize(spool, 64<<10)}
	if !s.rec.CompareAndSwap(nil, r) {
		r.discard()

		return nil, ErrRecording
	}

	return &Recording{s: s, r: r}, nil
}

// discard removes the spool file.
func (r *recorder) discard() {
	_ = r.spool.Close()
	_ = os.Remove(r.spool.Name())
}

// Stop ends the recording and writes it to w as a 2-channel 16-bit
// 8 kHz WAV file (left: leg A's voice, right: what leg A heard), then
// removes the spool file. It returns the recorded duration. Calls
// after the first return an error wrapping ErrRecording.
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
	defer r.discard()
	r.flushLocked(r.flushed + max(len(r.ch[0].samples), len(r.ch[1].samples)))
	if err := errors.Join(r.err, r.out.Flush()); err != nil {
		return 0, err
	}
	frames := r.flushed
	if err := writeWAVHeader(w, 2, frames); err != nil {
		return 0, err
	}
	if _, err := r.spool.Seek(0, io.SeekStart); err != nil {
		return 0, fmt.Errorf("media: read recording spool: %w", err)
	}
	if _, err := io.Copy(w, r.spool); err != nil {
		return 0, fmt.Errorf("media: write wav: %w", err)
	}

	return time.Duration(frames) * time.Second / audioRate, nil
}
