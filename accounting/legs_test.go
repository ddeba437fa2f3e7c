package accounting

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// legPlan prices outbound-dial at 0.012/min in 60/60 and inbound at
// 0.006/min in 6/6 with a 30 s minimum; relayed minutes at 0.001/min.
func legPlan(t *testing.T, l *Ledger, owner string) *PricePlan {
	t.Helper()
	p, err := l.CreatePricePlan(context.Background(), PricePlan{
		AccountSID: owner, PriceUnit: "USD", OperatorOwned: true,
		Rates: []Rate{
			{Category: CatCallsOutboundDial, PerMinute: 12_000, Initial: 60, Increment: 60},
			{Category: CatCallsInbound, PerMinute: 6_000, Initial: 6, Increment: 6,
				Minimum: 30},
			{Category: CatMinutesRelayed, PerMinute: 1_000, Initial: 1, Increment: 1},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.AssignPricePlan(context.Background(), owner, p.SID); err != nil {
		t.Fatal(err)
	}

	return p
}

func TestCDRForEachKindOfEnd(t *testing.T) {
	ctx := context.Background()
	l, _ := openTestLedger(t, Config{})
	legPlan(t, l, acctA)

	type step struct {
		ring, answer, end time.Duration // offsets from t0; negative: not happened
	}
	cases := []struct {
		name      string
		dir       Direction
		step      step
		end       LegEnd
		ring      time.Duration
		talk      time.Duration
		billable  time.Duration
		price     int64
		wantCause EndCause
	}{
		{"completed caller hangup", DirOutboundDial, step{2 * time.Second, 7 * time.Second,
			97 * time.Second}, LegEnd{Status: StatusCompleted, Cause: CauseCallerHangup},
			5 * time.Second, 90 * time.Second, 120 * time.Second, 24_000 + 1_500,
			CauseCallerHangup},
		{"completed callee hangup short", DirInbound, step{-1, 1 * time.Second,
			11 * time.Second}, LegEnd{Status: StatusCompleted, Cause: CauseCalleeHangup},
			1 * time.Second, 10 * time.Second, 30 * time.Second, 3_000 + 167,
			CauseCalleeHangup},
		{"busy", DirOutboundDial, step{-1, -1, 3 * time.Second}, LegEnd{Status: StatusBusy,
			Cause: CauseSIPError, SIPCode: 486, SIPReason: "Busy Here"},
			3 * time.Second, 0, 0, 0, CauseSIPError},
		{"no answer", DirOutboundDial, step{1 * time.Second, -1, 31 * time.Second},
			LegEnd{Status: StatusNoAnswer, Cause: CauseSIPError, SIPCode: 408},
			30 * time.Second, 0, 0, 0, CauseSIPError},
		{"failed", DirOutboundDial, step{-1, -1, 500 * time.Millisecond},
			LegEnd{Status: StatusFailed, Cause: CauseSIPError, SIPCode: 503,
				SIPReason: "Service Unavailable"}, 500 * time.Millisecond, 0, 0, 0,
			CauseSIPError},
		{"canceled", DirInbound, step{1 * time.Second, -1, 4 * time.Second},
			LegEnd{Status: StatusCanceled, Cause: CauseCallerHangup, SIPCode: 487},
			3 * time.Second, 0, 0, 0, CauseCallerHangup},
		{"media timeout", DirOutboundDial, step{-1, 0, 61 * time.Second},
			LegEnd{Status: StatusCompleted, Cause: CauseMediaTimeout}, 0,
			61 * time.Second, 120 * time.Second, 24_000 + 1_017, CauseMediaTimeout},
		{"limit", DirOutboundDial, step{-1, 0, 60 * time.Second},
			LegEnd{Status: StatusCompleted, Cause: CauseLimit}, 0, 60 * time.Second,
			60 * time.Second, 12_000 + 1_000, CauseLimit},
		{"application error", DirInbound, step{-1, -1, 2 * time.Second},
			LegEnd{Status: StatusFailed, Cause: CauseAppError, SIPCode: 500}, 2 * time.Second,
			0, 0, 0, CauseAppError},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sid := legSID(100 + i)
			err := l.OpenLeg(ctx, LegStart{SID: sid, AccountSID: acctA, Direction: c.dir,
				From: "+14155550100", To: "+442071234567", CallID: "abc@host",
				MediaMode: "relayed", Created: t0})
			if err != nil {
				t.Fatal(err)
			}
			if c.step.ring >= 0 {
				if err := l.LegRinging(ctx, sid, t0.Add(c.step.ring)); err != nil {
					t.Fatal(err)
				}
			}
			if c.step.answer >= 0 {
				if err := l.LegAnswered(ctx, sid, t0.Add(c.step.answer)); err != nil {
					t.Fatal(err)
				}
			}
			e := c.end
			e.SID, e.Ended = sid, t0.Add(c.step.end)
			e.Quality = Quality{Codec: "PCMU", PacketsSent: 10, Jitter: 3 * time.Millisecond}
			if err := l.CloseLeg(ctx, e); err != nil {
				t.Fatal(err)
			}
			got := mustCDR(t, l, sid)
			if got.Status != e.Status || got.Cause != c.wantCause || got.SIPCode != e.SIPCode ||
				got.SIPReason != e.SIPReason {
				t.Errorf("status/cause = %s/%s/%d/%q, want %s/%s/%d/%q", got.Status, got.Cause,
					got.SIPCode, got.SIPReason, e.Status, c.wantCause, e.SIPCode, e.SIPReason)
			}
			if got.RingTime != c.ring || got.TalkTime != c.talk || got.Billable != c.billable {
				t.Errorf("ring/talk/billable = %s/%s/%s, want %s/%s/%s", got.RingTime,
					got.TalkTime, got.Billable, c.ring, c.talk, c.billable)
			}
			if got.PriceMicro != c.price || got.PriceUnit != "USD" {
				t.Errorf("price = %d %s, want %d USD", got.PriceMicro, got.PriceUnit, c.price)
			}
			if !got.Ended.Equal(e.Ended) || got.Quality.Codec != "PCMU" ||
				got.Quality.Jitter != 3*time.Millisecond || got.Recovered || got.Node != "node-a" {
				t.Errorf("cdr = %+v", got)
			}
		})
	}
}

func TestLegEventsOnceOnly(t *testing.T) {
	ctx := context.Background()
	l, _ := openTestLedger(t, Config{})
	sid := legSID(1)
	start := LegStart{SID: sid, AccountSID: acctA, Direction: DirInbound, Created: t0}
	if err := l.OpenLeg(ctx, start); err != nil {
		t.Fatal(err)
	}
	if err := l.OpenLeg(ctx, start); !errors.Is(err, ErrDuplicateLeg) {
		t.Fatalf("second open: %v, want ErrDuplicateLeg", err)
	}
	end := LegEnd{SID: sid, Ended: t0.Add(time.Second), Status: StatusFailed}
	if err := l.CloseLeg(ctx, end); err != nil {
		t.Fatal(err)
	}
	if err := l.CloseLeg(ctx, end); !errors.Is(err, ErrLegClosed) {
		t.Fatalf("second close: %v, want ErrLegClosed", err)
	}
	if err := l.LegAnswered(ctx, sid, time.Time{}); !errors.Is(err, ErrLegClosed) {
		t.Fatalf("answer after close: %v, want ErrLegClosed", err)
	}
	if err := l.LegRinging(ctx, legSID(2), time.Time{}); !errors.Is(err, ErrUnknownLeg) {
		t.Fatalf("ringing of unknown leg: %v, want ErrUnknownLeg", err)
	}
	err := l.CloseLeg(ctx, LegEnd{SID: legSID(2), Status: StatusFailed})
	if !errors.Is(err, ErrUnknownLeg) {
		t.Fatalf("close of unknown leg: %v, want ErrUnknownLeg", err)
	}
	recs, err := l.UsageRecords(ctx, UsageQuery{AccountSID: acctA, Category: CatCallsInbound,
		Start: "2026-11-01", End: "2026-11-30"})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 || recs[0].Count != 1 {
		t.Fatalf("usage = %+v, want one leg counted once", recs)
	}
}

func TestLegValidation(t *testing.T) {
	ctx := context.Background()
	l, _ := openTestLedger(t, Config{})
	bad := map[string]LegStart{
		"no sid":        {AccountSID: acctA, Direction: DirInbound},
		"no account":    {SID: legSID(1), Direction: DirInbound},
		"bad direction": {SID: legSID(1), AccountSID: acctA, Direction: "sideways"},
		"bad media":     {SID: legSID(1), AccountSID: acctA, Direction: DirInbound, MediaMode: "x"},
		"huge to": {SID: legSID(1), AccountSID: acctA, Direction: DirInbound,
			To: strings.Repeat("9", 2000)},
	}
	for name, s := range bad {
		t.Run(name, func(t *testing.T) {
			if err := l.OpenLeg(ctx, s); !errors.Is(err, ErrInvalid) {
				t.Fatalf("OpenLeg: %v, want ErrInvalid", err)
			}
		})
	}
	badEnds := map[string]LegEnd{
		"open status": {SID: legSID(1), Status: StatusRinging},
		"bad cause":   {SID: legSID(1), Status: StatusFailed, Cause: "boredom"},
		"bad code":    {SID: legSID(1), Status: StatusFailed, SIPCode: 7},
		"negative":    {SID: legSID(1), Status: StatusFailed, Quality: Quality{PacketsLost: -1}},
		"huge reason": {SID: legSID(1), Status: StatusFailed,
			SIPReason: strings.Repeat("x", 2000)},
	}
	for name, e := range badEnds {
		t.Run(name, func(t *testing.T) {
			if err := l.CloseLeg(ctx, e); !errors.Is(err, ErrInvalid) {
				t.Fatalf("CloseLeg: %v, want ErrInvalid", err)
			}
		})
	}
}

func TestWritesAfterCloseFail(t *testing.T) {
	l, _ := openTestLedger(t, Config{})
	l.Close()
	l.Close()
	err := l.OpenLeg(context.Background(), LegStart{SID: legSID(1), AccountSID: acctA,
		Direction: DirInbound})
	if !errors.Is(err, ErrClosed) {
		t.Fatalf("OpenLeg after Close: %v, want ErrClosed", err)
	}
}

// TestOutOfOrderTimesAreClamped feeds an answer before the leg's creation
// and an end before its answer; the CDR keeps non-negative, bounded times.
func TestOutOfOrderTimesAreClamped(t *testing.T) {
	ctx := context.Background()
	l, _ := openTestLedger(t, Config{})
	cases := []struct {
		name           string
		answer, end    time.Duration
		wantTalk, ring time.Duration
	}{
		{"answer before start", -5 * time.Second, 10 * time.Second, 10 * time.Second, 0},
		{"end before answer", 8 * time.Second, 3 * time.Second, 0, 3 * time.Second},
		{"end before start", 0, -time.Second, 0, 0},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sid := legSID(50 + i)
			err := l.OpenLeg(ctx, LegStart{SID: sid, AccountSID: acctA, Direction: DirInbound,
				Created: t0})
			if err == nil {
				err = l.LegAnswered(ctx, sid, t0.Add(c.answer))
			}
			if err == nil {
				err = l.CloseLeg(ctx, LegEnd{SID: sid, Ended: t0.Add(c.end),
					Status: StatusCompleted})
			}
			if err != nil {
				t.Fatal(err)
			}
			got := mustCDR(t, l, sid)
			if got.TalkTime != c.wantTalk || got.RingTime != c.ring || got.Ended.Before(t0) {
				t.Fatalf("talk %s ring %s ended %s; want talk %s ring %s", got.TalkTime,
					got.RingTime, got.Ended, c.wantTalk, c.ring)
			}
		})
	}
}
