package media

import (
	"context"
	"fmt"
	"time"
)

// frame is the packetization interval of everything Patchbay sends.
const (
	frame        = 20 * time.Millisecond
	frameSamples = audioRate * int(frame) / int(time.Second)
)

// activeLocal returns the local end if Play and SendDTMF may run.
func (s *Session) activeLocal() (*localEnd, error) {
	if s.closed() {
		return nil, ErrSessionClosed
	}
	if s.opts.Mode == ModePeerToPeer {
		return nil, ErrWrongMode
	}
	if le := s.local.Load(); le != nil {
		return le, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.localState != nil {
		return nil, ErrBridged
	}

	return nil, ErrNotNegotiated
}

// pacer sleeps until start + n frames, returning early with the reason
// the caller must stop: ctx done, session closed, or bridged.
type pacer struct {
	s     *Session
	le    *localEnd
	start time.Time
	timer *time.Timer
}

func newPacer(s *Session, le *localEnd) *pacer {
	t := time.NewTimer(time.Hour)
	t.Stop()

	return &pacer{s: s, le: le, start: time.Now(), timer: t}
}

func (p *pacer) wait(ctx context.Context, n int) error {
	if d := time.Until(p.start.Add(time.Duration(n) * frame)); d > 0 {
		p.timer.Reset(d)
		select {
		case <-ctx.Done():
			p.timer.Stop()

			return context.Cause(ctx)
		case <-p.s.done:
			p.timer.Stop()

			return ErrSessionClosed
		case <-p.timer.C:
		}
	}
	if err := ctx.Err(); err != nil {
		return context.Cause(ctx)
	}
	if p.s.closed() {
		return ErrSessionClosed
	}
	if p.s.local.Load() != p.le {
		return ErrBridged
	}

	return nil
}

// Play sends a to leg A in the negotiated codec, one packet every 20 ms
// on an absolute schedule (so pacing does not drift), and returns when
// all of it was sent, ctx ends (its cause), the session closes
// (ErrSessionClosed) or is bridged (ErrBridged). The first packet
// carries the marker bit. Play and SendDTMF may run concurrently; their
// packets share one RTP stream.
func (s *Session) Play(ctx context.Context, a *Audio) error {
	le, err := s.activeLocal()
	if err != nil {
		return err
	}
	p := newPacer(s, le)
	ts0 := le.tsNow()
	payload := make([]byte, 0, frameSamples)
	for n := 0; n*frameSamples < len(a.Samples); n++ {
		if err := p.wait(ctx, n); err != nil {
			return err
		}
		chunk := a.Samples[n*frameSamples : min((n+1)*frameSamples, len(a.Samples))]
		ts := ts0 + uint32(n*frameSamples)
		le.mu.Lock()
		payload = encodeG711(payload[:0], le.pt, chunk)
		for len(payload) < frameSamples {
			payload = append(payload, encodeG711(nil, le.pt, []int16{0})...)
		}
		le.sendLocked(n == 0, le.pt, ts, payload)
		le.mu.Unlock()
		if rec := s.rec.Load(); rec != nil {
			rec.tapSamples(false, le.ssrc, ts, chunk, s.e.nanotime())
		}
	}

	return nil
}

// DefaultDTMFDuration is the tone length SendDTMF uses for zero.
const DefaultDTMFDuration = 100 * time.Millisecond

// SendDTMF sends digits to leg A as RFC 4733 telephone-event packets:
// per digit a packet every 20 ms for duration (at least 40 ms), the
// first with the marker bit, then the end packet three times (section
// 2.5.1.4), then a 60 ms gap. It fails with ErrBadDTMF before sending
// anything if a digit is invalid, and with ErrNoCodec when leg A did
// not negotiate telephone-event.
func (s *Session) SendDTMF(ctx context.Context, digits string, duration time.Duration) error {
	le, err := s.activeLocal()
	if err != nil {
		return err
	}
	if le.tevPT < 0 {
		return fmt.Errorf("%w: telephone-event not negotiated", ErrNoCodec)
	}
	events := make([]byte, 0, len(digits))
	for _, d := range digits {
		ev, err := digitEvent(d)
		if err != nil {
			return err
		}
		events = append(events, ev)
	}
	if duration == 0 {
		duration = DefaultDTMFDuration
	}
	steps := max(int(duration/frame), 2)
	p := newPacer(s, le)
	n := 0
	for _, ev := range events {
		if err := s.sendDigit(ctx, p, &n, le, ev, steps); err != nil {
			return err
		}
		n += 3
	}

	return nil
}

func (s *Session) sendDigit(ctx context.Context, p *pacer, n *int, le *localEnd, ev byte,
	steps int) error {
	ts := le.tsNow()
	var payload [4]byte
	for k := range steps + 3 {
		if err := p.wait(ctx, *n); err != nil {
			return err
		}
		*n++
		te := telephoneEvent{event: ev, volume: 10,
			duration: uint16(min(k+1, steps) * frameSamples), end: k >= steps}
		te.put(payload[:])
		le.mu.Lock()
		le.sendLocked(k == 0, uint8(le.tevPT), ts, payload[:])
		le.mu.Unlock()
	}

	return nil
}
