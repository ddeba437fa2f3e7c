package tenancy

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"sync/atomic"
	"time"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store keeps the tenancy data in SQL. It is safe for concurrent use. Every
// change that touches more than one row runs in one transaction. The caller
// owns the *sql.DB given to NewStore; Close releases only the store's
// prepared statements.
type Store struct {
	db  *sql.DB
	now func() time.Time
	t   tables
	hot hotStatements
	// gen counts the writes made through the store; see Generation.
	gen atomic.Uint64
}

// NewStore applies the tenancy migrations to db and prepares the lookups the
// SIP edge makes on every request.
func NewStore(ctx context.Context, db *sql.DB) (*Store, error) {
	sub, err := subFS(migrations, "migrations")
	if err != nil {
		return nil, err
	}
	if err := ApplyMigrations(ctx, db, "tenancy", sub); err != nil {
		return nil, err
	}
	s := &Store{db: db, now: func() time.Time { return time.Now().UTC() }}
	s.t = newTables(&s.gen)
	if err := s.hot.prepare(ctx, db, s.t); err != nil {
		s.hot.close()

		return nil, fmt.Errorf("tenancy: prepare lookups: %w", err)
	}

	return s, nil
}

// Close releases the prepared statements. It does not close the database.
// Close is idempotent; the store must not be used afterwards.
func (s *Store) Close() error { return s.hot.close() }

// Generation returns a number that changes after every write made through
// this Store has committed (accounts, services, limits, domains, numbers,
// applications, credentials, access lists, trunks), so that a cache of
// lookups can tell whether its entries may be stale: an answer read while
// Generation returned g is current as long as Generation still returns g.
// Notifications are not counted: nothing the SIP edge looks up depends on
// them. Writes made by other processes (another node, a raw SQL session)
// are not seen; caches bound those with a TTL.
func (s *Store) Generation() uint64 { return s.gen.Load() }

// changed marks a write as committed; see Generation.
func (s *Store) changed() { s.gen.Add(1) }

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

// querier is a *sql.DB or a *sql.Tx.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// inTx runs fn in one transaction, committed when fn returns nil. The
// store's Generation changes once the transaction has ended.
func (s *Store) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("tenancy: begin: %w", err)
	}
	defer s.changed()
	defer tx.Rollback()

	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("tenancy: commit: %w", err)
	}

	return nil
}

// scanOne scans one row, turning "no rows" into ErrNotFound.
func scanOne[T any](row *sql.Row, scan func(scanner) (*T, error)) (*T, error) {
	v, err := scan(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("tenancy: scan: %w", err)
	}

	return v, nil
}

// scanAll scans every row of a query.
func scanAll[T any](rows *sql.Rows, err error, scan func(scanner) (*T, error)) ([]*T, error) {
	if err != nil {
		return nil, fmt.Errorf("tenancy: query: %w", err)
	}
	defer rows.Close()

	var out []*T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("tenancy: scan: %w", err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("tenancy: rows: %w", err)
	}

	return out, nil
}

// scanPage scans a query that fetched p.Size+1 rows and reports whether a
// further page exists.
func scanPage[T any](rows *sql.Rows, err error, p Page,
	scan func(scanner) (*T, error)) ([]*T, bool, error) {
	out, err := scanAll(rows, err, scan)
	if err != nil {
		return nil, false, err
	}
	if len(out) > p.Size {
		return out[:p.Size], true, nil
	}

	return out, false, nil
}

// limitArgs returns the LIMIT and OFFSET arguments that fetch page p plus
// one row, to tell whether more follow.
func limitArgs(p Page) []any { return []any{p.Size + 1, p.Number * p.Size} }

// nanos and fromNanos convert times to and from their stored form.
func nanos(t time.Time) int64 { return t.UnixNano() }

func fromNanos(n int64) time.Time { return time.Unix(0, n).UTC() }

// stamp gives a new row a fresh SID with prefix and the current time as
// its creation and update time.
func (s *Store) stamp(sid *string, prefix string, created, updated *time.Time) {
	*sid = newSID(prefix)
	*created = s.now()
	*updated = *created
}

// nullable stores an empty optional reference as NULL.
func nullable(s string) any {
	if s == "" {
		return nil
	}

	return s
}

// placeholders returns "?, ?, ?" for n columns.
func placeholders(n int) string { return strings.TrimSuffix(strings.Repeat("?, ", n), ", ") }

// subFS returns the directory dir of fsys, for ApplyMigrations.
func subFS(fsys fs.FS, dir string) (fs.FS, error) {
	sub, err := fs.Sub(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("tenancy: migrations: %w", err)
	}

	return sub, nil
}
