package accounting

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestBillableSeconds(t *testing.T) {
	cases := []struct {
		name string
		rate Rate
		talk int64
		want int64
	}{
		{"60/60 one second", Rate{Initial: 60, Increment: 60}, 1, 60},
		{"60/60 exactly a minute", Rate{Initial: 60, Increment: 60}, 60, 60},
		{"60/60 a minute and a second", Rate{Initial: 60, Increment: 60}, 61, 120},
		{"6/6 thirteen", Rate{Initial: 6, Increment: 6}, 13, 18},
		{"1/1", Rate{Initial: 1, Increment: 1}, 37, 37},
		{"zero means 1/1", Rate{}, 37, 37},
		{"30/6 short", Rate{Initial: 30, Increment: 6}, 5, 30},
		{"30/6 long", Rate{Initial: 30, Increment: 6}, 31, 36},
		{"minimum lifts", Rate{Initial: 1, Increment: 1, Minimum: 20}, 3, 20},
		{"minimum then increments", Rate{Initial: 6, Increment: 6, Minimum: 20}, 3, 24},
		{"unanswered", Rate{Initial: 60, Increment: 60, Minimum: 60}, 0, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := c.rate.BillableSeconds(c.talk); got != c.want {
				t.Fatalf("BillableSeconds(%d) = %d, want %d", c.talk, got, c.want)
			}
		})
	}
}

func TestRatePrice(t *testing.T) {
	cases := []struct {
		perMinute, billable, want int64
	}{
		{12_000, 60, 12_000},
		{12_000, 6, 1_200},
		{10_001, 6, 1_001}, // 1000.1 rounds up to the micro-unit
		{7, 1, 1},          // 0.1166... rounds up
		{0, 600, 0},
		{1_000_000, 3600, 60_000_000},
		{1_000_000 * MicroPerUnit, 366 * 86400, 366 * 1440 * 1_000_000 * MicroPerUnit},
		{7, 61, 8}, // 7.1166... rounds up
	}
	for _, c := range cases {
		r := Rate{PerMinute: c.perMinute}
		if got := r.Price(c.billable); got != c.want {
			t.Errorf("Price(%d s at %d/min) = %d, want %d", c.billable, c.perMinute, got, c.want)
		}
	}
}

func TestLongestPrefixWins(t *testing.T) {
	p := &PricePlan{Rates: []Rate{
		{Category: CatCallsOutboundDial, PerMinute: 100},
		{Category: CatCallsOutboundDial, Prefix: "+44", PerMinute: 200},
		{Category: CatCallsOutboundDial, Prefix: "447", PerMinute: 300},
		{Category: CatCallsOutboundDial, Prefix: "+4479", PerMinute: 400},
		{Category: CatCallsInbound, Prefix: "+4479", PerMinute: 999},
	}}
	cases := map[string]int64{
		"+14155550100":                    100,
		"+442071234567":                   200,
		"+447700900123":                   300,
		"+447912345678":                   400,
		"sip:+447912345678@carrier.test":  400,
		"sips:447700900123@carrier.test;": 300,
		"client:alice":                    100,
		"":                                100,
	}
	indexed := &PricePlan{Rates: p.Rates}
	indexed.prepare()
	for dest, want := range cases {
		t.Run(dest, func(t *testing.T) {
			for _, plan := range []*PricePlan{p, indexed} {
				r, ok := plan.rate(CatCallsOutboundDial, dest)
				if !ok || r.PerMinute != want {
					t.Fatalf("rate(%q) = %d, %v; want %d (indexed %v)", dest, r.PerMinute,
						ok, want, plan.index != nil)
				}
			}
		})
	}
	if _, ok := (&PricePlan{Rates: p.Rates[1:2]}).rate(CatCallsOutboundDial, "+1"); ok {
		t.Fatal("a +44 rate matched +1")
	}
}

func TestRateLegCharges(t *testing.T) {
	p := &PricePlan{PriceUnit: "EUR", Rates: []Rate{
		{Category: CatCallsTrunking, Prefix: "+49", PerMinute: 9_000, Initial: 60,
			Increment: 1},
		{Category: CatMinutesP2P, PerMinute: 0},
		{Category: CatMinutesSRTP, PerMinute: 600, Initial: 6, Increment: 6},
	}, UsagePrices: map[Category]int64{CatRecordingMinutes: 2_500}}
	billable, charges := p.rateLeg(legFacts{direction: DirTrunking, to: "+4930123456",
		trunk: "TK1", mediaMode: "peer_to_peer", srtp: true, talk: 61, recording: 90})
	if billable != 61 {
		t.Fatalf("billable = %d, want 61 (60 s initial then 1/1)", billable)
	}
	want := []charge{
		{category: CatCallsTrunking, subject: "TK1", count: 1, usage: 61, price: 9_150},
		{category: CatMinutesP2P, count: 1, usage: 61, price: 0},
		{category: CatMinutesSRTP, count: 1, usage: 66, price: 660},
		{category: CatRecordingMinutes, count: 0, usage: 90, price: 3_750},
	}
	if len(charges) != len(want) {
		t.Fatalf("charges = %+v, want %+v", charges, want)
	}
	for i := range want {
		if charges[i] != want[i] {
			t.Errorf("charge %d = %+v, want %+v", i, charges[i], want[i])
		}
	}
}

func TestPlanInheritance(t *testing.T) {
	ctx := context.Background()
	tree := newTestTree(acctB, acctA, acctC, acctB) // A > B > C
	l, _ := openTestLedger(t, Config{Accounts: tree})
	parent := legPlan(t, l, acctA)
	for _, sid := range []string{acctA, acctB, acctC} {
		p, from, err := l.EffectivePricePlan(ctx, sid)
		if err != nil || p == nil || p.SID != parent.SID || from != acctA {
			t.Fatalf("plan of %s = %v from %s, %v; want %s from A", sid, p, from, err,
				parent.SID)
		}
	}
	own, err := l.CreatePricePlan(ctx, PricePlan{AccountSID: acctA, PriceUnit: "USD",
		Rates: []Rate{{Category: CatCallsInbound, PerMinute: 60_000}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.AssignPricePlan(ctx, acctB, own.SID); err != nil {
		t.Fatal(err)
	}
	if p, from, _ := l.EffectivePricePlan(ctx, acctC); p.SID != own.SID || from != acctB {
		t.Fatalf("C inherits %s from %s, want B's own plan", p.SID, from)
	}
	// A plan owned by B may not be given to A, its parent, nor to B itself
	// (B could change it); an operator plan filed under B may.
	bs, err := l.CreatePricePlan(ctx, PricePlan{AccountSID: acctB, PriceUnit: "USD"})
	if err != nil {
		t.Fatal(err)
	}
	for _, target := range []string{acctA, acctB} {
		if err := l.AssignPricePlan(ctx, target, bs.SID); !errors.Is(err, ErrNotFound) {
			t.Fatalf("assigning B's own plan to %s: %v, want ErrNotFound", target, err)
		}
	}
	// C's leg is rated with B's plan: 10 s at 0.06/min, 1/1.
	sid := legSID(9)
	if err := l.OpenLeg(ctx, LegStart{SID: sid, AccountSID: acctC, Direction: DirInbound,
		Created: t0}); err != nil {
		t.Fatal(err)
	}
	if err := l.LegAnswered(ctx, sid, t0); err != nil {
		t.Fatal(err)
	}
	if err := l.CloseLeg(ctx, LegEnd{SID: sid, Ended: t0.Add(10 * time.Second),
		Status: StatusCompleted}); err != nil {
		t.Fatal(err)
	}
	if got := mustCDR(t, l, sid).PriceMicro; got != 10_000 {
		t.Fatalf("price = %d, want 10000", got)
	}
	if err := l.AssignPricePlan(ctx, acctB, ""); err != nil {
		t.Fatal(err)
	}
	if p, from, _ := l.EffectivePricePlan(ctx, acctC); p.SID != parent.SID || from != acctA {
		t.Fatal("after unassigning B's plan C should inherit A's again")
	}
}

func TestPlanValidation(t *testing.T) {
	ctx := context.Background()
	l, _ := openTestLedger(t, Config{})
	rates := func(r ...Rate) PricePlan { return PricePlan{PriceUnit: "USD", Rates: r} }
	bad := map[string]PricePlan{
		"unit":      {PriceUnit: "usd"},
		"fee":       {PriceUnit: "USD", MonthlyFee: -1},
		"category":  rates(Rate{Category: "api-requests"}),
		"prefix":    rates(Rate{Category: CatCallsInbound, Prefix: "4a"}),
		"increment": rates(Rate{Category: CatCallsInbound, Increment: -6}),
		"duplicate": rates(Rate{Category: CatCallsInbound},
			Rate{Category: CatCallsInbound, Prefix: "+"}),
		"unit price": {PriceUnit: "USD",
			UnitPrices: map[Category]int64{CatCallsInbound: 1}},
		"usage price": {PriceUnit: "USD",
			UsagePrices: map[Category]int64{CatAPIRequests: 1}},
		"huge per-min": rates(Rate{Category: CatCallsInbound, PerMinute: 1 << 62}),
		"negative unit": {PriceUnit: "USD",
			UnitPrices: map[Category]int64{CatRecordings: -5}},
	}
	for name, p := range bad {
		t.Run(name, func(t *testing.T) {
			p.AccountSID = acctA
			if _, err := l.CreatePricePlan(ctx, p); !errors.Is(err, ErrInvalid) {
				t.Fatalf("CreatePricePlan: %v, want ErrInvalid", err)
			}
		})
	}
}

func TestParseIncrements(t *testing.T) {
	good := map[string][2]int64{"60/60": {60, 60}, "6/6": {6, 6}, "1/1": {1, 1}, "30/6": {30, 6}}
	for in, want := range good {
		i, n, err := ParseIncrements(in)
		if err != nil || i != want[0] || n != want[1] {
			t.Errorf("ParseIncrements(%q) = %d/%d, %v", in, i, n, err)
		}
	}
	for _, in := range []string{"", "60", "0/60", "60/0", "a/b", "60/60/60", "-1/6", "99999/1"} {
		if _, _, err := ParseIncrements(in); !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseIncrements(%q) = %v, want ErrInvalid", in, err)
		}
	}
}

// FuzzParseIncrements checks that accepted increments are positive and
// format back to themselves.
func FuzzParseIncrements(f *testing.F) {
	seeds, err := os.ReadFile(filepath.Join("..", "testdata", "accounting", "increments.txt"))
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range strings.Split(string(seeds), "\n") {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		i, n, err := ParseIncrements(s)
		if err != nil {
			return
		}
		if i <= 0 || n <= 0 {
			t.Fatalf("%q gave %d/%d", s, i, n)
		}
		r := Rate{Initial: i, Increment: n}
		if r.BillableSeconds(1) != i {
			t.Fatalf("%q: one second billed as %d", s, r.BillableSeconds(1))
		}
	})
}
