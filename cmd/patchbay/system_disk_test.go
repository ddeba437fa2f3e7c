package main

import (
	"net/http"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"github.com/patchbay/patchbay/tenancy"
)

// TestSystemDatabaseLocked holds the database's write lock from another
// connection for longer than the busy timeout (10 s) while a call comes
// in: the call is answered or refused at once (no hang), is refused (503)
// or billed but never carried unbilled, a call once the ledger knows it
// cannot write is refused, the CDRs written before survive, and calls are
// billed again once the lock is released.
func TestSystemDatabaseLocked(t *testing.T) {
	if testing.Short() {
		t.Skip("waits out the 10 s SQLite busy timeout")
	}
	app := newTenantApp(t, func(w http.ResponseWriter, r *http.Request) { writeXML(w, dialBob) })
	cfg := testConfig(t, nil)
	r := startServer(t, cfg)
	tn := provision(t, r.base, "locked.test", url.Values{"VoiceUrl": {app.URL + "/voice"}})
	alice := newPhone(t, "127.0.0.80", r.sipAddr(), tn.domain, "alice")
	bob := newPhone(t, "127.0.0.81", r.sipAddr(), tn.domain, "bob")
	bob.mustRegister()
	if code, err := alice.callAndHangUp(t.Context(), "bob"); code != 200 {
		t.Fatalf("call before the lock: %d %v", code, err)
	}
	settle(r)
	before := queryLegs(t, t.Context(), r.srv.db)

	locker, err := tenancy.OpenDB(t.Context(), filepath.Join(cfg.DataDir, dbFileName))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { locker.Close() })
	tx, err := locker.BeginTx(t.Context(), nil) // BEGIN IMMEDIATE: the write lock
	if err != nil {
		t.Fatal(err)
	}
	release := time.AfterFunc(15*time.Second, func() { tx.Rollback() })
	t.Cleanup(func() { release.Stop(); tx.Rollback() })

	start := time.Now()
	code, err := alice.callAndHangUp(t.Context(), "bob")
	took := time.Since(start)
	if took > 3*time.Second {
		t.Errorf("call with the database locked took %s to be answered or refused", took)
	}
	// Past the busy timeout the ledger knows it cannot write: a new call is
	// refused rather than carried unbilled.
	ledger := r.srv.voice.ledger
	if !eventually(12*time.Second, func() bool { return ledger.Ready() != nil }) {
		t.Fatal("the ledger never reported that it cannot write")
	}
	if code, err := alice.callAndHangUp(t.Context(), "bob"); code != 503 {
		t.Errorf("call while the ledger cannot write: %d %v, want 503", code, err)
	}
	release.Stop()
	tx.Rollback()
	if !eventually(5*time.Second, func() bool { return ledger.Ready() == nil }) {
		t.Fatal("the ledger did not recover after the lock was released")
	}
	settle(r)
	// The call that came in as the lock was taken was admitted before the
	// ledger knew; its two CDRs wait out the lock in the writer's retries
	// and are written once it is released: refused or billed, never neither.
	switch {
	case code == 200:
		written := eventually(10*time.Second, func() bool {
			return len(queryLegs(t, t.Context(), r.srv.db)) >= len(before)+2
		})
		if !written {
			t.Errorf("call with the database locked was answered but its CDRs were not written")
		}
	case code != 503:
		t.Errorf("call with the database locked answered %d (%v), want 200 or 503", code, err)
	}
	after := queryLegs(t, t.Context(), r.srv.db)
	if len(after) < len(before) || !sameLegs(before, after[:len(before)]) {
		t.Fatalf("CDRs written before the lock changed:\nbefore %+v\nafter  %+v", before, after)
	}
	if code, err := alice.callAndHangUp(t.Context(), "bob"); code != 200 {
		t.Errorf("call after the lock was released: %d %v", code, err)
	}
	settle(r)
	var again []legRow
	billed := eventually(5*time.Second, func() bool {
		again = queryLegs(t, t.Context(), r.srv.db)
		return len(again) >= len(after)+2
	})
	if !billed {
		t.Errorf("call after the lock left %d CDRs within 5 s, want 2", len(again)-len(after))
	}

}
