package media

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/pion/sdp/v3"
)

// legPlan is the state one leg takes once an answer is accepted; it is
// computed in full before anything is changed, so a rejected answer
// leaves the running media untouched.
type legPlan struct {
	leg      *legConn
	rtp      netip.AddrPort
	rtcp     netip.AddrPort
	mux      bool
	sec      *legSecurity
	local    *cryptoAttr
	codec    string
	clock    uint32
	tevPT    int
	declined bool
}

// Answer takes the SDP answer from leg from to the outstanding offer and
// returns the answer to send to the offering leg. Both legs are then
// (re)latched: media goes to the signalled addresses until the first
// packet from each endpoint. A leg requiring SRTP whose answer lacks
// it gives ErrSRTPRequired; the offer is consumed either way. When the
// offer came from OfferLocal, Answer returns a nil body: leg A needs no
// new SDP and the session now relays A to B. Answer may be called again
// for an offer already answered (a 200 after a 183 with SDP, or the
// answer of another fork); the latest answer wins and re-latches.
func (s *Session) Answer(from Leg, body []byte) ([]byte, error) {
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
	p := s.pending
	if p == nil && s.answered != nil && s.answered.from != from {
		p = s.answered
	}
	if p == nil || p.from == from {
		return nil, ErrNoOffer
	}
	s.pending = nil
	if len(sd.MediaDescriptions) != len(p.media) {
		return nil, fmt.Errorf("%w: answer has %d m= lines, offer had %d", ErrBadSDP,
			len(sd.MediaDescriptions), len(p.media))
	}
	plans, hold, err := s.planAnswerLocked(p, from, sd)
	if err != nil {
		return nil, err
	}
	if p.local && len(plans) == 0 {
		return nil, fmt.Errorf("%w: leg b declined the bridge", ErrNoMedia)
	}
	s.commitLocked(plans)
	s.answered = p
	s.setHoldLocked(from, hold)
	if p.local {
		s.local.Store(nil)
		s.log.Info("media bridged", "leg", LegB.String())

		return nil, nil
	}
	rewriteSession(sd, s.e.cfg.PublicAddr)

	return marshalSDP(sd, foreign)
}

func (s *Session) planAnswerLocked(p *pendingOffer, answerer Leg,
	sd *sdp.SessionDescription) ([]legPlan, bool, error) {
	offerer := p.from
	var plans []legPlan
	hold := false
	for i, md := range sd.MediaDescriptions {
		pm := p.media[i]
		d := describe(sd, md, s.e.bindV6())
		if !pm.relayed || !d.relayable {
			declineMedia(md)

			continue
		}
		str := pm.stream
		if p.local && !sameFormats(pm.desc.formats, d.formats) {
			return nil, false, fmt.Errorf("%w: leg b answered %v", ErrNoCodec, d.formats)
		}
		ans, err := s.planAnswerer(answerer, str, pm, d)
		if err != nil {
			return nil, false, fmt.Errorf("media: answer from leg %s, m= line %d: %w",
				answerer, i, err)
		}
		off, err := planOfferer(str.legs[offerer], pm, d, p.local)
		if err != nil {
			return nil, false, err
		}
		plans = append(plans, off, ans)
		hold = hold || d.hold
		if !p.local {
			var crypto []cryptoAttr
			if pm.fromLocal != nil {
				crypto = []cryptoAttr{*pm.fromLocal}
			}
			rewriteMedia(sd, md, s.e.cfg.PublicAddr, mediaRewrite{
				port: str.legs[offerer].port, proto: pm.desc.proto,
				mux: pm.desc.mux, crypto: crypto,
			})
		}
	}

	return plans, hold, nil
}

// planOfferer is the offerer's new state: what it signalled in its
// offer, the codec the answer chose. A local offer (OfferLocal) leaves
// leg A as it is.
func planOfferer(l *legConn, pm pendingMedia, d streamDesc, local bool) (legPlan, error) {
	if local {
		return legPlan{leg: l, declined: true}, nil
	}
	lp := legPlan{leg: l, local: pm.fromLocal, codec: d.codec, clock: d.clock,
		tevPT: d.tevPT, mux: pm.desc.mux,
		rtp:  netip.AddrPortFrom(pm.desc.addr, uint16(pm.desc.port)),
		rtcp: netip.AddrPortFrom(pm.desc.addr, uint16(pm.desc.rtcpPort))}
	if !lp.mux {
		if err := l.ensureRTCP(); err != nil {
			return legPlan{}, err
		}
	}
	if pm.fromRemote == nil {
		return lp, nil
	}
	var err error
	lp.sec, err = newLegSecurity(*pm.fromRemote, *pm.fromLocal, l.sec.Load())

	return lp, err
}

// planAnswerer validates the answerer's section against what Patchbay
// offered it.
func (s *Session) planAnswerer(answerer Leg, str *stream, pm pendingMedia,
	d streamDesc) (legPlan, error) {
	lp := legPlan{leg: str.legs[answerer], codec: d.codec, clock: d.clock, tevPT: d.tevPT,
		mux:  pm.offeredMux && d.mux,
		rtp:  netip.AddrPortFrom(d.addr, uint16(d.port)),
		rtcp: netip.AddrPortFrom(d.addr, uint16(d.rtcpPort))}
	if !lp.mux {
		if err := lp.leg.ensureRTCP(); err != nil {
			return legPlan{}, err
		}
	}
	if len(pm.offered) == 0 {
		return lp, nil
	}
	if len(d.crypto) == 0 {
		if s.opts.SRTP[answerer] == SRTPRequire || strings.Contains(d.proto, "SAVP") {
			return legPlan{}, fmt.Errorf("%w: leg %s answered without a=crypto",
				ErrSRTPRequired, answerer)
		}

		return lp, nil
	}
	remote, err := parseCrypto(d.crypto[0])
	if err != nil {
		return legPlan{}, err
	}
	for _, o := range pm.offered {
		if o.tag == remote.tag && o.suite.name == remote.suite.name {
			local := o
			lp.local = &local
			lp.sec, err = newLegSecurity(remote, local, lp.leg.sec.Load())

			return lp, err
		}
	}

	return legPlan{}, fmt.Errorf("%w: answer tag %d %s was not offered", ErrNoCryptoSuite,
		remote.tag, remote.suite.name)
}

func sameFormats(offered, answered []string) bool {
	if len(answered) == 0 {
		return false
	}
	for _, f := range offered {
		if f == answered[0] {
			return true
		}
	}

	return false
}

// commitLocked applies accepted plans: addresses, latches, SRTP
// contexts, codec info and the peer links of each stream.
func (s *Session) commitLocked(plans []legPlan) {
	for _, lp := range plans {
		if lp.declined {
			continue
		}
		l := lp.leg
		l.signal(lp.rtp, lp.rtcp, lp.mux)
		if lp.mux {
			l.dropRTCP()
		}
		l.sec.Store(lp.sec)
		codec := lp.codec
		l.codec.Store(&codec)
		l.clock.Store(lp.clock)
		l.tevPT.Store(int32(lp.tevPT))
	}
	for _, str := range s.streams {
		if str == nil || str.legs[LegA] == nil || str.legs[LegB] == nil {
			continue
		}
		str.legs[LegA].peer.Store(str.legs[LegB])
		str.legs[LegB].peer.Store(str.legs[LegA])
	}
	for i, lp := range plans {
		if lp.local != nil {
			s.streamOf(lp.leg).local[lp.leg.leg] = plans[i].local
		}
	}
}

func (s *Session) streamOf(l *legConn) *stream {
	for _, str := range s.streams {
		if str != nil && str.legs[l.leg] == l {
			return str
		}
	}

	return &stream{}
}
