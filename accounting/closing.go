package accounting

import (
	"context"
	"fmt"
	"time"
)

// closing is a leg end with its derived times and rating, ready to write.
type closing struct {
	sid       string
	account   string
	end       LegEnd
	recovered bool

	ring, talk time.Duration
	billable   int64
	charges    []charge
	total      int64
	unit       string
}

// compute derives ring, talk and billable time and rates the leg. Times
// out of order are clamped: an end before the leg's start is moved to the
// start, an answer into [start, end].
func (c *closing) compute(st *legState, plan *PricePlan) {
	end := c.end.Ended
	if end.Before(st.created) {
		end = st.created
	}
	answered := st.answered
	switch {
	case answered.IsZero():
	case answered.Before(st.created):
		answered = st.created
	case answered.After(end):
		answered = end
	}
	ringFrom := st.ringing
	if ringFrom.IsZero() || ringFrom.Before(st.created) {
		ringFrom = st.created
	}
	ringTo := end
	if !answered.IsZero() {
		ringTo = answered
	}
	c.ring = max(ringTo.Sub(ringFrom), 0)
	if !answered.IsZero() {
		c.talk = end.Sub(answered)
	}
	c.end.Ended = end

	facts := legFacts{direction: st.direction, to: st.to, trunk: st.trunk,
		mediaMode: st.mediaMode, srtp: c.end.Quality.SRTP,
		talk:      ceilDiv(c.talk.Milliseconds(), 1000),
		recording: ceilDiv(c.end.RecordingDuration.Milliseconds(), 1000)}
	c.billable, c.charges = plan.rateLeg(facts)
	c.unit = plan.unit()
	for _, ch := range c.charges {
		c.total += ch.price
	}
}

// applyClose writes a closing in the batch: the CDR update and, only once
// it succeeded, its usage and spend.
func (l *Ledger) applyClose(ctx context.Context, b *batch, c *closing) error {
	e, q := &c.end, &c.end.Quality
	n, err := b.exec(ctx, l.stmts.closeLeg, ms(e.Ended), string(e.Status),
		string(e.Cause), e.SIPCode, e.SIPReason, c.ring.Milliseconds(),
		c.talk.Milliseconds(), c.billable, q.Codec, q.SRTP, q.PacketsSent,
		q.PacketsReceived, q.BytesSent, q.BytesReceived, q.PacketsLost,
		q.Jitter.Microseconds(), q.RTT.Microseconds(),
		e.RecordingDuration.Milliseconds(), c.total, c.unit, c.recovered, c.sid)
	if err != nil {
		return fmt.Errorf("accounting: close leg %s: %w", c.sid, err)
	}
	if n == 0 {
		return l.missingLeg(ctx, b.tx, c.sid)
	}
	day, month := dayOf(e.Ended), monthOf(e.Ended)
	for _, ch := range c.charges {
		b.add(c.account, day, month, c.unit, ch)
	}

	return nil
}
