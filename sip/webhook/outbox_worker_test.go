package webhook

import (
	"path/filepath"
	"sync"
	"testing"
)

// TestUpdateBatcher: concurrent updates are all made durable, and one that
// fails (a CHECK constraint) fails alone, not with the batch it shared.
func TestUpdateBatcher(t *testing.T) {
	db := openTestDB(t, filepath.Join(t.TempDir(), "u.db"))
	ctx := t.Context()
	if _, err := db.ExecContext(ctx, `CREATE TABLE t (id INTEGER PRIMARY KEY,
		v INTEGER NOT NULL CHECK (v >= 0))`); err != nil {
		t.Fatal(err)
	}
	const n = 64
	for i := range n {
		if _, err := db.ExecContext(ctx, `INSERT INTO t (id, v) VALUES (?, 0)`, i); err != nil {
			t.Fatal(err)
		}
	}
	stmt, err := db.PrepareContext(ctx, `UPDATE t SET v = ? WHERE id = ?`)
	if err != nil {
		t.Fatal(err)
	}
	defer stmt.Close()
	const bad = 17
	b := &updateBatcher{db: db}
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			v := i + 1
			if i == bad {
				v = -1
			}
			errs[i] = b.exec(ctx, stmt, v, i)
		})
	}
	wg.Wait()
	for i, err := range errs {
		if (err != nil) != (i == bad) {
			t.Errorf("update %d: error %v", i, err)
		}
	}
	rows, err := db.QueryContext(ctx, `SELECT id, v FROM t`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, v int
		if err := rows.Scan(&id, &v); err != nil {
			t.Fatal(err)
		}
		want := id + 1
		if id == bad {
			want = 0
		}
		if v != want {
			t.Errorf("row %d = %d, want %d", id, v, want)
		}
	}
}
