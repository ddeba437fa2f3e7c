package tenancy

import (
	"context"
	"path/filepath"
	"testing"
	"testing/fstest"
)

func TestApplyMigrationsOnceInOrder(t *testing.T) {
	ctx := context.Background()
	db, err := OpenDB(ctx, filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })

	fsys := fstest.MapFS{
		"0002_add.sql":    {Data: []byte(`INSERT INTO things (name) VALUES ('a');`)},
		"0001_create.sql": {Data: []byte(`CREATE TABLE things (name TEXT NOT NULL);`)},
	}
	for range 2 {
		if err := ApplyMigrations(ctx, db, "test", fsys); err != nil {
			t.Fatal(err)
		}
	}
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM things`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Fatalf("rows = %d, want 1: a migration ran twice or not at all", n)
	}
}

func TestApplyMigrationsRejectsBadNames(t *testing.T) {
	ctx := context.Background()
	db, err := OpenDB(ctx, filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })

	cases := map[string]fstest.MapFS{
		"no version": {"create.sql": {Data: []byte(`SELECT 1;`)}},
		"duplicate": {
			"0001_a.sql": {Data: []byte(`SELECT 1;`)},
			"0001_b.sql": {Data: []byte(`SELECT 1;`)},
		},
		"bad sql": {"0001_bad.sql": {Data: []byte(`CREATE NONSENSE;`)}},
	}
	for name, fsys := range cases {
		t.Run(name, func(t *testing.T) {
			if err := ApplyMigrations(ctx, db, name, fsys); err == nil {
				t.Fatal("want an error")
			}
		})
	}
}
