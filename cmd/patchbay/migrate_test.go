package main

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"

	"github.com/patchbay/patchbay/tenancy"
)

// TestMigrateAppliesEveryComponent: migrate leaves the schemas of all the
// components that share the database in place, and a second run is a no-op.
func TestMigrateAppliesEveryComponent(t *testing.T) {
	dir := t.TempDir()
	env := []string{"PATCHBAY_DATA_DIR=" + dir}
	for range 2 {
		var out, errOut bytes.Buffer
		if code := run(context.Background(), []string{"migrate"},
			stdio{out: &out, err: &errOut}, env); code != exitOK {
			t.Fatalf("exit %d: %s", code, errOut.String())
		}
	}

	db, err := tenancy.OpenDB(context.Background(), filepath.Join(dir, dbFileName))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	for _, component := range []string{"tenancy", "accounting", "webhook_outbox"} {
		var n int
		err := db.QueryRow(`SELECT count(*) FROM schema_migrations WHERE component = ?`,
			component).Scan(&n)
		if err != nil || n == 0 {
			t.Errorf("component %s: %d migrations applied (%v)", component, n, err)
		}
	}
}
