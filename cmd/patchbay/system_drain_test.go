package main

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"github.com/patchbay/patchbay/tenancy"
)

// legRow is what the system tests read back of one CDR.
type legRow struct {
	sid, status, cause string
	ended              bool
	endedAt            int64 // Unix ms; 0 while open
}

// readLegs opens the server's database file (after the server closed it)
// and returns every CDR.
func readLegs(t *testing.T, dataDir string) []legRow {
	t.Helper()
	db, err := tenancy.OpenDB(t.Context(), filepath.Join(dataDir, dbFileName))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	return queryLegs(t, t.Context(), db)
}

func queryLegs(t *testing.T, ctx context.Context, db *sql.DB) []legRow {
	t.Helper()
	rows, err := db.QueryContext(ctx,
		`SELECT sid, status, end_cause, COALESCE(ended, 0) FROM accounting_cdrs
		 ORDER BY created, sid`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var legs []legRow
	for rows.Next() {
		var l legRow
		if err := rows.Scan(&l.sid, &l.status, &l.cause, &l.endedAt); err != nil {
			t.Fatal(err)
		}
		l.ended = l.endedAt != 0
		legs = append(legs, l)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}

	return legs
}

// TestSystemDrain sends SIGTERM's drain (Run's context ends) with a call
// up: new REGISTERs and INVITEs get 503 at once, the live call goes on
// until it is hung up or the drain deadline ends it with a BYE to both
// sides, and its CDRs are closed.
func TestSystemDrain(t *testing.T) {
	const drain = 2 * time.Second
	tests := []struct {
		name      string
		hangUp    bool // the caller hangs up during the drain
		wantCause string
	}{
		{"call ends during the drain", true, "caller-hangup"},
		{"deadline ends the call", false, "system"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := newTenantApp(t, func(w http.ResponseWriter, r *http.Request) {
				writeXML(w, dialBob)
			})
			cfg := testConfig(t, map[string]string{
				"PATCHBAY_CALLS_DRAIN_TIMEOUT": drain.String()})
			r := startServer(t, cfg)
			tn := provision(t, r.base, "drain.test", url.Values{"VoiceUrl": {app.URL + "/voice"}})
			base := 40 + 4*i
			alice := newPhone(t, ipOf(base), r.sipAddr(), tn.domain, "alice")
			bob := newPhone(t, ipOf(base+1), r.sipAddr(), tn.domain, "bob")
			late := newPhone(t, ipOf(base+2), r.sipAddr(), tn.domain, "alice")
			bob.mustRegister()
			session, code, err := alice.call(t.Context(), "bob")
			if code != 200 {
				t.Fatalf("call before the drain: %d %v", code, err)
			}
			defer session.Close()

			start := time.Now()
			r.cancel()
			if !eventually(2*time.Second, r.srv.draining.Load) {
				t.Fatal("server not draining")
			}
			if code, _ := late.register(t.Context()); code != 503 {
				t.Errorf("REGISTER during the drain: %d, want 503", code)
			}
			if _, code, _ := late.call(t.Context(), "bob"); code != 503 {
				t.Errorf("INVITE during the drain: %d, want 503", code)
			}
			if tt.hangUp {
				time.Sleep(drain / 4)
				if err := session.Bye(t.Context()); err != nil {
					t.Errorf("BYE during the drain: %v", err)
				}
			}
			waitRun(t, r, drain+5*time.Second)
			took := time.Since(start)
			checkDrainEnd(t, tt.hangUp, took, drain, alice, bob)
			if err := r.srv.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
			checkClosedLegs(t, readLegs(t, cfg.DataDir), 2, tt.wantCause)
		})
	}
}

// ipOf is the loopback address 127.0.0.n.
func ipOf(n int) string { return fmt.Sprintf("127.0.0.%d", n) }

// waitRun waits for the server's Run to return.
func waitRun(t *testing.T, r *running, d time.Duration) {
	t.Helper()
	select {
	case err := <-r.done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
		r.done <- err // for startServer's cleanup
	case <-time.After(d):
		t.Fatalf("Run did not return within %s", d)
	}
}

// checkDrainEnd checks how a drain with one live call ended: quickly
// when the caller hung up, else at the deadline with a BYE to each side.
func checkDrainEnd(t *testing.T, hungUp bool, took, drain time.Duration, caller,
	callee *phone) {
	t.Helper()
	switch {
	case hungUp && took >= drain:
		t.Errorf("drain took %s although the call ended after %s", took, drain/4)
	case !hungUp && took < drain:
		t.Errorf("drain took %s, less than its %s deadline with a call up", took, drain)
	case !hungUp:
		byes := func() bool { return caller.byes.Load() == 1 && callee.byes.Load() == 1 }
		if !eventually(3*time.Second, byes) {
			t.Errorf("BYEs at the drain deadline: caller %d, callee %d; want 1 each",
				caller.byes.Load(), callee.byes.Load())
		}
	}
}

// checkClosedLegs checks that there are n CDRs, all closed and completed
// with cause.
func checkClosedLegs(t *testing.T, legs []legRow, n int, cause string) {
	t.Helper()
	if len(legs) != n {
		t.Fatalf("%d CDRs, want %d: %+v", len(legs), n, legs)
	}
	for _, l := range legs {
		if !l.ended || l.status != "completed" || l.cause != cause {
			t.Errorf("CDR %s: ended %v, status %q, cause %q; want closed, completed, %q",
				l.sid, l.ended, l.status, l.cause, cause)
		}
	}
}
