package accounting

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// legState is what the ledger remembers of an open leg of its node, so
// that closing it needs no read.
type legState struct {
	account   string
	direction Direction
	to        string
	trunk     string
	mediaMode string
	created   time.Time
	ringing   time.Time
	answered  time.Time
	perMinute int64 // call and media rate once answered, for running spend
}

// OpenLeg records the start of a call leg. When it returns nil, the leg's
// CDR is durable with status "queued". Events of one leg (OpenLeg,
// LegRinging, LegAnswered, CloseLeg) must be made in order, one at a time;
// different legs may be recorded concurrently. A second OpenLeg for the
// same SID fails with ErrDuplicateLeg and changes nothing.
func (l *Ledger) OpenLeg(ctx context.Context, s LegStart) error {
	if err := s.validate(); err != nil {
		return err
	}
	if s.Created.IsZero() {
		s.Created = l.now()
	}
	st := &legState{account: s.AccountSID, direction: s.Direction, to: s.To,
		trunk: s.TrunkSID, mediaMode: s.MediaMode, created: s.Created}
	o := &op{
		apply: func(ctx context.Context, b *batch) error {
			n, err := b.exec(ctx, l.stmts.insertLeg, s.SID, s.ParentSID, s.AccountSID,
				string(s.Direction), s.From, s.To, s.ForwardedFrom, s.CallerName, s.CallID,
				s.ApplicationSID, s.TrunkSID, s.MediaMode, l.cfg.Node, ms(s.Created))
			if err != nil {
				return fmt.Errorf("accounting: open leg %s: %w", s.SID, err)
			}
			if n == 0 {
				return fmt.Errorf("%w: %s", ErrDuplicateLeg, s.SID)
			}

			return nil
		},
		after: func() { l.addLeg(s.SID, st) },
	}

	return l.submit(ctx, o)
}

// LegRinging records that the leg's far end is ringing (180 or 183). Only
// the first ringing time is kept. at defaults to now when zero.
func (l *Ledger) LegRinging(ctx context.Context, sid string, at time.Time) error {
	return l.legEvent(ctx, sid, at, l.stmts.ringLeg, func(st *legState, at time.Time) {
		if st.ringing.IsZero() {
			st.ringing = at
		}
	})
}

// LegAnswered records that the leg was answered (2xx); talk time starts
// here. Only the first answer time is kept. at defaults to now when zero.
func (l *Ledger) LegAnswered(ctx context.Context, sid string, at time.Time) error {
	perMinute := l.runningRate(ctx, sid)

	return l.legEvent(ctx, sid, at, l.stmts.answerLeg, func(st *legState, at time.Time) {
		if st.answered.IsZero() {
			st.answered, st.perMinute = at, perMinute
		}
	})
}

// runningRate is the per-minute price of a leg of this process once
// answered (call category plus media), zero when unknown.
func (l *Ledger) runningRate(ctx context.Context, sid string) int64 {
	l.legsMu.Lock()
	st := l.legs[sid]
	var cp legState
	if st != nil {
		cp = *st
	}
	l.legsMu.Unlock()
	if st == nil {
		return 0
	}
	plan := l.plans.effective(ctx, cp.account)
	media := CatMinutesRelayed
	if cp.mediaMode == "peer_to_peer" {
		media = CatMinutesP2P
	}

	return plan.perMinute(callCategory(cp.direction), cp.to) + plan.perMinute(media, cp.to)
}

func (l *Ledger) legEvent(ctx context.Context, sid string, at time.Time, stmt *sql.Stmt,
	update func(*legState, time.Time)) error {
	if at.IsZero() {
		at = l.now()
	}
	o := &op{
		apply: func(ctx context.Context, b *batch) error {
			n, err := b.exec(ctx, stmt, ms(at), sid)
			if err != nil {
				return fmt.Errorf("accounting: leg %s: %w", sid, err)
			}
			if n == 0 {
				return l.missingLeg(ctx, b.tx, sid)
			}

			return nil
		},
		after: func() {
			l.legsMu.Lock()
			if st := l.legs[sid]; st != nil {
				update(st, at)
			}
			l.legsMu.Unlock()
		},
	}

	return l.submit(ctx, o)
}

// missingLeg explains why an update of an open leg changed no row.
func (l *Ledger) missingLeg(ctx context.Context, tx *sql.Tx, sid string) error {
	var ended sql.NullInt64
	err := tx.QueryRowContext(ctx, `SELECT ended FROM accounting_cdrs WHERE sid = ?`, sid).
		Scan(&ended)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("%w: %s", ErrUnknownLeg, sid)
	case err != nil:
		return fmt.Errorf("accounting: leg %s: %w", sid, err)
	}

	return fmt.Errorf("%w: %s", ErrLegClosed, sid)
}

// CloseLeg records the end of a leg, rates it with the account's price
// plan and meters its usage, all in one transaction: when it returns nil the
// CDR is closed, priced and counted exactly once. A second CloseLeg fails
// with ErrLegClosed and changes nothing. Ring time runs from ringing (or
// creation) to answer (or end), talk time from answer to end; only talk
// time is billed. Usage and spend count on the UTC day and month of Ended.
func (l *Ledger) CloseLeg(ctx context.Context, e LegEnd) error {
	if err := e.validate(); err != nil {
		return err
	}
	if e.Ended.IsZero() {
		e.Ended = l.now()
	}
	st, err := l.openLegState(ctx, e.SID)
	if err != nil {
		return err
	}
	plan := l.plans.effective(ctx, st.account)
	c := closing{sid: e.SID, account: st.account, end: e, recovered: false}
	c.compute(st, plan)
	o := &op{
		apply: func(ctx context.Context, b *batch) error { return l.applyClose(ctx, b, &c) },
		after: func() {
			l.removeLeg(e.SID, st.account)
			l.spendAdded(st.account, monthOf(c.end.Ended), c.total)
		},
	}

	return l.submit(ctx, o)
}

// openLegState returns the remembered state of an open leg, reading it
// from the database for legs this process did not open.
func (l *Ledger) openLegState(ctx context.Context, sid string) (*legState, error) {
	l.legsMu.Lock()
	st := l.legs[sid]
	var cp legState
	if st != nil {
		cp = *st
	}
	l.legsMu.Unlock()
	if st != nil {
		return &cp, nil
	}
	cdr, err := l.CDR(ctx, sid)
	if errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("%w: %s", ErrUnknownLeg, sid)
	}
	if err != nil {
		return nil, err
	}
	if !cdr.Open() {
		return nil, fmt.Errorf("%w: %s", ErrLegClosed, sid)
	}

	return stateOf(cdr), nil
}

func stateOf(c *CDR) *legState {
	return &legState{account: c.AccountSID, direction: c.Direction, to: c.To,
		trunk: c.TrunkSID, mediaMode: c.MediaMode, created: c.Created,
		ringing: c.Ringing, answered: c.Answered}
}
