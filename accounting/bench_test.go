package accounting

import (
	"context"
	"database/sql"
	"fmt"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkCDRWrites measures durable CDR writes: each iteration opens,
// answers and closes (rates and meters) one leg, three group-committed
// writes with synchronous=FULL, from many concurrent callers as a busy
// node has. It reports the writes per second.
func BenchmarkCDRWrites(b *testing.B) {
	for _, par := range []int{16, 64, 256} {
		b.Run(fmt.Sprintf("callers=%d", par*2), func(b *testing.B) {
			ctx := context.Background()
			l, _ := openTestLedger(b, Config{})
			legPlanB(b, l)
			var n atomic.Int64
			b.ReportAllocs()
			b.SetParallelism(par)
			start := time.Now()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					benchLeg(b, ctx, l, int(n.Add(1)))
				}
			})
			b.StopTimer()
			secs := time.Since(start).Seconds()
			b.ReportMetric(float64(3*b.N)/secs, "writes/s")
			b.ReportMetric(float64(b.N)/secs, "legs/s")
		})
	}
}

func benchLeg(b *testing.B, ctx context.Context, l *Ledger, i int) {
	sid := legSID(i)
	err := l.OpenLeg(ctx, LegStart{SID: sid, AccountSID: acctA, Direction: DirOutboundDial,
		From: "+14155550100", To: "+442071234567", CallID: sid + "@bench",
		MediaMode: "relayed", Created: t0})
	if err == nil {
		err = l.LegAnswered(ctx, sid, t0.Add(time.Second))
	}
	if err == nil {
		err = l.CloseLeg(ctx, LegEnd{SID: sid, Ended: t0.Add(95 * time.Second),
			Status: StatusCompleted, Cause: CauseCallerHangup,
			Quality: Quality{Codec: "PCMU", PacketsSent: 4700, BytesSent: 808400}})
	}
	if err != nil {
		b.Error(err)
	}
}

func legPlanB(b *testing.B, l *Ledger) {
	b.Helper()
	p, err := l.CreatePricePlan(context.Background(), PricePlan{AccountSID: acctA,
		PriceUnit: "USD", OperatorOwned: true, Rates: []Rate{
			{Category: CatCallsOutboundDial, PerMinute: 12_000, Initial: 60, Increment: 60},
			{Category: CatCallsOutboundDial, Prefix: "+44", PerMinute: 20_000, Initial: 6,
				Increment: 6},
			{Category: CatMinutesRelayed, PerMinute: 1_000}}})
	if err != nil {
		b.Fatal(err)
	}
	if err := l.AssignPricePlan(context.Background(), acctA, p.SID); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkStatement1M measures a statement over 1,000,000 CDRs of 100
// accounts (one parent, 99 sub-accounts) across 30 days, and checks that it
// reconciles with the sum of the CDRs. The CDRs and their daily usage rows
// are bulk-loaded in one transaction (the usage rows summed from the CDRs
// by SQL), since writing them one by one would only repeat
// BenchmarkCDRWrites.
func BenchmarkStatement1M(b *testing.B) {
	const legs, accounts = 1_000_000, 100
	pairs := make([]string, 0, 2*accounts)
	for i := 1; i < accounts; i++ {
		pairs = append(pairs, benchAccount(i), benchAccount(0))
	}
	l, _ := openTestLedger(b, Config{Accounts: newTestTree(pairs...)})
	loadStart := time.Now()
	total := bulkLoad(b, l.db, legs, accounts)
	b.Logf("loaded %d CDRs in %s", legs, time.Since(loadStart).Round(time.Millisecond))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		st, err := l.Statement(context.Background(), benchAccount(0), "2026-11-01",
			"2026-11-30")
		if err != nil {
			b.Fatal(err)
		}
		if st.Totals[0].Amount != total || st.CDRTotal[0].Amount != total {
			b.Fatalf("statement %d, cdrs %d, want %d", st.Totals[0].Amount,
				st.CDRTotal[0].Amount, total)
		}
	}
}

func benchAccount(i int) string { return fmt.Sprintf("AC%032x", 0xbe000+i) }

// bulkLoad inserts closed, rated legs and their usage rows; it returns the
// sum of their prices.
func bulkLoad(b *testing.B, db *sql.DB, legs, accounts int) int64 {
	b.Helper()
	tx, err := db.Begin()
	if err != nil {
		b.Fatal(err)
	}
	defer tx.Rollback()
	st, err := tx.Prepare(`INSERT INTO accounting_cdrs (sid, account_sid, direction, to_uri,
		node, created, answered, ended, status, talk_ms, billable_s, price_micro, price_unit)
		VALUES (?, ?, 'outbound-dial', '+442071234567', 'bench', ?, ?, ?, 'completed', ?, ?,
		?, 'USD')`)
	if err != nil {
		b.Fatal(err)
	}
	var total int64
	for i := range legs {
		at := t0.AddDate(0, 0, -2).Add(time.Duration(i) * 2 * time.Second)
		talk := int64(i%300 + 1)
		billable := ceilDiv(talk, 6) * 6
		price := ceilDiv(billable*20_000, 60)
		total += price
		_, err := st.Exec(fmt.Sprintf("CA%032x", i), benchAccount(i%accounts), ms(at), ms(at),
			ms(at)+talk*1000, talk*1000, billable, price)
		if err != nil {
			b.Fatal(err)
		}
	}
	_, err = tx.Exec(`INSERT INTO accounting_usage (account_sid, category, day, subject,
		count, usage, price_micro, price_unit)
		SELECT account_sid, 'calls-outbound-dial', date(ended / 1000, 'unixepoch'), '',
		count(*), sum(billable_s), sum(price_micro), 'USD'
		FROM accounting_cdrs GROUP BY 1, 3`)
	if err != nil {
		b.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}

	return total
}

// BenchmarkRateLeg measures rating a leg against a plan of 1,000 prefixes.
func BenchmarkRateLeg(b *testing.B) {
	p := &PricePlan{PriceUnit: "USD"}
	for i := range 1000 {
		p.Rates = append(p.Rates, Rate{Category: CatCallsOutboundDial,
			Prefix: fmt.Sprintf("+%d", 100+i), PerMinute: int64(1000 + i), Initial: 6,
			Increment: 6})
	}
	p.prepare()
	f := legFacts{direction: DirOutboundDial, to: "+5551234567", mediaMode: "relayed",
		talk: 95}
	b.ReportAllocs()
	for b.Loop() {
		if bill, _ := p.rateLeg(f); bill != 96 {
			b.Fatalf("billable %d", bill)
		}
	}
}
