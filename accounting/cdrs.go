package accounting

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

const cdrColumns = `sid, parent_sid, account_sid, direction, from_uri, to_uri,
	forwarded_from, caller_name, sip_call_id, application, trunk_sid, media_mode, node,
	created, ringing, answered, ended, status, end_cause, sip_code, sip_reason, ring_ms,
	talk_ms, billable_s, codec, srtp, pkts_sent, pkts_recv, bytes_sent, bytes_recv,
	pkts_lost, jitter_us, rtt_us, recording_ms, price_micro, price_unit, recovered`

// scanCDR reads one row of cdrColumns.
func scanCDR(rows *sql.Rows) (CDR, error) {
	var c CDR
	var created, ringing, answered, ended sql.NullInt64
	var dir, status, cause string
	var ringMS, talkMS, billS, jitter, rtt, recMS int64
	q := &c.Quality
	err := rows.Scan(&c.SID, &c.ParentSID, &c.AccountSID, &dir, &c.From, &c.To,
		&c.ForwardedFrom, &c.CallerName, &c.CallID, &c.ApplicationSID, &c.TrunkSID,
		&c.MediaMode, &c.Node, &created, &ringing, &answered, &ended, &status, &cause,
		&c.SIPCode, &c.SIPReason, &ringMS, &talkMS, &billS, &q.Codec, &q.SRTP,
		&q.PacketsSent, &q.PacketsReceived, &q.BytesSent, &q.BytesReceived, &q.PacketsLost,
		&jitter, &rtt, &recMS, &c.PriceMicro, &c.PriceUnit, &c.Recovered)
	if err != nil {
		return c, err
	}
	c.Direction, c.Status, c.Cause = Direction(dir), Status(status), EndCause(cause)
	c.Created, c.Ringing = fromMS(created), fromMS(ringing)
	c.Answered, c.Ended = fromMS(answered), fromMS(ended)
	c.RingTime = time.Duration(ringMS) * time.Millisecond
	c.TalkTime = time.Duration(talkMS) * time.Millisecond
	c.Billable = time.Duration(billS) * time.Second
	q.Jitter, q.RTT = time.Duration(jitter)*time.Microsecond, time.Duration(rtt)*time.Microsecond
	c.Recording = time.Duration(recMS) * time.Millisecond

	return c, nil
}

// eachCDR streams the CDRs selected by tail (a WHERE ... clause) to fn.
func (l *Ledger) eachCDR(ctx context.Context, fn func(*CDR) error, tail string,
	args ...any) error {
	return eachCDR(ctx, l.db, fn, tail, args...)
}

func eachCDR(ctx context.Context, db *sql.DB, fn func(*CDR) error, tail string,
	args ...any) error {
	rows, err := db.QueryContext(ctx, "SELECT "+cdrColumns+" FROM accounting_cdrs "+tail,
		args...)
	if err != nil {
		return fmt.Errorf("accounting: read cdrs: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		c, err := scanCDR(rows)
		if err != nil {
			return fmt.Errorf("accounting: read cdrs: %w", err)
		}
		if err := fn(&c); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("accounting: read cdrs: %w", err)
	}

	return nil
}

func (l *Ledger) queryCDRs(ctx context.Context, tail string, args ...any) ([]CDR, error) {
	var out []CDR
	err := l.eachCDR(ctx, func(c *CDR) error {
		out = append(out, *c)

		return nil
	}, tail, args...)

	return out, err
}

// CDR returns the record of one leg, open or closed, or an error wrapping
// ErrNotFound.
func (l *Ledger) CDR(ctx context.Context, sid string) (*CDR, error) {
	list, err := l.queryCDRs(ctx, `WHERE sid = ?`, sid)
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, fmt.Errorf("%w: cdr %s", ErrNotFound, sid)
	}

	return &list[0], nil
}

// CDRFilter selects CDRs. Zero fields do not filter. Time bounds are
// half-open: From inclusive, To exclusive.
type CDRFilter struct {
	AccountSID  string // "" selects every account (operator exports only)
	Status      Status
	Direction   Direction
	To, From    string
	ParentSID   string
	CreatedFrom time.Time
	CreatedTo   time.Time
	EndedFrom   time.Time
	EndedTo     time.Time
	Offset      int
	Limit       int // 0: no limit
}

// where renders the filter as a WHERE clause, newest first.
func (f *CDRFilter) where() (string, []any) {
	var conds []string
	var args []any
	add := func(cond string, arg any) {
		conds = append(conds, cond)
		args = append(args, arg)
	}
	if f.AccountSID != "" {
		add("account_sid = ?", f.AccountSID)
	}
	if f.Status != "" {
		add("status = ?", string(f.Status))
	}
	if f.Direction != "" {
		add("direction = ?", string(f.Direction))
	}
	if f.To != "" {
		add("to_uri = ?", f.To)
	}
	if f.From != "" {
		add("from_uri = ?", f.From)
	}
	if f.ParentSID != "" {
		add("parent_sid = ?", f.ParentSID)
	}
	for _, b := range []struct {
		cond string
		t    time.Time
	}{{"created >= ?", f.CreatedFrom}, {"created < ?", f.CreatedTo},
		{"ended >= ?", f.EndedFrom}, {"ended < ?", f.EndedTo}} {
		if !b.t.IsZero() {
			add(b.cond, b.t.UnixMilli())
		}
	}
	tail := ""
	if len(conds) > 0 {
		tail = "WHERE " + strings.Join(conds, " AND ")
	}
	tail += " ORDER BY created DESC, sid DESC"
	if f.Limit > 0 {
		tail += fmt.Sprintf(" LIMIT %d OFFSET %d", f.Limit, max(f.Offset, 0))
	}

	return tail, args
}

// ListCDRs returns the CDRs the filter selects, newest first, and whether
// more follow the page. A Limit of 0 returns all of them.
func (l *Ledger) ListCDRs(ctx context.Context, f CDRFilter) ([]CDR, bool, error) {
	want := f.Limit
	if want > 0 {
		f.Limit++
	}
	tail, args := f.where()
	list, err := l.queryCDRs(ctx, tail, args...)
	if err != nil {
		return nil, false, err
	}
	if want > 0 && len(list) > want {
		return list[:want], true, nil
	}

	return list, false, nil
}

// EachCDR streams the CDRs the filter selects, newest first, to fn without
// holding them all in memory; fn's error stops the walk and is returned.
func (l *Ledger) EachCDR(ctx context.Context, f CDRFilter, fn func(*CDR) error) error {
	return EachCDR(ctx, l.db, f, fn)
}

// EachCDR is Ledger.EachCDR over a database the caller opened, for tools
// such as "patchbay cdrs export" that must read CDRs while a server runs:
// it neither migrates nor recovers anything.
func EachCDR(ctx context.Context, db *sql.DB, f CDRFilter, fn func(*CDR) error) error {
	tail, args := f.where()

	return eachCDR(ctx, db, fn, tail, args...)
}
