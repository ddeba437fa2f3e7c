package accounting

import (
	"context"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/patchbay/patchbay/tenancy"
)

// TestUsageMigrationKeepsRows applies the migrations before 0004, stores a
// usage row, then migrates: the row survives with its unit in the key.
func TestUsageMigrationKeepsRows(t *testing.T) {
	ctx := context.Background()
	db, err := tenancy.OpenDB(ctx, filepath.Join(t.TempDir(), "m.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	early := fstest.MapFS{}
	names, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		base := filepath.Base(name)
		if base >= "0004" {
			continue
		}
		body, err := fs.ReadFile(migrationFiles, name)
		if err != nil {
			t.Fatal(err)
		}
		early[base] = &fstest.MapFile{Data: body}
	}
	if err := tenancy.ApplyMigrations(ctx, db, "accounting", early); err != nil {
		t.Fatal(err)
	}
	_, err = db.Exec(`INSERT INTO accounting_usage (account_sid, category, day, subject,
		count, usage, price_micro, price_unit) VALUES (?, 'api-requests', '2026-11-03', '',
		7, 7, 700, 'USD')`, acctA)
	if err != nil {
		t.Fatal(err)
	}
	if err := Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	var count, price int64
	var unit string
	err = db.QueryRow(`SELECT count, price_micro, price_unit FROM accounting_usage
		WHERE account_sid = ?`, acctA).Scan(&count, &price, &unit)
	if err != nil || count != 7 || price != 700 || unit != "USD" {
		t.Fatalf("row after migration: %d %d %q %v", count, price, unit, err)
	}
	var pk string
	if err := db.QueryRow(`SELECT sql FROM sqlite_master WHERE name = 'accounting_usage'`).
		Scan(&pk); err != nil || !strings.Contains(pk, "subject, price_unit)") {
		t.Fatalf("usage table: %s, %v", pk, err)
	}
}
