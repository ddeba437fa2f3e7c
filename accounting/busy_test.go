package accounting

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"
	"time"
)

// TestBusyDatabaseDelaysWrites holds the write lock from another
// connection for longer than the ledger's busy timeout and checks that the
// leg is still recorded, after the lock is released, not lost.
func TestBusyDatabaseDelaysWrites(t *testing.T) {
	ctx := context.Background()
	file := filepath.Join(t.TempDir(), "busy.db")
	dsn := "file:" + file + "?_journal_mode=WAL&_busy_timeout=100&_synchronous=FULL" +
		"&_txlock=immediate"
	db, err := sql.Open("sqlite3", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	l, err := Open(ctx, Config{DB: db, Node: "node-busy", HeartbeatInterval: time.Hour,
		Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })

	other, err := sql.Open("sqlite3", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { other.Close() })
	tx, err := other.Begin()
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Ready(); err != nil {
		t.Fatalf("Ready before any trouble: %v", err)
	}
	const hold = 400 * time.Millisecond
	readyWhileLocked := make(chan error, 1)
	time.AfterFunc(hold, func() {
		readyWhileLocked <- l.Ready()
		tx.Rollback()
	})

	start := time.Now()
	err = l.OpenLeg(ctx, LegStart{SID: legSID(1), AccountSID: acctA, Direction: DirInbound})
	if err != nil {
		t.Fatalf("OpenLeg while the database was busy: %v", err)
	}
	if err := <-readyWhileLocked; !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Ready while commits waited on the lock = %v, want ErrUnavailable", err)
	}
	if err := l.Ready(); err != nil {
		t.Fatalf("Ready after the write went through = %v, want nil", err)
	}
	if waited := time.Since(start); waited < hold {
		t.Fatalf("OpenLeg returned after %s, before the lock was released", waited)
	}
	if c := mustCDR(t, l, legSID(1)); c.Status != StatusQueued {
		t.Fatalf("cdr = %+v", c)
	}
}

// TestDurableSettings pins the settings the durability claims rest on: WAL
// with synchronous=FULL, so a committed batch survives a crash of the
// machine, not only of the process.
func TestDurableSettings(t *testing.T) {
	l, _ := openTestLedger(t, Config{})
	conn, err := l.db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var mode string
	var sync int
	if err := conn.QueryRowContext(context.Background(), "PRAGMA journal_mode").
		Scan(&mode); err != nil {
		t.Fatal(err)
	}
	if err := conn.QueryRowContext(context.Background(), "PRAGMA synchronous").
		Scan(&sync); err != nil {
		t.Fatal(err)
	}
	if mode != "wal" || sync != 2 {
		t.Fatalf("journal_mode %s, synchronous %d; want wal and 2 (FULL)", mode, sync)
	}
}
