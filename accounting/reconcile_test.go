package accounting

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"
)

// TestStatementReconcilesRandomTraffic records seeded random legs and
// meters across an account tree and checks the invariant statements rest
// on: the statement total is the sum of the rated CDRs, the rated meters
// and the fees, to the micro-unit.
func TestStatementReconcilesRandomTraffic(t *testing.T) {
	ctx := context.Background()
	clock := &fakeClock{now: t0}
	tree := newTestTree(acctB, acctA, acctC, acctA)
	l, _ := openTestLedger(t, Config{Accounts: tree, Now: clock.Now})
	p, err := ParsePricePlanJSON([]byte(readPlanFile(t, "retail.json")))
	if err != nil {
		t.Fatal(err)
	}
	p.AccountSID, p.OperatorOwned = acctA, true
	plan, err := l.CreatePricePlan(ctx, p)
	if err == nil {
		err = l.AssignPricePlan(ctx, acctA, plan.SID)
	}
	if err != nil {
		t.Fatal(err)
	}

	rng := rand.New(rand.NewPCG(6, 2026))
	accounts := []string{acctA, acctB, acctC}
	dirs := []Direction{DirInbound, DirOutboundAPI, DirOutboundDial, DirTrunking}
	dests := []string{"+14155550100", "+442071234567", "+447700900123", "client:alice"}
	var meters int64
	for i := range 300 {
		at := t0.Add(time.Duration(rng.IntN(20*24*3600)) * time.Second)
		clock.Set(at)
		acct := accounts[rng.IntN(len(accounts))]
		if rng.IntN(4) == 0 {
			c := []Category{CatAPIRequests, CatRecordings, CatDeviceHours,
				CatRecordingMinutes}[rng.IntN(4)]
			n := int64(rng.IntN(50) + 1)
			before := l.SpendThisMonth(acct)
			if err := l.Meter(ctx, acct, c, n, n*int64(rng.IntN(100)+1)); err != nil {
				t.Fatal(err)
			}
			meters += l.SpendThisMonth(acct) - before

			continue
		}
		randomLeg(t, l, rng, i, acct, dirs[rng.IntN(4)], dests[rng.IntN(4)], at)
	}

	st, err := l.Statement(ctx, acctA, "2026-11-01", "2026-11-30")
	if err != nil {
		t.Fatal(err)
	}
	var cdrs int64
	all, _, err := l.ListCDRs(ctx, CDRFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range all {
		cdrs += c.PriceMicro
	}
	fee := plan.MonthlyFee
	if len(st.Totals) != 1 || st.Totals[0].Amount != cdrs+meters+fee ||
		st.CDRTotal[0].Amount != cdrs {
		t.Fatalf("statement %+v (cdr total %+v); cdrs %d + meters %d + fee %d", st.Totals,
			st.CDRTotal, cdrs, meters, fee)
	}
	if cdrs == 0 || meters == 0 {
		t.Fatalf("degenerate traffic: cdrs %d, meters %d", cdrs, meters)
	}
}

func randomLeg(t *testing.T, l *Ledger, rng *rand.Rand, i int, acct string, dir Direction,
	to string, at time.Time) {
	t.Helper()
	ctx := context.Background()
	sid := legSID(1000 + i)
	mode := []string{"relayed", "peer_to_peer", ""}[rng.IntN(3)]
	err := l.OpenLeg(ctx, LegStart{SID: sid, AccountSID: acct, Direction: dir, To: to,
		MediaMode: mode, TrunkSID: "TK1", Created: at})
	if err != nil {
		t.Fatal(err)
	}
	ring := time.Duration(rng.IntN(20000)) * time.Millisecond
	talk := time.Duration(rng.IntN(600000)) * time.Millisecond
	end := LegEnd{SID: sid, Ended: at.Add(ring), Status: StatusNoAnswer,
		Quality: Quality{SRTP: rng.IntN(2) == 0}}
	if rng.IntN(3) > 0 {
		if err := l.LegAnswered(ctx, sid, at.Add(ring)); err != nil {
			t.Fatal(err)
		}
		end.Ended, end.Status = at.Add(ring+talk), StatusCompleted
		end.RecordingDuration = time.Duration(rng.IntN(2)) * talk / 2
	}
	if err := l.CloseLeg(ctx, end); err != nil {
		t.Fatal(err)
	}
}
