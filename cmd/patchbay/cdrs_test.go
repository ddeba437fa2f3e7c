package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/patchbay/patchbay/accounting"
	"github.com/patchbay/patchbay/tenancy"
)

// TestCDRsExport writes legs through a ledger, then exports them with the
// command, filtered by account and time, and checks bad flags are usage
// errors.
func TestCDRsExport(t *testing.T) {
	dir := t.TempDir()
	env := []string{"PATCHBAY_DATA_DIR=" + dir}
	ctx := context.Background()
	db, err := tenancy.OpenDB(ctx, filepath.Join(dir, dbFileName))
	if err != nil {
		t.Fatal(err)
	}
	ledger, err := accounting.Open(ctx, accounting.Config{DB: db, Node: "test"})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	for i, acct := range []string{"ACaaaa", "ACaaaa", "ACbbbb"} {
		sid := "CA" + strings.Repeat(string(rune('0'+i)), 32)
		leg := accounting.LegStart{SID: sid, AccountSID: acct, Direction: accounting.DirInbound,
			From: "+15550001", To: "+15550002", Created: start.Add(time.Duration(i) * time.Hour)}
		if err := ledger.OpenLeg(ctx, leg); err != nil {
			t.Fatal(err)
		}
		end := accounting.LegEnd{SID: sid, Ended: leg.Created.Add(time.Minute),
			Status: accounting.StatusCompleted, Cause: accounting.CauseCallerHangup}
		if err := ledger.CloseLeg(ctx, end); err != nil {
			t.Fatal(err)
		}
	}
	if err := ledger.Close(); err != nil {
		t.Fatal(err)
	}
	db.Close()

	cases := []struct {
		name string
		args []string
		rows int
	}{
		{"every account", nil, 3},
		{"one account", []string{"--account", "ACaaaa"}, 2},
		{"since a time", []string{"--since", "2026-12-01T10:30:00Z"}, 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			args := append([]string{"cdrs", "export"}, tc.args...)
			if code := run(ctx, args, stdio{out: &out, err: &errOut}, env); code != exitOK {
				t.Fatalf("exit %d: %s", code, errOut.String())
			}
			records, err := csv.NewReader(&out).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			if got := len(records) - 1; got != tc.rows {
				t.Fatalf("%d CDRs exported, want %d", got, tc.rows)
			}
		})
	}

	for _, bad := range [][]string{{"--format", "xml"}, {"--since", "yesterday"},
		{"--status", "happy"}} {
		var out, errOut bytes.Buffer
		args := append([]string{"cdrs", "export"}, bad...)
		if code := run(ctx, args, stdio{out: &out, err: &errOut}, env); code != exitUsage {
			t.Fatalf("%v: exit %d, want %d (%s)", bad, code, exitUsage, errOut.String())
		}
		if !strings.Contains(errOut.String(), strings.TrimPrefix(bad[0], "--")) {
			t.Fatalf("%v: error does not name the flag: %s", bad, errOut.String())
		}
	}
}
