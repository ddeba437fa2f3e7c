package sip

import (
	"fmt"
	"testing"
	"time"

	"github.com/patchbay/patchbay/accounting"
	"github.com/patchbay/patchbay/tenancy"
)

// waitNotification waits until the account has a notification of code
// (for callSID, when not empty) and returns it.
func (e *ccEnv) waitNotification(code int, callSID string) *tenancy.Notification {
	e.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		notes, _, err := e.store.ListNotifications(e.t.Context(), e.acct.SID,
			tenancy.Page{Size: 100})
		if err != nil {
			e.t.Fatal(err)
		}
		for _, n := range notes {
			if n.ErrorCode == code && (callSID == "" || n.CallSID == callSID) {
				return n
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	e.t.Fatalf("no notification %d for call %q", code, callSID)

	return nil
}

// TestNotifyRefusals: a refusal by one of the account's limits records a
// notification with its code, once per minute per code however many calls
// are refused, while refusals that are not the account's doing record none.
func TestNotifyRefusals(t *testing.T) {
	e := newCCEnv(t)
	for range 5 {
		e.cc.notifyRefusal(e.acct.SID, "", refuse(errRateLimit, fmt.Errorf("6 calls this second")))
	}
	e.cc.notifyRefusal(e.acct.SID, "", errServiceUnavailable)
	e.cc.notifyRefusal(e.acct.SID, "", refuse(errBusyHere, errCallLimit))
	n := e.waitNotification(NoteRateLimit, "")
	if n.Level != tenancy.LevelWarning || n.Message == "" {
		t.Fatalf("notification = %+v", n)
	}
	e.waitNotification(NoteCallLimit, "") // a 486 refusal still names its limit

	e.cc.wg.Wait()
	notes, _, err := e.store.ListNotifications(t.Context(), e.acct.SID, tenancy.Page{Size: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(notes) != 2 {
		t.Fatalf("%d notifications, want one per limit code: %+v", len(notes), notes)
	}
}

// waitUsage waits until the account's use of cat today counts at least n.
func (e *ccEnv) waitUsage(cat accounting.Category, n int64) {
	e.t.Helper()
	today := time.Now().UTC().Format(time.DateOnly)
	var got int64
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		recs, err := e.ledger.UsageRecords(e.t.Context(), accounting.UsageQuery{
			AccountSID: e.acct.SID, Category: cat, Start: today, End: today})
		if err != nil {
			e.t.Fatal(err)
		}
		if len(recs) > 0 {
			if got = recs[0].Count; got >= n {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	e.t.Fatalf("%s counted %d, want at least %d", cat, got, n)
}
