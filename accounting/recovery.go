package accounting

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// recover closes every leg left open on this node, ending it at the node's
// last recorded heartbeat (or at its own start when there is none or the
// leg began later). An answered leg ends "completed", any other "failed";
// both with cause node-crash and marked recovered. All of it commits in one
// transaction, so a crash during recovery leaves nothing half done.
func (l *Ledger) recover(ctx context.Context) error {
	var beat sql.NullInt64
	err := l.db.QueryRowContext(ctx,
		`SELECT heartbeat FROM accounting_nodes WHERE node = ?`, l.cfg.Node).Scan(&beat)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("accounting: recover: heartbeat: %w", err)
	}
	last := fromMS(beat)

	open, err := l.queryCDRs(ctx, `WHERE node = ? AND ended IS NULL ORDER BY created`,
		l.cfg.Node)
	if err != nil {
		return fmt.Errorf("accounting: recover: %w", err)
	}
	if len(open) == 0 {
		return nil
	}
	closings := make([]*closing, 0, len(open))
	for i := range open {
		closings = append(closings, l.recoveryClosing(ctx, &open[i], last))
	}
	if err := l.applyRecovery(ctx, closings); err != nil {
		return err
	}
	l.metrics.recovered.Add(float64(len(closings)))
	l.log.Warn("closed legs left open by a crash", "legs", len(closings),
		"last_heartbeat", last)

	return nil
}

func (l *Ledger) recoveryClosing(ctx context.Context, cdr *CDR, last time.Time) *closing {
	status := StatusFailed
	if !cdr.Answered.IsZero() {
		status = StatusCompleted
	}
	end := LegEnd{SID: cdr.SID, Ended: last, Status: status, Cause: CauseNodeCrash}
	if end.Ended.IsZero() {
		end.Ended = cdr.Created
	}
	st := stateOf(cdr)
	c := &closing{sid: cdr.SID, account: cdr.AccountSID, end: end, recovered: true}
	c.compute(st, l.plans.effective(ctx, cdr.AccountSID))

	return c
}

func (l *Ledger) applyRecovery(ctx context.Context, closings []*closing) error {
	tx, err := l.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("accounting: recover: %w", err)
	}
	defer tx.Rollback()
	b := newBatch(tx, &l.stmts)
	for _, c := range closings {
		if err := l.applyClose(ctx, b, c); err != nil {
			return fmt.Errorf("accounting: recover: %w", err)
		}
	}
	if err := b.flush(ctx); err != nil {
		return fmt.Errorf("accounting: recover: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("accounting: recover: %w", err)
	}

	return nil
}

// heartbeatLoop records the node's heartbeat at once and then every
// HeartbeatInterval until Close, and checks the spend caps of accounts
// with running legs each time.
func (l *Ledger) heartbeatLoop() {
	defer close(l.beatDone)
	t := time.NewTicker(l.cfg.HeartbeatInterval)
	defer t.Stop()
	for {
		l.beat()
		l.watchCaps()
		select {
		case <-l.stop:
			return
		case <-t.C:
		}
	}
}

func (l *Ledger) beat() {
	now := l.now()
	err := l.submit(context.Background(), &op{
		apply: func(ctx context.Context, b *batch) error {
			_, err := b.exec(ctx, l.stmts.heartbeat, l.cfg.Node, ms(now))

			return err
		},
	})
	if err != nil {
		l.log.Error("heartbeat not recorded", "error", err)
	}
}
