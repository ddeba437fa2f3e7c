package tenancy

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"net/url"
	"path"
	"sort"
	"strconv"
	"strings"

	_ "github.com/mattn/go-sqlite3" // registers the "sqlite3" driver
)

// OpenDB opens (creating it when missing) the SQLite database at file with
// the settings every Patchbay component relies on: WAL journal, enforced
// foreign keys, a busy timeout instead of immediate SQLITE_BUSY errors,
// synchronous=FULL so that a committed transaction survives a crash of the
// process or the machine, and IMMEDIATE transactions so that writers queue on
// the lock instead of failing to upgrade it. The caller owns the returned
// handle and closes it.
func OpenDB(ctx context.Context, file string) (*sql.DB, error) {
	q := url.Values{}
	q.Set("_journal_mode", "WAL")
	q.Set("_foreign_keys", "on")
	q.Set("_busy_timeout", "10000")
	q.Set("_synchronous", "FULL")
	q.Set("_txlock", "immediate")
	dsn := "file:" + file + "?" + q.Encode()

	db, err := sql.Open("sqlite3", dsn)
	if err != nil {
		return nil, fmt.Errorf("tenancy: open %s: %w", file, err)
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()

		return nil, fmt.Errorf("tenancy: open %s: %w", file, err)
	}

	return db, nil
}

// ApplyMigrations brings component's tables in db up to date. Each file in
// fsys named "NNNN_description.sql" is one migration, applied once, in order
// of NNNN, in its own transaction together with its entry in the shared
// schema_migrations table. Components (tenancy, accounting, the event
// outbox) keep separate version sequences in the same database.
func ApplyMigrations(ctx context.Context, db *sql.DB, component string, fsys fs.FS) error {
	const ddl = `CREATE TABLE IF NOT EXISTS schema_migrations (
		component TEXT NOT NULL,
		version   INTEGER NOT NULL,
		name      TEXT NOT NULL,
		applied   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
		PRIMARY KEY (component, version))`
	if _, err := db.ExecContext(ctx, ddl); err != nil {
		return fmt.Errorf("tenancy: migrations table: %w", err)
	}

	migrations, err := readMigrations(fsys)
	if err != nil {
		return fmt.Errorf("tenancy: migrations of %s: %w", component, err)
	}
	for _, m := range migrations {
		if err := applyMigration(ctx, db, component, m); err != nil {
			return fmt.Errorf("tenancy: migration %s/%s: %w", component, m.name, err)
		}
	}

	return nil
}

type migration struct {
	version int
	name    string
	sql     string
}

func readMigrations(fsys fs.FS) ([]migration, error) {
	names, err := fs.Glob(fsys, "*.sql")
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, name := range names {
		prefix, _, ok := strings.Cut(path.Base(name), "_")
		version, err := strconv.Atoi(prefix)
		if !ok || err != nil || version <= 0 {
			return nil, fmt.Errorf("%s: name must start with a positive version and '_'", name)
		}
		body, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: version, name: name, sql: string(body)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	for i := 1; i < len(out); i++ {
		if out[i].version == out[i-1].version {
			return nil, fmt.Errorf("%s and %s share version %d",
				out[i-1].name, out[i].name, out[i].version)
		}
	}

	return out, nil
}

func applyMigration(ctx context.Context, db *sql.DB, component string, m migration) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()

	var n int
	err = tx.QueryRowContext(ctx,
		`SELECT count(*) FROM schema_migrations WHERE component = ? AND version = ?`,
		component, m.version).Scan(&n)
	if err != nil || n > 0 {
		return err
	}
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx,
		`INSERT INTO schema_migrations (component, version, name) VALUES (?, ?, ?)`,
		component, m.version, m.name)
	if err != nil {
		return err
	}

	return tx.Commit()
}
