package media

import (
	"fmt"
	"strings"
)

// DetachB ends leg B's part of the session — B hung up or a Dial ended —
// and makes Patchbay leg A's far end again, so Play, Gather, Record and
// a later OfferLocal (the next Dial) work on A. B's ports are drained
// and released; its final stats are returned for its CDR. Leg A keeps
// its address, latch, keys and codec: no new SDP is sent to A. When A
// was relayed from the start, its negotiated codec must be PCMU or PCMA
// (else ErrNoCodec, and B is still detached). An outstanding offer is
// dropped.
func (s *Session) DetachB() (LegStats, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed() {
		return LegStats{}, ErrSessionClosed
	}
	if s.opts.Mode == ModePeerToPeer {
		return LegStats{}, ErrWrongMode
	}
	var final LegStats
	for _, str := range s.streams {
		if str == nil || str.legs[LegB] == nil {
			continue
		}
		l := str.legs[LegB]
		l.close(s.e.pool)
		l.snapshotInto(&final)
		str.legs[LegB], str.local[LegB] = nil, nil
		if a := str.legs[LegA]; a != nil {
			a.peer.Store(nil)
		}
	}
	s.pending, s.answered = nil, nil
	s.setHoldLocked(LegB, false)
	s.log.Info("media leg detached", "leg", LegB.String())
	if s.localState != nil {
		s.local.Store(s.localState)

		return final, nil
	}

	return final, s.becomeLocalLocked()
}

// becomeLocalLocked turns a relayed leg A into a locally answered one,
// with the codec A negotiated.
func (s *Session) becomeLocalLocked() error {
	for i, str := range s.streams {
		if str == nil || str.legs[LegA] == nil {
			continue
		}
		l := str.legs[LegA]
		codec := ""
		if c := l.codec.Load(); c != nil {
			codec = *c
		}
		var pt uint8
		switch name, _, _ := strings.Cut(strings.ToUpper(codec), "/"); name {
		case "PCMU":
			pt = 0
		case "PCMA":
			pt = 8
		default:
			continue
		}
		le := s.localEndLocked(i, l, pt, codec, int(l.tevPT.Load()))
		s.local.Store(le)

		return nil
	}

	return fmt.Errorf("%w: leg a negotiated no PCMU or PCMA stream", ErrNoCodec)
}
