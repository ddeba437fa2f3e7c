package accounting

import (
	"context"
	"database/sql"
	"fmt"
)

// statements are the writer's prepared statements, used inside each batch
// transaction through tx.StmtContext.
type statements struct {
	insertLeg *sql.Stmt
	ringLeg   *sql.Stmt
	answerLeg *sql.Stmt
	closeLeg  *sql.Stmt
	addUsage  *sql.Stmt
	addSpend  *sql.Stmt
	heartbeat *sql.Stmt
}

const (
	sqlInsertLeg = `INSERT INTO accounting_cdrs (sid, parent_sid, account_sid, direction,
		from_uri, to_uri, forwarded_from, caller_name, sip_call_id, application, trunk_sid,
		media_mode, node, created, status)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'queued')
		ON CONFLICT (sid) DO NOTHING`
	sqlRingLeg = `UPDATE accounting_cdrs SET ringing = COALESCE(ringing, ?),
		status = CASE WHEN answered IS NULL THEN 'ringing' ELSE status END
		WHERE sid = ? AND ended IS NULL`
	sqlAnswerLeg = `UPDATE accounting_cdrs SET answered = COALESCE(answered, ?),
		status = 'in-progress' WHERE sid = ? AND ended IS NULL`
	sqlCloseLeg = `UPDATE accounting_cdrs SET ended = ?, status = ?, end_cause = ?,
		sip_code = ?, sip_reason = ?, ring_ms = ?, talk_ms = ?, billable_s = ?, codec = ?,
		srtp = ?, pkts_sent = ?, pkts_recv = ?, bytes_sent = ?, bytes_recv = ?, pkts_lost = ?,
		jitter_us = ?, rtt_us = ?, recording_ms = ?, price_micro = ?, price_unit = ?,
		recovered = ?
		WHERE sid = ? AND ended IS NULL`
	sqlAddUsage = `INSERT INTO accounting_usage (account_sid, category, day, subject, count,
		usage, price_micro, price_unit) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (account_sid, category, day, subject, price_unit) DO UPDATE SET
		count = count + excluded.count, usage = usage + excluded.usage,
		price_micro = price_micro + excluded.price_micro`
	sqlAddSpend = `INSERT INTO accounting_spend (account_sid, month, price_micro)
		VALUES (?, ?, ?) ON CONFLICT (account_sid, month) DO UPDATE SET
		price_micro = price_micro + excluded.price_micro`
	sqlHeartbeat = `INSERT INTO accounting_nodes (node, heartbeat) VALUES (?, ?)
		ON CONFLICT (node) DO UPDATE SET heartbeat = max(heartbeat, excluded.heartbeat)`
)

func (s *statements) prepare(ctx context.Context, db *sql.DB) error {
	list := []struct {
		dst **sql.Stmt
		sql string
	}{
		{&s.insertLeg, sqlInsertLeg}, {&s.ringLeg, sqlRingLeg},
		{&s.answerLeg, sqlAnswerLeg}, {&s.closeLeg, sqlCloseLeg},
		{&s.addUsage, sqlAddUsage}, {&s.addSpend, sqlAddSpend},
		{&s.heartbeat, sqlHeartbeat},
	}
	for _, p := range list {
		st, err := db.PrepareContext(ctx, p.sql)
		if err != nil {
			s.close()

			return fmt.Errorf("accounting: prepare: %w", err)
		}
		*p.dst = st
	}

	return nil
}

func (s *statements) close() {
	for _, st := range []*sql.Stmt{s.insertLeg, s.ringLeg, s.answerLeg, s.closeLeg,
		s.addUsage, s.addSpend, s.heartbeat} {
		if st != nil {
			st.Close()
		}
	}
}
