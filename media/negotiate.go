package media

import (
	"fmt"
	"strings"

	"github.com/pion/sdp/v3"
)

// pendingOffer is an offer Patchbay forwarded and whose answer it
// awaits; local is true when OfferLocal produced it.
type pendingOffer struct {
	from  Leg
	local bool
	media []pendingMedia
}

// pendingMedia remembers, per m= section of the offer, what the offerer
// signalled and what Patchbay offered to the answerer.
type pendingMedia struct {
	relayed    bool
	desc       streamDesc
	fromRemote *cryptoAttr
	fromLocal  *cryptoAttr
	offered    []cryptoAttr
	offeredMux bool
	stream     *stream
}

// Offer takes an SDP offer (RFC 3264 section 5) from leg from and
// returns the offer to send to the other leg. In relay mode every
// audio or video RTP section gets Patchbay's address and a port pair
// per leg, SRTP is terminated per leg according to SessionOptions.SRTP,
// and sections that cannot be relayed are declined with port 0. In
// peer-to-peer mode the body comes back unchanged. A re-offer (hold,
// resume, codec change) reuses the ports of its sections. An offer from
// the leg whose offer is still outstanding replaces it (serial forking:
// the next B gets the offer again); an offer from the other leg
// meanwhile fails with ErrOfferPending (glare, 491).
func (s *Session) Offer(from Leg, body []byte) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed() {
		return nil, ErrSessionClosed
	}
	sd, foreign, err := parseSDPForeign(body)
	if err != nil {
		return nil, err
	}
	if s.opts.Mode == ModePeerToPeer {
		return s.passThroughLocked(from, sd, body)
	}
	if s.pending != nil && s.pending.from != from {
		return nil, ErrOfferPending
	}
	if s.localState != nil && s.local.Load() != nil {
		return nil, fmt.Errorf("%w: leg a is answered locally, use AnswerLocal", ErrWrongMode)
	}
	p, err := s.relayOfferLocked(from, sd)
	if err != nil {
		return nil, err
	}
	rewriteSession(sd, s.e.cfg.PublicAddr)
	out, err := marshalSDP(sd, foreign)
	if err != nil {
		return nil, err
	}
	s.pending = p

	return out, nil
}

func (s *Session) relayOfferLocked(from Leg, sd *sdp.SessionDescription) (*pendingOffer, error) {
	p := &pendingOffer{from: from}
	to := from.other()
	relayed, hold := 0, false
	for i, md := range sd.MediaDescriptions {
		d := describe(sd, md, s.e.bindV6())
		pm := pendingMedia{desc: d}
		if !d.relayable {
			declineMedia(md)
			p.media = append(p.media, pm)

			continue
		}
		// An offer with rtcp-mux settles the offerer's (Patchbay's answer
		// always accepts it); the answerer's waits for its answer. One
		// without settles both legs on separate RTCP ports.
		str, err := s.streamLocked(i, muxOf(from, d.mux), from, to)
		if err != nil {
			return nil, err
		}
		if err := str.ensureRTCP(d.mux, from, to); err != nil {
			return nil, fmt.Errorf("media: offer from leg %s, m= line %d: %w", from, i, err)
		}
		if pm.fromRemote, pm.fromLocal, err = s.acceptCrypto(from, str, d); err != nil {
			return nil, fmt.Errorf("media: offer from leg %s, m= line %d: %w", from, i, err)
		}
		pm.offered, err = s.offerCrypto(to, str, pm.fromRemote != nil)
		if err != nil {
			return nil, err
		}
		pm.relayed, pm.offeredMux, pm.stream = true, d.mux, str
		rewriteMedia(sd, md, s.e.cfg.PublicAddr, mediaRewrite{
			port:   str.legs[to].port,
			proto:  s.protoFor(to, d, len(pm.offered) > 0),
			mux:    d.mux,
			crypto: pm.offered,
		})
		p.media = append(p.media, pm)
		relayed++
		hold = hold || d.hold
	}
	if relayed == 0 {
		return nil, ErrNoMedia
	}
	s.setHoldLocked(from, hold)

	return p, nil
}

// protoFor is the transport offered to leg to.
func (s *Session) protoFor(to Leg, d streamDesc, secure bool) string {
	switch {
	case !secure:
		return plainProto(d.proto)
	case s.opts.SRTP[to] == SRTPMirror && len(d.crypto) > 0:
		return d.proto
	default:
		return secureProto(d.proto)
	}
}

// streamLocked returns stream i with a port pair for each of legs,
// acquiring what is missing. A new leg binds its RTCP socket unless
// mux[leg] says its rtcp-mux is already settled.
func (s *Session) streamLocked(i int, mux [2]bool, legs ...Leg) (*stream, error) {
	for len(s.streams) <= i {
		s.streams = append(s.streams, nil)
	}
	if s.streams[i] == nil {
		s.streams[i] = &stream{index: i}
	}
	str := s.streams[i]
	for _, leg := range legs {
		if str.legs[leg] != nil {
			continue
		}
		pair, err := s.e.pool.acquire(mux[leg])
		if err != nil {
			return nil, err
		}
		str.legs[leg] = newLegConn(s, leg, pair)
	}

	return str, nil
}

// ensureRTCP binds the RTCP sockets of legs again when mux is false.
func (str *stream) ensureRTCP(mux bool, legs ...Leg) error {
	if mux {
		return nil
	}
	for _, leg := range legs {
		if err := str.legs[leg].ensureRTCP(); err != nil {
			return err
		}
	}

	return nil
}

// muxOf is streamLocked's mux argument when only leg's rtcp-mux is
// settled.
func muxOf(leg Leg, mux bool) [2]bool {
	var m [2]bool
	m[leg] = mux

	return m
}

func (s *Session) hasStreams() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, str := range s.streams {
		if str != nil && (str.legs[LegA] != nil || str.legs[LegB] != nil) {
			return true
		}
	}

	return false
}

// acceptCrypto picks the first usable a=crypto line of an offer from
// leg and pairs it with Patchbay's key for that leg (the existing key
// when the suite did not change). It returns nils for plain RTP.
func (s *Session) acceptCrypto(leg Leg, str *stream, d streamDesc) (*cryptoAttr, *cryptoAttr,
	error) {
	policy := s.opts.SRTP[leg]
	savp := strings.Contains(d.proto, "SAVP")
	var firstErr error
	for _, v := range d.crypto {
		remote, err := parseCrypto(v)
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}

			continue
		}
		local, err := s.localKey(str, leg, remote.tag, remote.suite)
		if err != nil {
			return nil, nil, err
		}

		return &remote, &local, nil
	}
	switch {
	case firstErr != nil && (savp || policy == SRTPRequire):
		return nil, nil, firstErr
	case policy == SRTPRequire:
		return nil, nil, fmt.Errorf("%w: leg %s", ErrSRTPRequired, leg)
	case savp:
		return nil, nil, fmt.Errorf("%w: %s without a=crypto", ErrNoCryptoSuite, d.proto)
	}

	return nil, nil, nil
}

func (s *Session) localKey(str *stream, leg Leg, tag int, suite suiteInfo) (cryptoAttr, error) {
	if cur := str.local[leg]; cur != nil && cur.suite.name == suite.name {
		c := *cur
		c.tag = tag

		return c, nil
	}

	return newLocalCrypto(tag, suite)
}

// offerCrypto returns the a=crypto lines to offer to leg to, one per
// configured suite with tags 1..n, or nil when to gets plain RTP.
func (s *Session) offerCrypto(to Leg, str *stream, fromSecure bool) ([]cryptoAttr, error) {
	switch s.opts.SRTP[to] {
	case SRTPOff:
		return nil, nil
	case SRTPMirror:
		if !fromSecure {
			return nil, nil
		}
	}
	out := make([]cryptoAttr, 0, len(s.e.cfg.CryptoSuites))
	for k, name := range s.e.cfg.CryptoSuites {
		suite, _ := lookupSuite(name)
		c, err := s.localKey(str, to, k+1, suite)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}

	return out, nil
}

// passThroughLocked implements peer-to-peer mode: body is returned
// untouched after checking that a leg requiring SRTP gets it.
func (s *Session) passThroughLocked(from Leg, sd *sdp.SessionDescription,
	body []byte) ([]byte, error) {
	hold := false
	for i, md := range sd.MediaDescriptions {
		d := describe(sd, md, true)
		if d.port == 0 {
			continue
		}
		hold = hold || d.hold
		if len(d.crypto) > 0 {
			continue
		}
		for _, leg := range []Leg{from, from.other()} {
			if s.opts.SRTP[leg] == SRTPRequire {
				return nil, fmt.Errorf("%w: leg %s, m= line %d", ErrSRTPRequired, leg, i)
			}
		}
	}
	s.setHoldLocked(from, hold)

	return body, nil
}
