package accounting

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestStatementRollsUpAndReconciles(t *testing.T) {
	ctx := context.Background()
	clock := &fakeClock{now: t0}
	tree := newTestTree(acctB, acctA, acctC, acctB)
	l, _ := openTestLedger(t, Config{Accounts: tree, Now: clock.Now})
	meteredPlan(t, l, acctA, 5*MicroPerUnit)
	own, err := l.CreatePricePlan(ctx, PricePlan{AccountSID: acctA, PriceUnit: "USD",
		MonthlyFee: 2 * MicroPerUnit, Rates: []Rate{{Category: CatCallsOutboundAPI,
			PerMinute: 30_000, Initial: 1, Increment: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.AssignPricePlan(ctx, acctC, own.SID); err != nil {
		t.Fatal(err)
	}

	callAt(t, l, 1, acctA, t0, 61*time.Second)                       // A: 66 s at 0.01 = 11000
	callAt(t, l, 2, acctB, t0, 120*time.Second)                      // B inherits: 120 s = 20000
	callAt(t, l, 3, acctC, t0, 10*time.Second)                       // C own: 10 s at 0.03 = 5000
	if err := l.Meter(ctx, acctB, CatRecordings, 2, 2); err != nil { // 10000
		t.Fatal(err)
	}
	callAt(t, l, 4, acctA, t0.AddDate(0, 1, 0), 60*time.Second) // December: not included

	st, err := l.Statement(ctx, acctA, "2026-11-01", "2026-11-30")
	if err != nil {
		t.Fatal(err)
	}
	var sum int64
	for _, ln := range st.Lines {
		sum += ln.Price
	}
	fees := int64(5+2) * MicroPerUnit
	want := int64(11_000+20_000+5_000+10_000) + fees
	if len(st.Totals) != 1 || st.Totals[0].Amount != sum || sum != want {
		t.Fatalf("totals %+v, lines sum %d, want %d; lines %+v", st.Totals, sum, want, st.Lines)
	}
	if len(st.CDRTotal) != 1 || st.CDRTotal[0].Amount != 11_000+20_000+5_000 {
		t.Fatalf("cdr total %+v", st.CDRTotal)
	}
	var accts int64
	for _, a := range st.Accounts {
		accts += a.Amount
	}
	if accts != sum || len(st.Accounts) != 3 {
		t.Fatalf("per-account totals %+v do not add up to %d", st.Accounts, sum)
	}

	sub, err := l.Statement(ctx, acctC, "2026-11-01", "2026-11-30")
	if err != nil {
		t.Fatal(err)
	}
	if sub.Totals[0].Amount != 5_000+2*MicroPerUnit {
		t.Fatalf("C's statement %+v", sub.Totals)
	}
	mid, err := l.Statement(ctx, acctA, "2026-11-02", "2026-11-30")
	if err != nil {
		t.Fatal(err)
	}
	for _, ln := range mid.Lines {
		if ln.Kind == "monthly-fee" {
			t.Fatalf("a period not holding a month's first day carries a fee: %+v", ln)
		}
	}
	if _, err := l.Statement(ctx, acctA, "2026-11-30", "2026-11-01"); !errors.Is(err,
		ErrInvalid) {
		t.Fatalf("reversed period: %v, want ErrInvalid", err)
	}
}

func TestMonthsStarting(t *testing.T) {
	cases := []struct {
		start, end string
		want       int
	}{
		{"2026-11-01", "2026-11-30", 1},
		{"2026-11-02", "2026-11-30", 0},
		{"2026-11-02", "2026-12-01", 1},
		{"2026-01-01", "2026-12-31", 12},
		{"2026-01-15", "2026-01-15", 0},
	}
	for _, c := range cases {
		if got := monthsStarting(c.start, c.end); got != c.want {
			t.Errorf("monthsStarting(%s, %s) = %d, want %d", c.start, c.end, got, c.want)
		}
	}
}
