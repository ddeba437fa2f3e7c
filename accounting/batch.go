package accounting

import (
	"context"
	"database/sql"
	"fmt"
)

// batch is one writer transaction. Ops write their CDR rows through tx and
// add their usage and spend to the sums, which flush writes once per key
// just before the commit: a busy account's hundred legs in one batch cost
// one usage upsert, not a hundred. An op adds to the sums only after its
// last fallible statement, so a failed op leaves nothing behind.
type batch struct {
	tx    *sql.Tx
	stmts *statements
	bound map[*sql.Stmt]*sql.Stmt // prepared statements bound to tx
	usage map[usageKey]*charge
	spend map[spendKey]int64
}

type usageKey struct {
	account  string
	category Category
	day      string
	subject  string
	unit     string
}

type spendKey struct{ account, month string }

func newBatch(tx *sql.Tx, st *statements) *batch {
	return &batch{tx: tx, stmts: st, bound: make(map[*sql.Stmt]*sql.Stmt, 8),
		usage: make(map[usageKey]*charge), spend: make(map[spendKey]int64)}
}

// exec runs a prepared statement in the batch and returns the rows it
// changed. Each statement is bound to the transaction once per batch.
func (b *batch) exec(ctx context.Context, st *sql.Stmt, args ...any) (int64, error) {
	bound := b.bound[st]
	if bound == nil {
		bound = b.tx.StmtContext(ctx, st)
		b.bound[st] = bound
	}
	res, err := bound.ExecContext(ctx, args...)
	if err != nil {
		return 0, err
	}

	return res.RowsAffected()
}

// add sums a charge of account on day into the batch.
func (b *batch) add(account, day, month, unit string, ch charge) {
	k := usageKey{account: account, category: ch.category, day: day, subject: ch.subject,
		unit: unit}
	sum := b.usage[k]
	if sum == nil {
		sum = &charge{category: ch.category, subject: ch.subject}
		b.usage[k] = sum
	}
	sum.count += ch.count
	sum.usage += ch.usage
	sum.price += ch.price
	if ch.price != 0 {
		b.spend[spendKey{account, month}] += ch.price
	}
}

// flush writes the summed usage and spend.
func (b *batch) flush(ctx context.Context) error {
	for k, ch := range b.usage {
		_, err := b.exec(ctx, b.stmts.addUsage, k.account, string(k.category), k.day,
			k.subject, ch.count, ch.usage, ch.price, k.unit)
		if err != nil {
			return fmt.Errorf("accounting: usage of %s: %w", k.account, err)
		}
	}
	for k, v := range b.spend {
		if _, err := b.exec(ctx, b.stmts.addSpend, k.account, k.month, v); err != nil {
			return fmt.Errorf("accounting: spend of %s: %w", k.account, err)
		}
	}

	return nil
}
