package accounting

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/patchbay/patchbay/tenancy"
)

func TestTalkTimeLeft(t *testing.T) {
	ctx := context.Background()
	clock := &fakeClock{now: t0}
	caps := map[string]int64{acctA: 30_000}
	l, _ := openTestLedger(t, Config{Now: clock.Now,
		SpendCap: func(_ context.Context, sid string) (int64, error) { return caps[sid], nil }})
	legPlan(t, l, acctA) // outbound-dial 0.012/min + relayed 0.001/min

	leg := LegStart{AccountSID: acctA, Direction: DirOutboundDial, To: "+15551234567",
		MediaMode: "relayed"}
	left, ok, err := l.TalkTimeLeft(ctx, leg)
	// 0.030 / 0.013 per minute = 138.46 s
	if err != nil || !ok || left != 138*time.Second {
		t.Fatalf("left = %s, %v, %v; want 138s", left, ok, err)
	}
	callAt2(t, l, 1, leg, 120*time.Second) // 0.024 + 0.002 = 0.026
	left, ok, _ = l.TalkTimeLeft(ctx, leg)
	if !ok || left != 18*time.Second { // 0.004 / 0.013 * 60 = 18.46
		t.Fatalf("left = %s, want 18s", left)
	}
	callAt2(t, l, 2, leg, 60*time.Second)
	if left, ok, _ = l.TalkTimeLeft(ctx, leg); !ok || left != 0 {
		t.Fatalf("left past the cap = %s, %v", left, ok)
	}
	leg.AccountSID = acctB
	if _, ok, _ = l.TalkTimeLeft(ctx, leg); ok {
		t.Fatal("an account without a cap is limited")
	}
	caps[acctC] = 1<<63 - 1
	legPlan(t, l, acctC)
	leg.AccountSID = acctC
	if left, ok, _ = l.TalkTimeLeft(ctx, leg); !ok || left != maxTalkSeconds*time.Second {
		t.Fatalf("left under a huge cap = %s, %v", left, ok)
	}
}

func callAt2(t *testing.T, l *Ledger, i int, s LegStart, talk time.Duration) {
	t.Helper()
	ctx := context.Background()
	s.SID, s.Created = legSID(i), t0
	err := l.OpenLeg(ctx, s)
	if err == nil {
		err = l.LegAnswered(ctx, s.SID, t0)
	}
	if err == nil {
		err = l.CloseLeg(ctx, LegEnd{SID: s.SID, Ended: t0.Add(talk), Status: StatusCompleted})
	}
	if err != nil {
		t.Fatal(err)
	}
}

func TestMeterAsyncIsCommittedByClose(t *testing.T) {
	l, file := openTestLedger(t, Config{})
	for range 100 {
		if err := l.MeterAsync(acctA, CatAPIRequests, 1, 1); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.MeterAsync(acctA, CatCallsInbound, 1, 1); !errors.Is(err, ErrInvalid) {
		t.Fatalf("MeterAsync of a call category: %v", err)
	}
	l.Close()
	if err := l.MeterAsync(acctA, CatAPIRequests, 1, 1); !errors.Is(err, ErrClosed) {
		t.Fatalf("MeterAsync after Close: %v", err)
	}
	l2 := openLedgerAt(t, file, Config{})
	recs, err := l2.UsageRecords(context.Background(), UsageQuery{AccountSID: acctA,
		Category: CatAPIRequests, Start: "2000-01-01", End: "2100-01-01"})
	if err != nil || len(recs) != 1 || recs[0].Count != 100 {
		t.Fatalf("records = %+v, %v; want 100 requests", recs, err)
	}
}

// TestConcurrentWritesShareBatches runs many legs at once, with duplicate
// opens and double closes mixed in, and checks that every failure stays
// with its own caller and every leg is counted once.
func TestConcurrentWritesShareBatches(t *testing.T) {
	ctx := context.Background()
	l, _ := openTestLedger(t, Config{MaxBatch: 16})
	legPlan(t, l, acctA)
	const legs = 200
	var wg sync.WaitGroup
	var mu sync.Mutex
	dup, double := 0, 0
	for i := range legs {
		wg.Go(func() {
			s := LegStart{SID: legSID(i), AccountSID: acctA, Direction: DirInbound,
				TrunkSID: "TK1", Created: t0}
			if err := l.OpenLeg(ctx, s); err != nil {
				t.Error(err)

				return
			}
			errOpen := l.OpenLeg(ctx, s)
			_ = l.LegAnswered(ctx, s.SID, t0)
			end := LegEnd{SID: s.SID, Ended: t0.Add(30 * time.Second), Status: StatusCompleted}
			if err := l.CloseLeg(ctx, end); err != nil {
				t.Error(err)
			}
			errClose := l.CloseLeg(ctx, end)
			mu.Lock()
			if errors.Is(errOpen, ErrDuplicateLeg) {
				dup++
			}
			if errors.Is(errClose, ErrLegClosed) {
				double++
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	if dup != legs || double != legs {
		t.Fatalf("duplicate opens refused %d, double closes refused %d; want %d", dup, double,
			legs)
	}
	recs, err := l.UsageRecords(ctx, UsageQuery{AccountSID: acctA, Category: CatCallsInbound,
		Start: "2026-11-01", End: "2026-11-30", Trunk: "TK1"})
	if err != nil || len(recs) != 1 || recs[0].Count != legs || recs[0].Price != legs*3_000 {
		t.Fatalf("records = %+v, %v", recs, err)
	}
	none, _ := l.UsageRecords(ctx, UsageQuery{AccountSID: acctA, Category: CatCallsInbound,
		Start: "2026-11-01", End: "2026-11-30", Trunk: "TK2"})
	if len(none) != 1 || none[0].Count != 0 {
		t.Fatalf("another trunk's records = %+v", none)
	}
	if got := l.SpendThisMonth(acctA); got != 0 {
		t.Fatalf("spend this (real) month = %d; the legs are in November 2026", got)
	}
}

// TestSpendCapFromTenancyLimits reads the cap from the real tenancy store.
func TestSpendCapFromTenancyLimits(t *testing.T) {
	ctx := context.Background()
	clock := &fakeClock{now: t0}
	h := newHarness(t, Config{Now: clock.Now})
	legPlan(t, h.l, h.a.SID)
	if err := h.l.CheckSpend(ctx, h.a.SID); err != nil {
		t.Fatalf("no cap stored: %v", err)
	}
	_, err := h.store.SetLimits(ctx, h.a.SID, func(lim *tenancy.Limits) error {
		lim.MonthlySpendCapMicro = 10_000

		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	callAt2(t, h.l, 1, LegStart{AccountSID: h.a.SID, Direction: DirOutboundDial,
		To: "+15551234567"}, 60*time.Second) // 0.012 + 0.001
	if err := h.l.CheckSpend(ctx, h.a.SID); !errors.Is(err, ErrSpendCapReached) {
		t.Fatalf("CheckSpend past the stored cap: %v", err)
	}
	if err := h.l.CheckSpend(ctx, h.b.SID); err != nil {
		t.Fatalf("sub-account without a cap: %v", err)
	}
}

// TestCloseDuringWrites closes the ledger while writers run: each OpenLeg
// either returns nil and its CDR is in the database, or returns ErrClosed
// and there is none.
func TestCloseDuringWrites(t *testing.T) {
	ctx := context.Background()
	l, file := openTestLedger(t, Config{})
	var wg sync.WaitGroup
	results := make([]error, 400)
	for i := range results {
		wg.Go(func() {
			results[i] = l.OpenLeg(ctx, LegStart{SID: legSID(i), AccountSID: acctA,
				Direction: DirInbound})
		})
		if i == 200 {
			wg.Go(func() { l.Close() })
		}
	}
	wg.Wait()
	l2 := openLedgerAt(t, file, Config{Node: "other-node"})
	for i, err := range results {
		_, cdrErr := l2.CDR(ctx, legSID(i))
		switch {
		case err == nil && cdrErr != nil:
			t.Fatalf("leg %d acknowledged but lost: %v", i, cdrErr)
		case errors.Is(err, ErrClosed) && cdrErr == nil:
			t.Fatalf("leg %d refused but recorded", i)
		case err != nil && !errors.Is(err, ErrClosed):
			t.Fatalf("leg %d: %v", i, err)
		}
	}
}

// TestRunningLegsReachTheCap lets one answered leg run past the cap: the
// running cost counts for admission, the cap watcher reports the account
// once, and the close does not report it again.
func TestRunningLegsReachTheCap(t *testing.T) {
	ctx := context.Background()
	clock := &fakeClock{now: t0}
	var mu sync.Mutex
	var reports []int64
	var capMicro atomic.Int64
	capMicro.Store(20_000)
	l, _ := openTestLedger(t, Config{Now: clock.Now, HeartbeatInterval: time.Hour,
		SpendCap: func(_ context.Context, sid string) (int64, error) {
			return capMicro.Load(), nil
		},
		OnSpendCap: func(sid string, spent, capMicro int64) {
			mu.Lock()
			reports = append(reports, spent)
			mu.Unlock()
		}})
	legPlan(t, l, acctA) // 0.012 + 0.001 relayed per minute
	sid := legSID(1)
	err := l.OpenLeg(ctx, LegStart{SID: sid, AccountSID: acctA, Direction: DirOutboundDial,
		To: "+15551234567", MediaMode: "relayed", Created: t0})
	if err == nil {
		err = l.LegAnswered(ctx, sid, t0)
	}
	if err != nil {
		t.Fatal(err)
	}

	clock.Set(t0.Add(60 * time.Second))
	if got := l.SpendWithRunning(acctA); got != 13_000 {
		t.Fatalf("spend with a minute running = %d, want 13000", got)
	}
	if err := l.CheckSpend(ctx, acctA); err != nil {
		t.Fatalf("under the cap: %v", err)
	}
	l.watchCaps()
	clock.Set(t0.Add(100 * time.Second)) // 100 s at 0.013/min = 21667
	if err := l.CheckSpend(ctx, acctA); !errors.Is(err, ErrSpendCapReached) {
		t.Fatalf("running past the cap: %v", err)
	}
	l.watchCaps()
	l.watchCaps()
	err = l.CloseLeg(ctx, LegEnd{SID: sid, Status: StatusCompleted, Cause: CauseLimit})
	if err != nil {
		t.Fatal(err)
	}
	if got := l.SpendWithRunning(acctA); got != 24_000+1_667 {
		t.Fatalf("spend after close = %d, want 25667", got)
	}
	// The operator raises the cap; reaching the new one is reported again.
	capMicro.Store(30_000)
	if err := l.CheckSpend(ctx, acctA); err != nil {
		t.Fatalf("under the raised cap: %v", err)
	}
	callAt2(t, l, 2, LegStart{AccountSID: acctA, Direction: DirOutboundDial,
		To: "+15551234567", MediaMode: "relayed"}, 60*time.Second) // +0.013
	l.Close()
	mu.Lock()
	defer mu.Unlock()
	if len(reports) != 2 || reports[0] != 21_667 || reports[1] != 38_667 {
		t.Fatalf("OnSpendCap reports = %v, want 21667 then 38667", reports)
	}
}

// TestHeartbeatWatchesCaps checks the wiring: with the real clock, an
// answered leg's running cost reaches a tiny cap and the heartbeat reports
// it without any close or meter.
func TestHeartbeatWatchesCaps(t *testing.T) {
	ctx := context.Background()
	hit := make(chan string, 1)
	l, _ := openTestLedger(t, Config{HeartbeatInterval: 20 * time.Millisecond,
		SpendCap: func(context.Context, string) (int64, error) { return 1, nil },
		OnSpendCap: func(sid string, _, _ int64) {
			select {
			case hit <- sid:
			default:
			}
		}})
	legPlan(t, l, acctA)
	sid := legSID(1)
	err := l.OpenLeg(ctx, LegStart{SID: sid, AccountSID: acctA, Direction: DirOutboundDial,
		To: "+15551234567"})
	if err == nil {
		err = l.LegAnswered(ctx, sid, time.Time{})
	}
	if err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-hit:
		if got != acctA {
			t.Fatalf("reported %s", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the heartbeat did not report the running leg at the cap")
	}
}
