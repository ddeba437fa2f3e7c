package media

import (
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// LegStats is a point-in-time snapshot of one leg's media, summed over
// its relayed streams. "In" is from the endpoint to Patchbay, "Out" from
// Patchbay to the endpoint. It is a plain value, safe to keep after the
// session closed.
type LegStats struct {
	// PacketsIn and BytesIn count RTP accepted from the endpoint (bytes
	// as received, SRTP overhead included).
	PacketsIn uint64
	BytesIn   uint64

	// PacketsOut and BytesOut count RTP sent to the endpoint.
	PacketsOut uint64
	BytesOut   uint64

	// RTCPIn and RTCPOut count RTCP (or SRTCP) packets each way.
	RTCPIn  uint64
	RTCPOut uint64

	// PacketsLost is expected minus received RTP from the endpoint,
	// from sequence numbers (RFC 3550 appendix A.3); never negative.
	PacketsLost uint64

	// Jitter is the interarrival jitter of RTP from the endpoint (RFC
	// 3550 appendix A.8) at the codec clock rate.
	Jitter time.Duration

	// RTT is the last round-trip time between Patchbay and the endpoint
	// measured from relayed RTCP sender and receiver reports (RFC 3550
	// section 6.4.1); zero when unknown.
	RTT time.Duration

	// Codec is the first negotiated payload format, e.g. "PCMU/8000".
	Codec string

	// SRTP is true when the leg is SDES-SRTP; CryptoSuite names the suite.
	SRTP        bool
	CryptoSuite string

	// Latched is the source address media was latched to (zero before
	// the first packet).
	Latched netip.AddrPort

	// DroppedSource counts packets from a source other than the latched
	// one (RTP bleed and injection defence).
	DroppedSource uint64

	// DroppedAuth counts SRTP/SRTCP packets failing authentication.
	DroppedAuth uint64

	// DroppedReplay counts SRTP/SRTCP packets rejected by the RFC 3711
	// replay window.
	DroppedReplay uint64

	// DroppedOther counts malformed packets and packets with nowhere to
	// go (no destination signalled yet, or stream on hold).
	DroppedOther uint64
}

// Stats is a snapshot of a session: its mode and one LegStats per leg,
// indexed by Leg.
type Stats struct {
	Mode Mode
	Legs [2]LegStats
}

// legCounters are updated per packet with atomics only.
type legCounters struct {
	pktsIn, bytesIn, pktsOut, bytesOut atomic.Uint64
	rtcpIn, rtcpOut                    atomic.Uint64
	dropSource, dropAuth, dropReplay   atomic.Uint64
	dropOther                          atomic.Uint64
	lost                               atomic.Uint64
	jitterNs, rttNs                    atomic.Int64
}

func (c *legCounters) addTo(s *LegStats) {
	s.PacketsIn += c.pktsIn.Load()
	s.BytesIn += c.bytesIn.Load()
	s.PacketsOut += c.pktsOut.Load()
	s.BytesOut += c.bytesOut.Load()
	s.RTCPIn += c.rtcpIn.Load()
	s.RTCPOut += c.rtcpOut.Load()
	s.PacketsLost += c.lost.Load()
	s.DroppedSource += c.dropSource.Load()
	s.DroppedAuth += c.dropAuth.Load()
	s.DroppedReplay += c.dropReplay.Load()
	s.DroppedOther += c.dropOther.Load()
	if j := time.Duration(c.jitterNs.Load()); j > s.Jitter {
		s.Jitter = j
	}
	if r := time.Duration(c.rttNs.Load()); r > 0 {
		s.RTT = r
	}
}

// recvState tracks sequence numbers and jitter of one received RTP
// stream (RFC 3550 appendix A.1, A.3, A.8). It is owned by the reading
// goroutine.
type recvState struct {
	started  bool
	ssrc     uint32
	base     uint32
	maxSeq   uint16
	cycles   uint32
	received uint64
	transit  int32
	jitter   float64
	// lostBefore is what earlier sources lost, kept across resets.
	lostBefore uint64
}

// update accounts one packet arriving at now (nanoseconds) and publishes
// loss and jitter into c. clock is the RTP clock rate in Hz.
func (r *recvState) update(h rtpHeader, now int64, clock uint32, c *legCounters) {
	if !r.started || h.ssrc != r.ssrc {
		// A new source (or a restart): keep what earlier ones lost.
		*r = recvState{started: true, ssrc: h.ssrc, base: uint32(h.seq), maxSeq: h.seq,
			lostBefore: c.lost.Load()}
	}
	delta := h.seq - r.maxSeq
	switch {
	case delta != 0 && delta < 0x8000:
		if h.seq < r.maxSeq {
			r.cycles += 1 << 16
		}
		r.maxSeq = h.seq
	case delta >= 0x8000 && delta < 0xff00:
		// A jump far ahead or a long way back: restart the count.
		*r = recvState{started: true, ssrc: h.ssrc, base: uint32(h.seq), maxSeq: h.seq,
			lostBefore: c.lost.Load(), transit: r.transit, jitter: r.jitter}
	}
	r.received++

	// Arrival in timestamp units, computed from microseconds so the
	// product stays far from overflow; transit wraps like RTP timestamps.
	arrival := uint32(now / 1000 * int64(clock) / 1_000_000)
	transit := int32(arrival - h.ts)
	if r.received > 1 {
		d := int64(transit) - int64(r.transit)
		if d < 0 {
			d = -d
		}
		r.jitter += (float64(d) - r.jitter) / 16
	}
	r.transit = transit

	expected := uint64(r.cycles) + uint64(r.maxSeq) - uint64(r.base) + 1
	lost := r.lostBefore
	if expected > r.received {
		lost += expected - r.received
	}
	c.lost.Store(lost)
	c.jitterNs.Store(int64(r.jitter * float64(time.Second) / float64(clock)))
}

// rttRing remembers when Patchbay forwarded the last sender reports to
// one endpoint, keyed by the middle 32 bits of their NTP timestamps.
type rttRing struct {
	// mu guards entries and next.
	mu      sync.Mutex
	entries [8]struct {
		ntp uint32
		at  int64
	}
	next int
}

func (r *rttRing) note(ntp uint32, at int64) {
	r.mu.Lock()
	r.entries[r.next].ntp, r.entries[r.next].at = ntp, at
	r.next = (r.next + 1) % len(r.entries)
	r.mu.Unlock()
}

// rtt returns the round trip for a report block received at now, or
// zero when the block refers to no SR this ring remembers.
func (r *rttRing) rtt(b reportBlock, now int64) time.Duration {
	if b.lsr == 0 {
		return 0
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range r.entries {
		if e.ntp == b.lsr && e.at != 0 {
			d := time.Duration(now-e.at) - time.Duration(b.dlsr)*time.Second/65536
			if d > 0 {
				return d
			}
		}
	}

	return 0
}
