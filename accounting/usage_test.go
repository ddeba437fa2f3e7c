package accounting

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// meteredPlan prices metered services for usage and statement tests.
func meteredPlan(t *testing.T, l *Ledger, owner string, fee int64) *PricePlan {
	t.Helper()
	ctx := context.Background()
	p, err := l.CreatePricePlan(ctx, PricePlan{AccountSID: owner, PriceUnit: "USD",
		OperatorOwned: true,
		MonthlyFee:    fee,
		Rates: []Rate{{Category: CatCallsOutboundAPI, PerMinute: 10_000, Initial: 60,
			Increment: 6}},
		UnitPrices: map[Category]int64{CatAPIRequests: 100, CatRecordings: 5_000},
		UsagePrices: map[Category]int64{CatDeviceHours: 1_000,
			CatRecordingMinutes: 2_500}})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.AssignPricePlan(ctx, owner, p.SID); err != nil {
		t.Fatal(err)
	}

	return p
}

func callAt(t *testing.T, l *Ledger, i int, acct string, at time.Time, talk time.Duration) {
	t.Helper()
	ctx := context.Background()
	sid := legSID(i)
	err := l.OpenLeg(ctx, LegStart{SID: sid, AccountSID: acct, Direction: DirOutboundAPI,
		To: "+15005550006", MediaMode: "relayed", Created: at})
	if err == nil && talk > 0 {
		err = l.LegAnswered(ctx, sid, at)
	}
	if err == nil {
		err = l.CloseLeg(ctx, LegEnd{SID: sid, Ended: at.Add(talk), Status: StatusCompleted})
	}
	if err != nil {
		t.Fatal(err)
	}
}

func TestMeterAndUsageRecords(t *testing.T) {
	ctx := context.Background()
	clock := &fakeClock{now: t0}
	tree := newTestTree(acctB, acctA)
	l, _ := openTestLedger(t, Config{Accounts: tree, Now: clock.Now})
	meteredPlan(t, l, acctA, 0)

	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(l.Meter(ctx, acctA, CatAPIRequests, 3, 3))
	must(l.Meter(ctx, acctB, CatDeviceHours, 1, 5400)) // 1.5 h at 0.001/h
	callAt(t, l, 1, acctA, t0, 61*time.Second)         // 66 s: 0.011
	clock.Set(t0.AddDate(0, 0, 1))
	must(l.Meter(ctx, acctA, CatAPIRequests, 2, 2))
	callAt(t, l, 2, acctB, t0.AddDate(0, 0, 1), 0)

	cases := []struct {
		name  string
		q     UsageQuery
		cat   Category
		n     int // records of cat
		count int64
		usage string
		price int64
	}{
		{"api all time", UsageQuery{Category: CatAPIRequests}, CatAPIRequests, 1, 5, "5", 500},
		{"api daily", UsageQuery{Category: CatAPIRequests, Granularity: GranularityDaily},
			CatAPIRequests, 2, 3, "3", 300},
		{"device hours of sub-account", UsageQuery{IncludeSubaccounts: true,
			Category: CatDeviceHours}, CatDeviceHours, 1, 1, "1.5", 1_500},
		{"no sub-accounts", UsageQuery{Category: CatDeviceHours}, CatDeviceHours, 1, 0, "0", 0},
		{"calls aggregate", UsageQuery{IncludeSubaccounts: true, Category: CatCalls}, CatCalls,
			1, 2, "1.1", 11_000},
		{"total price", UsageQuery{IncludeSubaccounts: true, Category: CatTotalPrice},
			CatTotalPrice, 1, 0, "0", 500 + 1_500 + 11_000},
		{"yearly", UsageQuery{Category: CatAPIRequests, Granularity: GranularityYearly},
			CatAPIRequests, 1, 5, "5", 500},
		{"outbound aggregate", UsageQuery{IncludeSubaccounts: true,
			Category: CatCallsOutbound}, CatCallsOutbound, 1, 2, "1.1", 11_000},
		{"monthly", UsageQuery{Category: CatCallsOutboundAPI, Granularity: GranularityMonthly,
			IncludeSubaccounts: true}, CatCallsOutboundAPI, 1, 2, "1.1", 11_000},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			q := c.q
			q.AccountSID, q.Start, q.End = acctA, "2026-11-01", "2026-11-30"
			recs, err := l.UsageRecords(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) != c.n {
				t.Fatalf("records = %+v, want %d", recs, c.n)
			}
			r := recs[0]
			if r.Category != c.cat || r.Count != c.count || r.UsageString() != c.usage ||
				r.Price != c.price || r.PriceUnit != "USD" || r.AccountSID != acctA {
				t.Fatalf("record = %+v (usage %s), want count %d usage %s price %d", r,
					r.UsageString(), c.count, c.usage, c.price)
			}
		})
	}
}

func TestUsageRecordsAllCategories(t *testing.T) {
	l, _ := openTestLedger(t, Config{})
	recs, err := l.UsageRecords(context.Background(), UsageQuery{AccountSID: acctA,
		Start: "2026-11-01", End: "2026-11-30"})
	if err != nil {
		t.Fatal(err)
	}
	if want := len(leafCategories) + len(aggregates) + 1; len(recs) != want {
		t.Fatalf("got %d records, want one per category (%d)", len(recs), want)
	}
	for _, r := range recs {
		if r.StartDate != "2026-11-01" || r.EndDate != "2026-11-30" || r.Count != 0 {
			t.Fatalf("record %+v", r)
		}
	}
}

func TestMeterRejectsBadInput(t *testing.T) {
	ctx := context.Background()
	l, _ := openTestLedger(t, Config{})
	cases := map[string]struct {
		acct         string
		cat          Category
		count, usage int64
	}{
		"no account":      {"", CatAPIRequests, 1, 1},
		"call category":   {acctA, CatCallsInbound, 1, 60},
		"unknown":         {acctA, "bananas", 1, 1},
		"negative":        {acctA, CatAPIRequests, -1, 0},
		"nothing metered": {acctA, CatAPIRequests, 0, 0},
		"huge":            {acctA, CatAPIRequests, 1 << 40, 1},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			if err := l.Meter(ctx, c.acct, c.cat, c.count, c.usage); !errors.Is(err, ErrInvalid) {
				t.Fatalf("Meter: %v, want ErrInvalid", err)
			}
		})
	}
	bad := []UsageQuery{
		{AccountSID: acctA, Start: "2026-13-01", End: "2026-12-01"},
		{AccountSID: acctA, Start: "2026-12-02", End: "2026-12-01"},
		{AccountSID: acctA, Start: "2026-12-01", End: "2026-12-01", Category: "x"},
	}
	for _, q := range bad {
		if _, err := l.UsageRecords(ctx, q); !errors.Is(err, ErrInvalid) {
			t.Errorf("UsageRecords(%+v): %v, want ErrInvalid", q, err)
		}
	}
}

func TestSpendCap(t *testing.T) {
	ctx := context.Background()
	clock := &fakeClock{now: t0}
	var mu sync.Mutex
	var crossed []int64
	hit := make(chan struct{}, 4)
	l, _ := openTestLedger(t, Config{Now: clock.Now,
		SpendCap: func(_ context.Context, sid string) (int64, error) {
			if sid == acctA {
				return 20_000, nil
			}

			return 0, nil
		},
		OnSpendCap: func(sid string, spent, capMicro int64) {
			mu.Lock()
			crossed = append(crossed, spent)
			mu.Unlock()
			hit <- struct{}{}
		}})
	meteredPlan(t, l, acctA, 0)

	callAt(t, l, 1, acctA, t0, 60*time.Second) // 0.010
	if got := l.SpendThisMonth(acctA); got != 10_000 {
		t.Fatalf("spend = %d, want 10000", got)
	}
	if err := l.CheckSpend(ctx, acctA); err != nil {
		t.Fatalf("CheckSpend under the cap: %v", err)
	}
	callAt(t, l, 2, acctA, t0, 60*time.Second) // reaches 0.020
	if err := l.CheckSpend(ctx, acctA); !errors.Is(err, ErrSpendCapReached) {
		t.Fatalf("CheckSpend at the cap: %v, want ErrSpendCapReached", err)
	}
	select {
	case <-hit:
	case <-time.After(5 * time.Second):
		t.Fatal("OnSpendCap not called")
	}
	callAt(t, l, 3, acctA, t0, 60*time.Second) // past the cap: no second call
	l.Close()
	mu.Lock()
	defer mu.Unlock()
	if len(crossed) != 1 || crossed[0] != 20_000 {
		t.Fatalf("OnSpendCap calls = %v, want one at 20000", crossed)
	}
	if err := l.CheckSpend(ctx, acctB); err != nil {
		t.Fatalf("uncapped account: %v", err)
	}
	clock.Set(t0.AddDate(0, 1, 0))
	if got := l.SpendThisMonth(acctA); got != 0 {
		t.Fatalf("spend in a new month = %d, want 0", got)
	}
}

func TestSpendSurvivesRestart(t *testing.T) {
	clock := &fakeClock{now: t0}
	l, file := openTestLedger(t, Config{Now: clock.Now})
	meteredPlan(t, l, acctA, 0)
	callAt(t, l, 1, acctA, t0, 90*time.Second) // 90 s: 0.015
	l.Close()
	l2 := openLedgerAt(t, file, Config{Now: clock.Now})
	if got := l2.SpendThisMonth(acctA); got != 15_000 {
		t.Fatalf("spend after restart = %d, want 15000", got)
	}
}

// TestCurrencyChangeKeepsUnitsApart changes the plan's price unit between
// two legs of one day: usage, statements and totals keep the amounts of the
// two units apart.
func TestCurrencyChangeKeepsUnitsApart(t *testing.T) {
	ctx := context.Background()
	clock := &fakeClock{now: t0}
	l, _ := openTestLedger(t, Config{Now: clock.Now})
	p := meteredPlan(t, l, acctA, 0)
	callAt(t, l, 1, acctA, t0, 60*time.Second) // 0.010 USD
	p.PriceUnit = "EUR"
	if _, err := l.UpdatePricePlan(ctx, *p); err != nil {
		t.Fatal(err)
	}
	callAt(t, l, 2, acctA, t0, 120*time.Second) // 0.020 EUR

	recs, err := l.UsageRecords(ctx, UsageQuery{AccountSID: acctA, Category: CatCalls,
		Start: "2026-11-01", End: "2026-11-30"})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || recs[0].PriceUnit != "EUR" || recs[0].Price != 20_000 ||
		recs[1].PriceUnit != "USD" || recs[1].Price != 10_000 {
		t.Fatalf("records = %+v, want one EUR and one USD", recs)
	}
	st, err := l.Statement(ctx, acctA, "2026-11-01", "2026-11-30")
	if err != nil {
		t.Fatal(err)
	}
	want := []Money{{20_000, "EUR"}, {10_000, "USD"}}
	if len(st.Totals) != 2 || st.Totals[0] != want[0] || st.Totals[1] != want[1] {
		t.Fatalf("totals = %+v, want %+v", st.Totals, want)
	}
}

// TestMeterPricesEachCategory meters every service category once against
// a plan with a price for each and checks the hand-computed amounts.
func TestMeterPricesEachCategory(t *testing.T) {
	ctx := context.Background()
	clock := &fakeClock{now: t0}
	l, _ := openTestLedger(t, Config{Now: clock.Now})
	p, err := l.CreatePricePlan(ctx, PricePlan{AccountSID: acctA, PriceUnit: "USD",
		OperatorOwned: true,
		UnitPrices: map[Category]int64{CatRegistrations: 10, CatRecordings: 2_500,
			CatWebhookRequests: 20, CatWebhookFailures: 0, CatAPIRequests: 5},
		UsagePrices: map[Category]int64{CatDeviceHours: 1_000, CatRecordingMinutes: 2_500}})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.AssignPricePlan(ctx, acctA, p.SID); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		cat          Category
		count, usage int64
		price        int64
		shown        string
	}{
		{CatRegistrations, 3, 3, 30, "3"},
		{CatDeviceHours, 2, 5400, 1_500, "1.5"},      // 1.5 h at 0.001
		{CatDeviceHours, 1, 1, 1, "0"},               // 1 s rounds up to a micro-unit
		{CatRecordings, 2, 2, 5_000, "2"},            // 2 at 0.0025
		{CatRecordingMinutes, 1, 90, 3_750, "1.5"},   // 1.5 min at 0.0025
		{CatWebhookRequests, 100, 100, 2_000, "100"}, // 100 at 0.00002
		{CatWebhookFailures, 4, 4, 0, "4"},
		{CatAPIRequests, 7, 7, 35, "7"},
	}
	for i, c := range cases {
		t.Run(string(c.cat), func(t *testing.T) {
			day := t0.AddDate(0, 0, i)
			clock.Set(day)
			if err := l.Meter(ctx, acctA, c.cat, c.count, c.usage); err != nil {
				t.Fatal(err)
			}
			d := day.Format(time.DateOnly)
			recs, err := l.UsageRecords(ctx, UsageQuery{AccountSID: acctA, Category: c.cat,
				Start: d, End: d})
			if err != nil || len(recs) != 1 {
				t.Fatalf("records %+v, %v", recs, err)
			}
			r := recs[0]
			if r.Count != c.count || r.Price != c.price || r.UsageString() != c.shown {
				t.Fatalf("record %+v (usage %s), want count %d price %d usage %s", r,
					r.UsageString(), c.count, c.price, c.shown)
			}
		})
	}
}
