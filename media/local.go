package media

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pion/sdp/v3"
)

// localEnd is Patchbay acting as leg A's far end: the negotiated codec
// and the outgoing RTP stream state shared by Play and SendDTMF.
type localEnd struct {
	index int
	leg   *legConn
	pt    uint8
	codec string
	tevPT int
	sdpID uint64

	// mu guards seq, sdpVer and out, and serializes outgoing packets.
	mu     sync.Mutex
	ssrc   uint32
	seq    uint16
	tsBase uint32
	epoch  time.Time
	sdpVer uint64
	out    []byte
	pkt    []byte
}

// tsNow is the RTP timestamp matching the wall clock, so pauses between
// Play and SendDTMF calls show as timestamp gaps.
func (le *localEnd) tsNow() uint32 {
	return le.tsBase + uint32(time.Since(le.epoch)*audioRate/time.Second)
}

// sendLocked sends one RTP packet to leg A.
func (le *localEnd) sendLocked(marker bool, pt uint8, ts uint32, payload []byte) {
	pkt := le.pkt[:rtpFixedLen+len(payload)]
	putRTPHeader(pkt, marker, pt, le.seq, ts, le.ssrc)
	copy(pkt[rtpFixedLen:], payload)
	le.seq++
	le.leg.sendRTP(pkt, le.out)
}

// AnswerLocal answers leg A's offer with Patchbay itself as the far end
// (for Play, Gather and Record before or instead of a Dial). It picks
// the first of PCMU and PCMA in the offer's order and telephone-event
// when offered, answers SRTP when A offered it, and declines every
// other section. A later call renegotiates (A's re-offer) on the same
// port. It fails with ErrNoCodec when the offer has neither codec.
func (s *Session) AnswerLocal(offer []byte) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.localCheckLocked(); err != nil {
		return nil, err
	}
	sd, foreign, err := parseSDPForeign(offer)
	if err != nil {
		return nil, err
	}
	idx, pt, d := s.pickLocalStream(sd)
	if idx < 0 {
		return nil, ErrNoCodec
	}
	str, err := s.streamLocked(idx, muxOf(LegA, d.mux), LegA)
	if err != nil {
		return nil, err
	}
	if !d.mux {
		if err := str.legs[LegA].ensureRTCP(); err != nil {
			return nil, fmt.Errorf("media: offer from leg a: %w", err)
		}
	}
	remote, local, err := s.acceptCrypto(LegA, str, d)
	if err != nil {
		return nil, fmt.Errorf("media: offer from leg a: %w", err)
	}
	plan := legPlan{leg: str.legs[LegA], local: local, codec: rtpmap(sd.MediaDescriptions[idx],
		strconv.Itoa(int(pt))), clock: audioRate, tevPT: d.tevPT, mux: d.mux,
		rtp:  netip.AddrPortFrom(d.addr, uint16(d.port)),
		rtcp: netip.AddrPortFrom(d.addr, uint16(d.rtcpPort))}
	if remote != nil {
		if plan.sec, err = newLegSecurity(*remote, *local, plan.leg.sec.Load()); err != nil {
			return nil, err
		}
	}
	s.commitLocked([]legPlan{plan})
	s.setHoldLocked(LegA, d.hold)
	le := s.localEndLocked(idx, str.legs[LegA], pt, plan.codec, d.tevPT)
	s.local.Store(le)

	return s.localAnswerSDP(sd, foreign, le, d, local), nil
}

func (s *Session) localCheckLocked() error {
	switch {
	case s.closed():
		return ErrSessionClosed
	case s.opts.Mode == ModePeerToPeer:
		return ErrWrongMode
	case s.pending != nil:
		return ErrOfferPending
	case s.localState != nil && s.local.Load() == nil:
		return ErrBridged
	case s.localState == nil && len(s.streams) > 0:
		return fmt.Errorf("%w: session already relays", ErrWrongMode)
	}

	return nil
}

// pickLocalStream returns the first relayable audio section offering
// PCMU or PCMA, with the chosen payload type.
func (s *Session) pickLocalStream(sd *sdp.SessionDescription) (int, uint8, streamDesc) {
	for i, md := range sd.MediaDescriptions {
		d := describe(sd, md, s.e.bindV6())
		if !d.relayable || d.media != "audio" {
			continue
		}
		for _, f := range d.formats {
			switch strings.ToUpper(rtpmap(md, f)) {
			case "PCMU/8000", "PCMU/8000/1":
				return i, 0, d
			case "PCMA/8000", "PCMA/8000/1":
				return i, 8, d
			}
		}
	}

	return -1, 0, streamDesc{}
}

func (s *Session) localEndLocked(idx int, leg *legConn, pt uint8, codec string,
	tev int) *localEnd {
	le := s.localState
	if le == nil {
		le = &localEnd{ssrc: randUint32(), seq: uint16(randUint32()), tsBase: randUint32(),
			epoch: time.Now(), sdpID: uint64(randUint32()),
			out: make([]byte, maxPacket+srtpRoom), pkt: make([]byte, maxPacket)}
		s.localState = le
		s.wg.Add(1)
		go s.rtcpLoop(le, s.rtcpEvery)
	}
	le.mu.Lock()
	defer le.mu.Unlock()
	le.index, le.leg, le.pt, le.codec, le.tevPT = idx, leg, pt, codec, tev
	le.sdpVer++

	return le
}

// localAnswerSDP writes Patchbay's answer: one line per offered
// section, the chosen one answered, the others declined.
func (s *Session) localAnswerSDP(offer *sdp.SessionDescription, foreign foreignLines,
	le *localEnd, d streamDesc, local *cryptoAttr) []byte {
	pub := s.e.cfg.PublicAddr
	var b strings.Builder
	fmt.Fprintf(&b, "v=0\r\no=patchbay %d %d IN %s %s\r\ns=patchbay\r\nc=IN %s %s\r\nt=0 0\r\n",
		le.sdpID, le.sdpVer, addrType(pub), pub, addrType(pub), pub)
	for i, md := range offer.MediaDescriptions {
		if i != le.index {
			media, proto, formats := foreign.mLine(i, md)
			fmt.Fprintf(&b, "m=%s 0 %s %s\r\n", media, proto, formats)

			continue
		}
		proto := d.proto
		if local == nil {
			proto = plainProto(proto)
		}
		writeLocalMedia(&b, le.leg.port, proto, le.pt, le.codec, le.tevPT, d.mux, local)
		fmt.Fprintf(&b, "a=%s\r\n", answerDirection(direction(offer, md)))
	}

	return []byte(b.String())
}

func writeLocalMedia(b *strings.Builder, port int, proto string, pt uint8, codec string,
	tev int, mux bool, crypto ...*cryptoAttr) {
	fmt.Fprintf(b, "m=audio %d %s %d", port, proto, pt)
	if tev >= 0 {
		fmt.Fprintf(b, " %d", tev)
	}
	fmt.Fprintf(b, "\r\na=rtpmap:%d %s\r\n", pt, codec)
	if tev >= 0 {
		fmt.Fprintf(b, "a=rtpmap:%d telephone-event/8000\r\na=fmtp:%d 0-16\r\n", tev, tev)
	}
	b.WriteString("a=ptime:20\r\n")
	if mux {
		b.WriteString("a=rtcp-mux\r\n")
	} else {
		fmt.Fprintf(b, "a=rtcp:%d\r\n", port+1)
	}
	for _, c := range crypto {
		if c != nil {
			fmt.Fprintf(b, "a=crypto:%s\r\n", c.String())
		}
	}
}

// answerDirection mirrors an offered direction (RFC 3264 section 6.1).
func answerDirection(offered string) string {
	switch offered {
	case "sendonly":
		return "recvonly"
	case "recvonly":
		return "sendonly"
	case "inactive":
		return "inactive"
	}

	return "sendrecv"
}

// OfferLocal starts the bridge of a locally answered leg A to a new B
// leg (Dial after Play or Gather): it returns an offer for B carrying
// only A's negotiated codec and telephone-event, SRTP as B's policy
// says. Answer(LegB, answer) then completes it, returning a nil body
// since A's media does not change, and from then on A and B are
// relayed. B must answer A's codec or Answer fails with ErrNoCodec.
// Calling OfferLocal again before an answer (the B leg failed, dial the
// next) replaces the outstanding offer.
func (s *Session) OfferLocal() ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed() {
		return nil, ErrSessionClosed
	}
	le := s.local.Load()
	if le == nil || s.localState == nil {
		return nil, ErrNotNegotiated
	}
	if s.pending != nil && !s.pending.local {
		return nil, ErrOfferPending
	}
	str, err := s.streamLocked(le.index, [2]bool{}, LegB)
	if err != nil {
		return nil, err
	}
	offered, err := s.offerCrypto(LegB, str, le.leg.sec.Load() != nil)
	if err != nil {
		return nil, err
	}
	formats := []string{strconv.Itoa(int(le.pt))}
	if le.tevPT >= 0 {
		formats = append(formats, strconv.Itoa(le.tevPT))
	}
	proto := "RTP/AVP"
	if len(offered) > 0 {
		proto = "RTP/SAVP"
	}
	s.pending = &pendingOffer{from: LegA, local: true, media: []pendingMedia{{
		relayed: true, offered: offered, offeredMux: true, stream: str,
		desc: streamDesc{formats: formats, proto: proto},
	}}}

	return s.localOfferSDP(le, str.legs[LegB].port, proto, offered), nil
}

func (s *Session) localOfferSDP(le *localEnd, port int, proto string,
	offered []cryptoAttr) []byte {
	pub := s.e.cfg.PublicAddr
	le.mu.Lock()
	le.sdpVer++
	ver := le.sdpVer
	le.mu.Unlock()
	var b strings.Builder
	fmt.Fprintf(&b, "v=0\r\no=patchbay %d %d IN %s %s\r\ns=patchbay\r\nc=IN %s %s\r\nt=0 0\r\n",
		le.sdpID+1, ver, addrType(pub), pub, addrType(pub), pub)
	crypto := make([]*cryptoAttr, len(offered))
	for i := range offered {
		crypto[i] = &offered[i]
	}
	writeLocalMedia(&b, port, proto, le.pt, le.codec, le.tevPT, true, crypto...)
	b.WriteString("a=sendrecv\r\n")

	return []byte(b.String())
}
