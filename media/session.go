package media

import (
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Leg names one side of a session: LegA is the caller, LegB the callee.
type Leg int

// The two legs of a Session.
const (
	LegA Leg = iota
	LegB
)

func (l Leg) other() Leg { return 1 - l }

// String returns "a" or "b", the leg label of logs and metrics.
func (l Leg) String() string {
	if l == LegA {
		return "a"
	}

	return "b"
}

// Mode is how a session carries media.
type Mode int

// Session modes. ModeRelay anchors media on Patchbay (and is required
// for SRTP interworking, recording and the endpoint verbs);
// ModePeerToPeer passes SDP through untouched and uses no ports.
const (
	ModeRelay Mode = iota
	ModePeerToPeer
)

// String returns "relay" or "p2p", the values written to CDRs.
func (m Mode) String() string {
	if m == ModePeerToPeer {
		return "p2p"
	}

	return "relay"
}

// SRTPPolicy is what one leg must use.
type SRTPPolicy int

// SRTP policies. For the leg that sends an offer, SRTPMirror and
// SRTPOff both accept what it offers (an answer cannot change the
// transport); SRTPRequire rejects a plain offer with ErrSRTPRequired.
// For the leg receiving the offer, SRTPMirror offers what the other leg
// offered, SRTPRequire offers SDES-SRTP (and an answer without it fails
// with ErrSRTPRequired), SRTPOff offers plain RTP.
const (
	SRTPMirror SRTPPolicy = iota
	SRTPRequire
	SRTPOff
)

// SessionOptions configures one call's media session.
type SessionOptions struct {
	// CallID and Tenant label the session's logs; media never
	// interprets them.
	CallID string
	Tenant string

	// Mode selects relay (zero value) or peer-to-peer.
	Mode Mode

	// SRTP holds the policy of each leg, indexed by Leg.
	SRTP [2]SRTPPolicy
}

// Session is the media of one call: the streams between leg A and leg
// B, or between leg A and Patchbay acting as far end. Its methods are
// safe for concurrent use. Offer/Answer follow RFC 3264: at most one
// offer is outstanding at a time.
type Session struct {
	e    *Engine
	opts SessionOptions
	log  *slog.Logger

	// mu guards streams, pending, answered, hold and localState.
	mu         sync.Mutex
	streams    []*stream
	pending    *pendingOffer
	answered   *pendingOffer
	hold       [2]bool
	localState *localEnd

	local   atomic.Pointer[localEnd]
	rec     atomic.Pointer[recorder]
	lastRTP atomic.Int64
	onHold  atomic.Bool
	dtmf    chan DTMFEvent
	dtmfOff atomic.Uint64

	closeOnce sync.Once
	done      chan struct{}
	// wg counts the session's own goroutines (local RTCP); end waits.
	wg        sync.WaitGroup
	rtcpEvery time.Duration
	cause     atomic.Pointer[error]
	final     Stats
}

// stream is one relayed m= section: Patchbay's socket pair facing each
// leg (nil until that leg is involved).
type stream struct {
	index int
	legs  [2]*legConn
	// local holds Patchbay's current key towards each leg, reused in
	// re-offers so that the peer's decryption state survives.
	local [2]*cryptoAttr
}

// Mode returns the session's media mode.
func (s *Session) Mode() Mode { return s.opts.Mode }

// Done is closed when the session ended, by Close or by the media
// timeout; Err then tells which.
func (s *Session) Done() <-chan struct{} { return s.done }

// Err returns nil while the session runs, ErrMediaTimeout after a
// media timeout, ErrSessionClosed after Close.
func (s *Session) Err() error {
	if p := s.cause.Load(); p != nil {
		return *p
	}

	return nil
}

// DTMF returns the channel on which detected digits arrive (RFC 4733
// events from either leg, and InjectDTMF). It is buffered; digits
// arriving while it is full are dropped. It is never closed; select on
// Done as well.
func (s *Session) DTMF() <-chan DTMFEvent { return s.dtmf }

// InjectDTMF delivers a digit learnt out of band (SIP INFO) on the
// DTMF channel, so a Gather sees one stream of digits.
func (s *Session) InjectDTMF(ev DTMFEvent) error {
	if _, err := digitEvent(ev.Digit); err != nil {
		return err
	}
	s.emitDTMF(ev.Leg, ev, ev.Source)

	return nil
}

func (s *Session) emitDTMF(leg Leg, ev DTMFEvent, source string) {
	ev.Leg, ev.Source = leg, source
	select {
	case s.dtmf <- ev:
	default:
		s.dtmfOff.Add(1)
	}
}

// Stats returns a snapshot of both legs; after Close it returns the
// final figures.
func (s *Session) Stats() Stats {
	select {
	case <-s.done:
		s.mu.Lock()
		defer s.mu.Unlock()

		return s.final
	default:
	}
	s.mu.Lock()
	defer s.mu.Unlock()

	return s.statsLocked()
}

func (s *Session) statsLocked() Stats {
	st := Stats{Mode: s.opts.Mode}
	for _, str := range s.streams {
		if str == nil {
			continue
		}
		for leg, l := range str.legs {
			if l != nil {
				l.snapshotInto(&st.Legs[leg])
			}
		}
	}

	return st
}

// setHoldLocked records the hold state of leg's latest SDP; the media
// timeout is suspended while any leg is on hold.
func (s *Session) setHoldLocked(leg Leg, hold bool) {
	s.hold[leg] = hold
	s.onHold.Store(s.hold[LegA] || s.hold[LegB])
	s.lastRTP.Store(s.e.nanotime())
}

// Close ends the session: readers stop, ports are drained and returned
// to the pool (quarantined), Play and SendDTMF return. It is
// idempotent and returns after every loop of the session ended.
func (s *Session) Close() error {
	s.end(ErrSessionClosed)

	return nil
}

func (s *Session) end(cause error) {
	s.closeOnce.Do(func() {
		s.cause.Store(&cause)
		s.mu.Lock()
		defer s.mu.Unlock()
		drained := 0
		for _, str := range s.streams {
			for _, l := range str.legsOrNil() {
				drained += l.close(s.e.pool)
			}
		}
		s.final = s.statsLocked()
		close(s.done)
		s.wg.Wait()
		s.e.forget(s, s.final)
		s.log.Info("media session ended", "cause", cause.Error(),
			"mode", s.opts.Mode.String(), "drained_packets", drained,
			"packets_in_a", s.final.Legs[LegA].PacketsIn,
			"packets_in_b", s.final.Legs[LegB].PacketsIn)
	})
}

func (str *stream) legsOrNil() []*legConn {
	if str == nil {
		return nil
	}
	var out []*legConn
	for _, l := range str.legs {
		if l != nil {
			out = append(out, l)
		}
	}

	return out
}

func (s *Session) closed() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}
