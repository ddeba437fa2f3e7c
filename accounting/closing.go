package accounting

import (
	"context"
	"database/sql"
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

// compute derives ring, talk and billable time and rates the leg. An end
// before the leg's start is moved to its start.
func (c *closing) compute(st *legState, plan *PricePlan) {
	end := c.end.Ended
	if end.Before(st.created) {
		end = st.created
	}
	answered := st.answered
	if !answered.IsZero() && answered.After(end) {
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

// applyClose writes a closing inside the batch transaction: the CDR update,
// its usage rows and the spend total, all or nothing.
func (l *Ledger) applyClose(ctx context.Context, tx *sql.Tx, c *closing) error {
	return inSavepoint(ctx, tx, func() error {
		e, q := &c.end, &c.end.Quality
		n, err := execStmt(ctx, tx, l.stmts.closeLeg, ms(e.Ended), string(e.Status),
			string(e.Cause), e.SIPCode, e.SIPReason, c.ring.Milliseconds(),
			c.talk.Milliseconds(), c.billable, q.Codec, q.SRTP, q.PacketsSent,
			q.PacketsReceived, q.BytesSent, q.BytesReceived, q.PacketsLost,
			q.Jitter.Microseconds(), q.RTT.Microseconds(),
			e.RecordingDuration.Milliseconds(), c.total, c.unit, c.recovered, c.sid)
		if err != nil {
			return fmt.Errorf("accounting: close leg %s: %w", c.sid, err)
		}
		if n == 0 {
			return l.missingLeg(ctx, tx, c.sid)
		}
		day := dayOf(e.Ended)
		for _, ch := range c.charges {
			if err := addCharge(ctx, tx, l.stmts.addUsage, c.account, day, c.unit, ch); err != nil {
				return fmt.Errorf("accounting: close leg %s: %w", c.sid, err)
			}
		}
		if c.total != 0 {
			_, err = execStmt(ctx, tx, l.stmts.addSpend, c.account, monthOf(e.Ended), c.total)
			if err != nil {
				return fmt.Errorf("accounting: close leg %s: spend: %w", c.sid, err)
			}
		}

		return nil
	})
}

func addCharge(ctx context.Context, tx *sql.Tx, st *sql.Stmt, account, day, unit string,
	ch charge) error {
	_, err := execStmt(ctx, tx, st, account, string(ch.category), day, ch.subject, ch.count,
		ch.usage, ch.price, unit)

	return err
}
