package accounting

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/patchbay/patchbay/tenancy"
)

// testTree is an in-memory account tree: parent by child.
type testTree struct {
	mu     sync.Mutex
	parent map[string]string
}

func newTestTree(pairs ...string) *testTree {
	t := &testTree{parent: make(map[string]string)}
	for i := 0; i+1 < len(pairs); i += 2 {
		t.parent[pairs[i]] = pairs[i+1]
	}

	return t
}

func (t *testTree) AccountBySID(_ context.Context, sid string) (*tenancy.Account, error) {
	t.mu.Lock()
	defer t.mu.Unlock()

	return &tenancy.Account{SID: sid, ParentSID: t.parent[sid]}, nil
}

func (t *testTree) SubAccountSIDs(_ context.Context, sid string) ([]string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []string
	var walk func(string)
	walk = func(p string) {
		for c, par := range t.parent {
			if par == p {
				out = append(out, c)
				walk(c)
			}
		}
	}
	walk(sid)

	return out, nil
}

// fakeClock is a settable clock for tests.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()

	return c.now
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

var t0 = time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC)

// openTestLedger opens a ledger on a fresh database file; cfg may preset
// any field but DB.
func openTestLedger(t testing.TB, cfg Config) (*Ledger, string) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "patchbay.db")
	l := openLedgerAt(t, file, cfg)

	return l, file
}

func openLedgerAt(t testing.TB, file string, cfg Config) *Ledger {
	t.Helper()
	ctx := context.Background()
	db, err := tenancy.OpenDB(ctx, file)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	cfg.DB = db
	if cfg.Node == "" {
		cfg.Node = "node-a"
	}
	if cfg.Logger == nil {
		cfg.Logger = quietLogger()
	}
	l, err := Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })

	return l
}

// quietLogger discards logs; the tests assert on state, not on log lines.
func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func legSID(i int) string { return fmt.Sprintf("CA%032x", i) }

const (
	acctA = "AC0000000000000000000000000000000a"
	acctB = "AC0000000000000000000000000000000b"
	acctC = "AC0000000000000000000000000000000c"
)

func mustCDR(t *testing.T, l *Ledger, sid string) *CDR {
	t.Helper()
	c, err := l.CDR(context.Background(), sid)
	if err != nil {
		t.Fatal(err)
	}

	return c
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}

	return b
}

func testAccount(created time.Time) *tenancy.Account {
	return &tenancy.Account{SID: acctA, Created: created.AddDate(0, -1, 0)}
}
