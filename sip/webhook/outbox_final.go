package webhook

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"time"
)

// finalStmts are the prepared statements of armed final events.
type finalStmts struct {
	arm, disarm, armed *sql.Stmt
}

func (s *finalStmts) prepare(ctx context.Context, db *sql.DB) error {
	var err error
	s.arm, err = db.PrepareContext(ctx, `INSERT OR REPLACE INTO webhook_outbox_final
		(call_sid, account_sid, url, method, params, created) VALUES (?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	s.disarm, err = db.PrepareContext(ctx,
		`DELETE FROM webhook_outbox_final WHERE call_sid = ?`)
	if err != nil {
		return err
	}
	s.armed, err = db.PrepareContext(ctx, `SELECT call_sid, account_sid, url, method, params
		FROM webhook_outbox_final WHERE created < ? ORDER BY created, call_sid`)

	return err
}

func (s *finalStmts) close() {
	for _, st := range []*sql.Stmt{s.arm, s.disarm, s.armed} {
		if st != nil {
			st.Close()
		}
	}
}

// finalStatus reports whether a CallStatus ends a call.
func finalStatus(s string) bool {
	switch s {
	case "completed", "busy", "no-answer", "failed", "canceled":
		return true
	}

	return false
}

// Arm stores the final status callback of a call that has just started,
// so that it can still be sent if the process dies before the call ends:
// ev names the call, the callback URL and method, and carries the call's
// parameters (CallParams.Values; its CallStatus is ignored). It returns
// once the row is durable and shares the group commit of Enqueue. The
// call's own final event, when Enqueue stores it, removes the row in the
// same transaction; a row left after a crash is turned into the call's
// final event by ReleaseArmed. Arming a call again replaces its row.
func (o *Outbox) Arm(ctx context.Context, ev Event) error {
	method, err := o.checkEvent(ev)
	if err != nil {
		return err
	}
	req := &enqueueReq{arm: true, args: []any{ev.CallSID, ev.AccountSID, ev.URL, method,
		ev.Params.Encode(), o.cfg.Now().UnixMilli()}, done: make(chan error, 1)}

	return o.submit(ctx, req)
}

// CallEnd is how a call cut by a crash ended, as its closed CDR tells.
type CallEnd struct {
	Status          string        // final CallStatus: completed (answered) or failed
	Duration        time.Duration // from answer to end; zero when unanswered
	SIPResponseCode int           // 0: not sent
	Ended           time.Time     // the event's Timestamp
}

// EndFunc returns how the call callSID ended. ok is false when that is
// not known yet (its CDR is still open): the armed event is kept.
type EndFunc func(ctx context.Context, callSID string) (end CallEnd, ok bool, err error)

// ReleaseArmed enqueues the final event of every call armed before this
// Outbox was opened, that is by a process that died before the call ended,
// whose end is known: the call's stored parameters plus CallStatus,
// CallDuration, Duration, SipResponseCode, Timestamp and CallbackSource as
// the call itself would have sent them. Each event and the removal of its
// arm commit together, so a crash during the release loses and repeats
// none. Calls of this process may run meanwhile: their arms are newer than
// the cut. (A wall clock set back across the restart delays the release of
// the older arms until a later start.) It returns the number of events
// enqueued.
func (o *Outbox) ReleaseArmed(ctx context.Context, end EndFunc) (int, error) {
	armed, err := o.armedEvents(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, ev := range armed {
		e, ok, err := end(ctx, ev.CallSID)
		if err != nil {
			return n, fmt.Errorf("webhook: release %s: %w", ev.CallSID, err)
		}
		if !ok || !finalStatus(e.Status) {
			continue
		}
		final := StatusEvent{Call: CallParams{CallStatus: e.Status}, Duration: e.Duration,
			SIPResponseCode: e.SIPResponseCode, Time: e.Ended}.Values()
		for _, k := range []string{"CallStatus", "CallDuration", "Duration",
			"SipResponseCode", "Timestamp", "CallbackSource"} {
			if v, ok := final[k]; ok {
				ev.Params[k] = v
			}
		}
		if err := o.Enqueue(ctx, ev); err != nil {
			return n, fmt.Errorf("webhook: release %s: %w", ev.CallSID, err)
		}
		n++
	}

	return n, nil
}

// armedEvents reads every armed final event.
func (o *Outbox) armedEvents(ctx context.Context) ([]Event, error) {
	rows, err := o.final.armed.QueryContext(ctx, o.opened)
	if err != nil {
		return nil, fmt.Errorf("webhook: armed events: %w", err)
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var ev Event
		var params string
		if err := rows.Scan(&ev.CallSID, &ev.AccountSID, &ev.URL, &ev.Method,
			&params); err != nil {
			return nil, fmt.Errorf("webhook: armed events: %w", err)
		}
		ev.Params, err = url.ParseQuery(params)
		if err != nil {
			return nil, fmt.Errorf("webhook: armed event of %s: %w", ev.CallSID, err)
		}
		out = append(out, ev)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("webhook: armed events: %w", err)
	}

	return out, nil
}
