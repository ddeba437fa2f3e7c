package tenancy

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// link is an association between an owner (a domain or a trunk) and named
// lists (credential lists, IP access control lists) of the same account,
// split by MappingKind for domains. Deleting either side deletes the
// association in the same statement (ON DELETE CASCADE). A link is
// immutable once built.
type link[T any] struct {
	name       string
	ownerTable string
	ownerCol   string
	itemCol    string
	field      string // the API parameter naming the list, e.g. "CredentialListSid"
	kinded     bool
	items      *table[T]

	listSQL, getSQL, countSQL, insertSQL, deleteSQL string
}

func newLink[T any](name, ownerTable, ownerCol, itemCol, field string, kinded bool,
	items *table[T]) *link[T] {
	cond := " WHERE l." + ownerCol + " = ?"
	cols, n := ownerCol+", "+itemCol+", created", 3
	if kinded {
		cond += " AND l.kind = ?"
		cols, n = ownerCol+", kind, "+itemCol+", created", 4
	}
	sel := "SELECT " + items.qualified("i") + ", l.created FROM " + items.name + " i JOIN " + name +
		" l ON l." + itemCol + " = i.sid" + cond

	return &link[T]{
		name: name, ownerTable: ownerTable, ownerCol: ownerCol, itemCol: itemCol,
		field: field, kinded: kinded, items: items,
		listSQL:   sel + " ORDER BY l.created, i.sid LIMIT ? OFFSET ?",
		getSQL:    sel + " AND i.sid = ?",
		countSQL:  "SELECT count(*) FROM " + name + " l" + cond + " AND l." + itemCol + " = ?",
		insertSQL: "INSERT INTO " + name + " (" + cols + ") VALUES (" + placeholders(n) + ")",
		deleteSQL: "DELETE FROM " + name + " AS l" + cond + " AND l." + itemCol + " = ?",
	}
}

// args returns the owner (and kind) arguments followed by extra.
func (l *link[T]) args(owner string, kind MappingKind, extra ...any) []any {
	if l.kinded {
		return append([]any{owner, kind}, extra...)
	}

	return append([]any{owner}, extra...)
}

// add associates the account's list itemSID with the account's owner.
// A missing owner is ErrNotFound; a missing list or an existing association
// is a *FieldError naming the list parameter.
func (l *link[T]) add(ctx context.Context, s *Store, accountSID, owner string, kind MappingKind,
	itemSID string) (*linked[T], error) {
	var out *linked[T]
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := exists(ctx, tx, l.ownerTable, accountSID, owner); err != nil {
			return err
		}
		item, err := l.items.get(ctx, tx, accountSID, itemSID)
		if errors.Is(err, ErrNotFound) {
			return invalid(l.field, "no such list in this account")
		}
		if err != nil {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, l.countSQL, l.args(owner, kind, itemSID)...).
			Scan(&n); err != nil {
			return fmt.Errorf("tenancy: %s: %w", l.name, err)
		}
		if n > 0 {
			return conflict(l.field, "list already mapped")
		}
		now := s.now()
		insert := l.args(owner, kind, itemSID, nanos(now))
		if _, err := tx.ExecContext(ctx, l.insertSQL, insert...); err != nil {
			return fmt.Errorf("tenancy: %s: %w", l.name, err)
		}
		out = &linked[T]{item: item, created: now}

		return nil
	})
	if err != nil {
		return nil, err
	}

	return out, nil
}

// remove ends the association; ErrNotFound when the owner is not the
// account's or the list is not associated.
func (l *link[T]) remove(ctx context.Context, s *Store, accountSID, owner string,
	kind MappingKind, itemSID string) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if err := exists(ctx, tx, l.ownerTable, accountSID, owner); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, l.deleteSQL, l.args(owner, kind, itemSID)...)
		if err != nil {
			return fmt.Errorf("tenancy: %s: %w", l.name, err)
		}

		return affected(res, l.name, itemSID)
	})
}

// get returns the associated list itemSID, or ErrNotFound.
func (l *link[T]) get(ctx context.Context, s *Store, accountSID, owner string,
	kind MappingKind, itemSID string) (*linked[T], error) {
	if err := exists(ctx, s.db, l.ownerTable, accountSID, owner); err != nil {
		return nil, err
	}
	v, err := scanOne(s.db.QueryRowContext(ctx, l.getSQL, l.args(owner, kind, itemSID)...),
		l.scanLinked)
	if err != nil {
		return nil, fmt.Errorf("%w: %s %s", err, l.name, itemSID)
	}

	return v, nil
}

// list returns page p of the lists associated with the owner, in the order
// they were associated; ErrNotFound when the owner is not the account's.
func (l *link[T]) list(ctx context.Context, s *Store, accountSID, owner string,
	kind MappingKind, p Page) ([]*linked[T], bool, error) {
	if err := exists(ctx, s.db, l.ownerTable, accountSID, owner); err != nil {
		return nil, false, err
	}
	p = p.normalized()
	rows, err := s.db.QueryContext(ctx, l.listSQL, l.args(owner, kind, limitArgs(p)...)...)

	return scanPage(rows, err, p, l.scanLinked)
}

// linked is a list seen through an association: the list and when it was
// associated.
type linked[T any] struct {
	item    *T
	created time.Time
}

// scanLinked scans the list's columns followed by the association's
// creation time.
func (l *link[T]) scanLinked(sc scanner) (*linked[T], error) {
	var created int64
	item, err := l.items.scan(extraScanner{sc: sc, extra: []any{&created}})
	if err != nil {
		return nil, err
	}

	return &linked[T]{item: item, created: fromNanos(created)}, nil
}

// extraScanner scans into the destinations a table's scan function gives
// and then into extra, for queries that select more than the table's
// columns.
type extraScanner struct {
	sc    scanner
	extra []any
}

func (e extraScanner) Scan(dest ...any) error { return e.sc.Scan(append(dest, e.extra...)...) }
