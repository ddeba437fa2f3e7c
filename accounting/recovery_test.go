package accounting

import (
	"context"
	"testing"
	"time"
)

// TestRecoveryClosesAtHeartbeat leaves legs open, sets the node's last
// heartbeat by hand and reopens: each leg ends as the recovery rules say,
// and another node's leg is left alone.
func TestRecoveryClosesAtHeartbeat(t *testing.T) {
	ctx := context.Background()
	clock := &fakeClock{now: t0}
	cfg := Config{Node: "node-r", Now: clock.Now, HeartbeatInterval: time.Hour}
	l, file := openTestLedger(t, cfg)
	legPlan(t, l, acctA) // outbound-dial 60/60 at 0.012, relayed 1/1 at 0.001

	open := func(l *Ledger, i int, at time.Duration) string {
		sid := legSID(i)
		err := l.OpenLeg(ctx, LegStart{SID: sid, AccountSID: acctA,
			Direction: DirOutboundDial, To: "+15551234567", MediaMode: "relayed",
			Created: t0.Add(at)})
		if err != nil {
			t.Fatal(err)
		}

		return sid
	}
	answered := open(l, 1, 0)
	if err := l.LegAnswered(ctx, answered, t0.Add(10*time.Second)); err != nil {
		t.Fatal(err)
	}
	ringing := open(l, 2, 0)
	if err := l.LegRinging(ctx, ringing, t0.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	late := open(l, 3, 5*time.Minute) // began after the last heartbeat
	l.Close()

	other := openLedgerAt(t, file, Config{Node: "node-other", Now: clock.Now})
	foreign := open(other, 4, 0)
	other.Close()

	beat := t0.Add(100 * time.Second)
	if _, err := l.db.Exec(`UPDATE accounting_nodes SET heartbeat = ? WHERE node = ?`,
		beat.UnixMilli(), "node-r"); err != nil {
		t.Fatal(err)
	}
	l2 := openLedgerAt(t, file, cfg)

	cases := []struct {
		sid    string
		status Status
		ended  time.Time
		talk   time.Duration
		price  int64
	}{
		{answered, StatusCompleted, beat, 90 * time.Second, 24_000 + 1_500},
		{ringing, StatusFailed, beat, 0, 0},
		{late, StatusFailed, t0.Add(5 * time.Minute), 0, 0},
	}
	for _, c := range cases {
		got := mustCDR(t, l2, c.sid)
		if got.Status != c.status || !got.Ended.Equal(c.ended) || got.TalkTime != c.talk ||
			got.PriceMicro != c.price || got.Cause != CauseNodeCrash || !got.Recovered {
			t.Errorf("%s: %+v; want %s ended %s talk %s price %d", c.sid, got, c.status,
				c.ended, c.talk, c.price)
		}
	}
	if got := mustCDR(t, l2, ringing); got.RingTime != 99*time.Second {
		t.Errorf("ring time of the ringing leg = %s, want 99s", got.RingTime)
	}
	if !mustCDR(t, l2, foreign).Open() {
		t.Error("recovery closed another node's leg")
	}
	if got := l2.SpendThisMonth(acctA); got != 25_500 {
		t.Errorf("spend this month = %d, want the recovered leg's 25500", got)
	}
	var spend int64
	if err := l2.db.QueryRow(`SELECT price_micro FROM accounting_spend WHERE month = ?`,
		"2026-11").Scan(&spend); err != nil || spend != 25_500 {
		t.Errorf("november spend = %d, %v; want 25500", spend, err)
	}
}
