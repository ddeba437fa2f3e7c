package tenancy

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"
)

// table describes a resource table and prebuilds its SQL, so that every
// resource is read and written the same way. Rows are scoped by the columns
// in scope (the owning account and, for nested resources, the parent), then
// identified by sid, the first column. A table is immutable once built.
type table[T any] struct {
	name   string
	cols   []string
	scan   func(scanner) (*T, error)
	values func(*T) []any // one value per column, in column order

	selectSQL string // SELECT columns FROM name
	getSQL    string // ... WHERE scope AND sid = ?
	listSQL   string // ... WHERE scope ORDER BY created, sid LIMIT ? OFFSET ?
	insertSQL string
	updateSQL string // every column but sid, by scope and sid
	deleteSQL string

	// gen, when set, is the Store's write counter: insert, update and
	// delete advance it once their statement has run (see
	// Store.Generation). Inside a transaction, inTx advances it again
	// after the commit.
	gen *atomic.Uint64
}

func newTable[T any](name string, cols, scope []string, scan func(scanner) (*T, error),
	values func(*T) []any) *table[T] {
	var where strings.Builder
	for _, c := range scope {
		where.WriteString(c + " = ? AND ")
	}
	sets := make([]string, 0, len(cols)-1)
	for _, c := range cols[1:] {
		sets = append(sets, c+" = ?")
	}
	sel := "SELECT " + strings.Join(cols, ", ") + " FROM " + name

	return &table[T]{
		name:      name,
		cols:      cols,
		scan:      scan,
		values:    values,
		selectSQL: sel,
		getSQL:    sel + " WHERE " + where.String() + "sid = ?",
		listSQL: sel + " WHERE " + strings.TrimSuffix(where.String(), " AND ") +
			" ORDER BY created, sid LIMIT ? OFFSET ?",
		insertSQL: "INSERT INTO " + name + " (" + strings.Join(cols, ", ") + ") VALUES (" +
			placeholders(len(cols)) + ")",
		updateSQL: "UPDATE " + name + " SET " + strings.Join(sets, ", ") +
			" WHERE " + where.String() + "sid = ?",
		deleteSQL: "DELETE FROM " + name + " WHERE " + where.String() + "sid = ?",
	}
}

// get fetches one row by its scope values followed by its SID.
func (t *table[T]) get(ctx context.Context, q querier, keys ...any) (*T, error) {
	v, err := scanOne(q.QueryRowContext(ctx, t.getSQL, keys...), t.scan)
	if err != nil {
		return nil, fmt.Errorf("%w: %s %v", err, t.name, keys[len(keys)-1])
	}

	return v, nil
}

// list returns page p of the rows in scope, oldest first.
func (t *table[T]) list(ctx context.Context, q querier, p Page, scope ...any) ([]*T, bool, error) {
	p = p.normalized()
	rows, err := q.QueryContext(ctx, t.listSQL, append(scope, limitArgs(p)...)...)

	return scanPage(rows, err, p, t.scan)
}

// listWhere is list with cond ("AND col = ?" clauses) added to the scope.
// cond must be built from column names, never from input.
func (t *table[T]) listWhere(ctx context.Context, q querier, p Page, cond string, args []any,
	scope ...any) ([]*T, bool, error) {
	p = p.normalized()
	query := strings.Replace(t.listSQL, " ORDER BY ", " "+cond+" ORDER BY ", 1)
	rows, err := q.QueryContext(ctx, query, append(append(scope, args...), limitArgs(p)...)...)

	return scanPage(rows, err, p, t.scan)
}

// insert writes a new row.
func (t *table[T]) insert(ctx context.Context, q querier, v *T) error {
	defer t.changed()
	if _, err := q.ExecContext(ctx, t.insertSQL, t.values(v)...); err != nil {
		return fmt.Errorf("tenancy: insert into %s: %w", t.name, err)
	}

	return nil
}

// update rewrites every column of the row in scope with v's SID.
func (t *table[T]) update(ctx context.Context, q querier, v *T, scope ...any) error {
	defer t.changed()
	vals := t.values(v)
	args := append(append(vals[1:len(vals):len(vals)], scope...), vals[0])
	res, err := q.ExecContext(ctx, t.updateSQL, args...)
	if err != nil {
		return fmt.Errorf("tenancy: update %s: %w", t.name, err)
	}

	return affected(res, t.name, vals[0])
}

// delete removes the row identified by scope values and SID; foreign keys
// cascade to the rows that reference it in the same statement.
func (t *table[T]) delete(ctx context.Context, q querier, keys ...any) error {
	defer t.changed()
	res, err := q.ExecContext(ctx, t.deleteSQL, keys...)
	if err != nil {
		return fmt.Errorf("tenancy: delete from %s: %w", t.name, err)
	}

	return affected(res, t.name, keys[len(keys)-1])
}

// changed advances the store's write counter, if the table has one.
func (t *table[T]) changed() {
	if t.gen != nil {
		t.gen.Add(1)
	}
}

type rowsAffecter interface{ RowsAffected() (int64, error) }

// affected turns "no row changed" into ErrNotFound.
func affected(res rowsAffecter, what string, sid any) error {
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("tenancy: %s: %w", what, err)
	}
	if n == 0 {
		return fmt.Errorf("%w: %s %v", ErrNotFound, what, sid)
	}

	return nil
}

// qualified returns the table's columns prefixed with alias and a dot.
func (t *table[T]) qualified(alias string) string {
	return alias + "." + strings.Join(t.cols, ", "+alias+".")
}

// createRow inserts v in one transaction after check (nil: none) passes.
func createRow[T any](ctx context.Context, s *Store, t *table[T], v *T,
	check func(tx *sql.Tx) error) (*T, error) {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if check != nil {
			if err := check(tx); err != nil {
				return err
			}
		}

		return t.insert(ctx, tx, v)
	})
	if err != nil {
		return nil, err
	}

	return v, nil
}

// modifyRow loads the row identified by keys (scope values, then SID),
// applies mutate, runs check (nil: none), stamps the update time with touch
// and writes the row back, all in one transaction. mutate must not change
// the row's SID or scope.
func modifyRow[T any](ctx context.Context, s *Store, t *table[T], keys []any,
	mutate func(*T) error, check func(tx *sql.Tx, v *T) error,
	touch func(*T, time.Time)) (*T, error) {
	var out *T
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		v, err := t.get(ctx, tx, keys...)
		if err != nil {
			return err
		}
		if err := mutate(v); err != nil {
			return err
		}
		if check != nil {
			if err := check(tx, v); err != nil {
				return err
			}
		}
		touch(v, s.now())
		out = v

		return t.update(ctx, tx, v, keys[:len(keys)-1]...)
	})
	if err != nil {
		return nil, err
	}

	return out, nil
}

// exists reports ErrNotFound unless a row of table with the account and
// SID exists.
func exists(ctx context.Context, q querier, tableName, accountSID, sid string) error {
	var n int
	err := q.QueryRowContext(ctx, "SELECT count(*) FROM "+tableName+
		" WHERE account_sid = ? AND sid = ?", accountSID, sid).Scan(&n)
	if err != nil {
		return fmt.Errorf("tenancy: %s: %w", tableName, err)
	}
	if n == 0 {
		return fmt.Errorf("%w: %s %s", ErrNotFound, tableName, sid)
	}

	return nil
}

// refExists checks an optional reference given in field: empty is fine,
// anything else must name a row of table owned by the account.
func refExists(ctx context.Context, q querier, field, tableName, accountSID, sid string) error {
	if sid == "" {
		return nil
	}
	err := exists(ctx, q, tableName, accountSID, sid)
	if err != nil && errors.Is(err, ErrNotFound) {
		return invalid(field, "no such resource in this account")
	}

	return err
}
