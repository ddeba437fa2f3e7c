package sip

import (
	"path/filepath"
	"testing"
	"time"

	sipmsg "github.com/emiago/sipgo/sip"

	"github.com/patchbay/patchbay/accounting"
	"github.com/patchbay/patchbay/tenancy"
)

// newRecordingEnv is newEnv with a real ledger on SQLite as the recorder.
func newRecordingEnv(t *testing.T) (*testEnv, *accounting.Ledger) {
	t.Helper()
	db, err := tenancy.OpenDB(t.Context(), filepath.Join(t.TempDir(), "cdr.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ledger, err := accounting.Open(t.Context(), accounting.Config{DB: db, Node: "test",
		Logger: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t)
	e.srv.SetRecorder(ledger)
	t.Cleanup(func() { e.srv.Close(); ledger.Close() })

	return e, ledger
}

// waitCDRs waits until the account has n closed CDRs and returns them.
func waitCDRs(t *testing.T, l *accounting.Ledger, n int) []accounting.CDR {
	t.Helper()
	var cdrs []accounting.CDR
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		all, _, err := l.ListCDRs(t.Context(), accounting.CDRFilter{AccountSID: acctA})
		if err != nil {
			t.Fatal(err)
		}
		cdrs = cdrs[:0]
		for _, c := range all {
			if !c.Open() {
				cdrs = append(cdrs, c)
			}
		}
		if len(cdrs) >= n {
			return cdrs
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%d closed CDRs, want %d: %+v", len(cdrs), n, cdrs)

	return nil
}

// TestProxyCallCDRs: a call the proxy carries between two devices gets a
// CDR, answered and closed by the BYE with the side that hung up; a call
// the callee refuses gets one with its status; registrations are metered.
func TestProxyCallCDRs(t *testing.T) {
	e, ledger := newRecordingEnv(t)
	alice := e.phone("udp", "alice", "acme.test", "alice-pw")
	bob := e.phone("udp", "bob", "acme.test", "bob-pw")
	alice.mustRegister()
	bob.mustRegister()

	inv, tx := alice.invite("bob", "acme.test")
	res := alice.final(tx)
	if res == nil || res.StatusCode != 200 {
		t.Fatalf("INVITE: %v", res)
	}
	alice.ack(inv, res)
	bob.waitFor(sipmsg.ACK, 2*time.Second)
	if r := alice.final(alice.send(alice.inDialog(sipmsg.BYE, inv, res))); r == nil ||
		r.StatusCode != 200 {
		t.Fatalf("BYE: %v", r)
	}
	c := waitCDRs(t, ledger, 1)[0]
	if c.Status != accounting.StatusCompleted || c.Cause != accounting.CauseCallerHangup ||
		c.Answered.IsZero() || c.From != "alice" || c.To != "bob" ||
		c.MediaMode != string(tenancy.MediaPeerToPeer) {
		t.Fatalf("answered call's CDR = %+v", c)
	}

	bob.setAnswer(answerWith(486))
	_, tx = alice.invite("bob", "acme.test")
	if res := alice.final(tx); res == nil || res.StatusCode != 486 {
		t.Fatalf("INVITE to a busy callee: %v", res)
	}
	var busy *accounting.CDR
	for _, c := range waitCDRs(t, ledger, 2) {
		if c.SIPCode == 486 {
			busy = &c
		}
	}
	if busy == nil || busy.Status != accounting.StatusBusy || !busy.Answered.IsZero() {
		t.Fatalf("busy call's CDR = %+v", busy)
	}

	today := time.Now().UTC().Format(time.DateOnly)
	var usage []accounting.UsageRecord
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		var err error
		usage, err = ledger.UsageRecords(t.Context(), accounting.UsageQuery{AccountSID: acctA,
			Category: accounting.CatRegistrations, Start: today, End: today})
		if err != nil {
			t.Fatal(err)
		}
		if len(usage) > 0 && usage[0].Count >= 2 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("registrations metered: %+v, want a count of 2", usage)
}
