package webhook

import (
	"context"
	"errors"
	"net/url"
	"path/filepath"
	"testing"
	"time"
)

// TestOutboxArmRelease: a call whose final event was enqueued leaves no
// armed row; the armed final events of calls cut short are released once,
// with the call's parameters and the end the EndFunc reports; a call whose
// end is not known yet keeps its row, and so does one armed after the
// Outbox was opened.
func TestOutboxArmRelease(t *testing.T) {
	s := newSink(t)
	file := filepath.Join(t.TempDir(), "o.db")
	db := openTestDB(t, file)
	o := testOutbox(t, db, OutboxConfig{})
	arm := func(call string) {
		ev := event(s, call, "")
		ev.Params = CallParams{CallSID: call, AccountSID: "AC1", From: "alice", To: "bob",
			Direction: DirectionInbound}.Values()
		if err := o.Arm(t.Context(), ev); err != nil {
			t.Fatal(err)
		}
	}
	for _, call := range []string{"CA-done", "CA-answered", "CA-unanswered", "CA-open"} {
		arm(call)
	}
	if err := o.Enqueue(t.Context(), event(s, "CA-done", "completed")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the ended call's event", func() bool { return len(s.received()) == 1 })
	o.Close()

	ended := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	ends := map[string]CallEnd{
		"CA-answered":   {Status: "completed", Duration: 61500 * time.Millisecond, SIPResponseCode: 200, Ended: ended},
		"CA-unanswered": {Status: "failed", SIPResponseCode: 500, Ended: ended},
	}
	asked := map[string]int{}
	end := func(_ context.Context, call string) (CallEnd, bool, error) {
		asked[call]++
		e, ok := ends[call]
		return e, ok, nil
	}
	o = testOutbox(t, db, OutboxConfig{})
	arm("CA-new") // a call of the new process: not released
	n, err := o.ReleaseArmed(t.Context(), end)
	if err != nil || n != 2 {
		t.Fatalf("released %d, %v; want 2", n, err)
	}
	if asked["CA-done"] != 0 {
		t.Errorf("the call that ended was still armed")
	}
	waitFor(t, "the released events", func() bool { return len(s.received()) == 3 })
	byCall := map[string]url.Values{}
	for _, v := range s.received()[1:] {
		byCall[v.Get("CallSid")] = v
	}
	want := map[string]map[string]string{
		"CA-answered": {"CallStatus": "completed", "CallDuration": "62", "Duration": "2",
			"SipResponseCode": "200", "From": "alice", "Direction": "inbound",
			"Timestamp": "Fri, 04 Dec 2026 10:00:00 +0000", "SequenceNumber": "0"},
		"CA-unanswered": {"CallStatus": "failed", "CallDuration": "0",
			"SipResponseCode": "500", "To": "bob", "AccountSid": "AC1"},
	}
	for call, fields := range want {
		for k, v := range fields {
			if got := byCall[call].Get(k); got != v {
				t.Errorf("%s: %s = %q, want %q", call, k, got, v)
			}
		}
	}

	// A second release finds only the call whose end is still unknown.
	clear(asked)
	if n, err := o.ReleaseArmed(t.Context(), end); err != nil || n != 0 {
		t.Fatalf("second release: %d, %v", n, err)
	}
	if len(asked) != 1 || asked["CA-open"] != 1 {
		t.Errorf("second release asked for %v, want only CA-open", asked)
	}
	var left int
	db.QueryRow(`SELECT count(*) FROM webhook_outbox_final`).Scan(&left)
	if left != 2 {
		t.Errorf("%d armed rows left, want 2 (CA-open, CA-new)", left)
	}

	failing := func(context.Context, string) (CallEnd, bool, error) {
		return CallEnd{}, false, errors.New("store down")
	}
	if _, err := o.ReleaseArmed(t.Context(), failing); err == nil {
		t.Error("a failing EndFunc was not reported")
	}
}

// TestOutboxArmRefusesBadTargets: Arm checks the target like Enqueue.
func TestOutboxArmRefusesBadTargets(t *testing.T) {
	o := testOutbox(t, openTestDB(t, filepath.Join(t.TempDir(), "o.db")), OutboxConfig{})
	for _, ev := range []Event{{CallSID: "CA1", URL: "ftp://x/"},
		{CallSID: "CA1", URL: "http://x/", Method: "PUT"}} {
		if err := o.Arm(t.Context(), ev); !errors.Is(err, ErrBadTarget) {
			t.Errorf("Arm(%+v) = %v, want ErrBadTarget", ev, err)
		}
	}
}
