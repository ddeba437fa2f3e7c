package accounting

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/accounting")

// goldenLegs records one leg of each kind of end, with every field set.
func goldenLegs(t *testing.T, l *Ledger) {
	t.Helper()
	ctx := context.Background()
	legs := []struct {
		start  LegStart
		ring   time.Duration
		answer time.Duration
		endAt  time.Duration
		end    LegEnd
	}{
		{LegStart{Direction: DirInbound, From: "+14155550100", To: "+14155550199",
			CallID: "a84b4c76e66710@pc33.example.com", ApplicationSID: "AP01",
			MediaMode: "relayed", CallerName: "Alice"}, time.Second, 4 * time.Second,
			65 * time.Second, LegEnd{Status: StatusCompleted, Cause: CauseCallerHangup,
				Quality: Quality{Codec: "PCMU", SRTP: true, PacketsSent: 3050,
					PacketsReceived: 3046, BytesSent: 524600, BytesReceived: 523912,
					PacketsLost: 4, Jitter: 2500 * time.Microsecond, RTT: 41 * time.Millisecond},
				RecordingDuration: 61 * time.Second}},
		{LegStart{ParentSID: legSID(0), Direction: DirOutboundDial, From: "+14155550199",
			To: "+442071234567", TrunkSID: "TK01", MediaMode: "relayed",
			CallID: "b1@patchbay"}, 2 * time.Second, -1, 3 * time.Second,
			LegEnd{Status: StatusBusy, Cause: CauseSIPError, SIPCode: 486,
				SIPReason: "Busy Here"}},
		{LegStart{Direction: DirOutboundAPI, From: "+14155550100", To: "sip:bob@example.com",
			MediaMode: "peer_to_peer"}, -1, time.Second, 31 * time.Second,
			LegEnd{Status: StatusCompleted, Cause: CauseMediaTimeout}},
		{LegStart{Direction: DirTrunking, From: "+4930123456", To: "+14155550123",
			TrunkSID: "TK02"}, 500 * time.Millisecond, -1, 9500 * time.Millisecond,
			LegEnd{Status: StatusCanceled, Cause: CauseCallerHangup, SIPCode: 487}},
	}
	for i, g := range legs {
		s := g.start
		s.SID, s.AccountSID, s.Created = legSID(i), acctA, t0.Add(time.Duration(i)*time.Minute)
		if err := l.OpenLeg(ctx, s); err != nil {
			t.Fatal(err)
		}
		if g.ring >= 0 {
			if err := l.LegRinging(ctx, s.SID, s.Created.Add(g.ring)); err != nil {
				t.Fatal(err)
			}
		}
		if g.answer >= 0 {
			if err := l.LegAnswered(ctx, s.SID, s.Created.Add(g.answer)); err != nil {
				t.Fatal(err)
			}
		}
		e := g.end
		e.SID, e.Ended = s.SID, s.Created.Add(g.endAt)
		if err := l.CloseLeg(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
}

func TestGoldenCDRExports(t *testing.T) {
	l, _ := openTestLedger(t, Config{Node: "edge-golden"})
	p, err := ParsePricePlanJSON([]byte(readPlanFile(t, "retail.json")))
	if err != nil {
		t.Fatal(err)
	}
	p.AccountSID, p.OperatorOwned = acctA, true
	created, err := l.CreatePricePlan(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.AssignPricePlan(context.Background(), acctA, created.SID); err != nil {
		t.Fatal(err)
	}
	goldenLegs(t, l)
	for _, f := range []ExportFormat{FormatCSV, FormatJSON} {
		t.Run(string(f), func(t *testing.T) {
			var buf bytes.Buffer
			if err := l.ExportCDRs(context.Background(), &buf, CDRFilter{}, f); err != nil {
				t.Fatal(err)
			}
			file := filepath.Join("..", "testdata", "accounting", "golden", "cdrs."+string(f))
			if *update {
				if err := os.WriteFile(file, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(buf.Bytes(), want) {
				t.Fatalf("export differs from %s (run with -update to accept):\n%s", file,
					buf.String())
			}
		})
	}
}
