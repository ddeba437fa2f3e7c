package accounting

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/patchbay/patchbay/tenancy"
)

// TestStoreIsAccountTree pins that the tenancy store serves as the tree.
func TestStoreIsAccountTree(t *testing.T) {
	var _ AccountTree = (*tenancy.Store)(nil)
	h := newHarness(t, Config{})
	subs, err := h.l.accountsOf(context.Background(), h.a.SID, true)
	if err != nil || len(subs) != 3 {
		t.Fatalf("accounts of a = %v, %v; want a, b, c", subs, err)
	}
	if p, err := h.l.parentOf(context.Background(), h.c.SID); err != nil || p != h.b.SID {
		t.Fatalf("parent of c = %q, %v", p, err)
	}
}

func TestCallsAPI(t *testing.T) {
	ctx := context.Background()
	clock := &fakeClock{now: t0}
	h := newHarness(t, Config{Now: clock.Now})
	legPlan(t, h.l, h.a.SID)
	for i := range 5 {
		at := t0.Add(time.Duration(i) * time.Hour)
		sid := legSID(i)
		parent := ""
		if i == 4 {
			parent = legSID(0)
		}
		err := h.l.OpenLeg(ctx, LegStart{SID: sid, AccountSID: h.a.SID, ParentSID: parent,
			Direction: DirOutboundDial, From: "+14155550100", To: "+442071234567",
			Created: at, MediaMode: "relayed"})
		if err != nil {
			t.Fatal(err)
		}
		if i < 4 {
			if err := h.l.LegAnswered(ctx, sid, at); err != nil {
				t.Fatal(err)
			}
			if err := h.l.CloseLeg(ctx, LegEnd{SID: sid, Ended: at.Add(30 * time.Second),
				Status: StatusCompleted, Cause: CauseCalleeHangup, SIPCode: 200}); err != nil {
				t.Fatal(err)
			}
		}
	}
	base := "/2010-04-01/Accounts/" + h.a.SID

	var one callResource
	h.do(t, h.as(h.a), "GET", base+"/Calls/"+legSID(0)+".json", "", "", 200, &one)
	if one.Status != "completed" || one.Duration == nil || *one.Duration != "30" ||
		one.Price == nil || *one.Price != "-0.0125" || one.PriceUnit != "USD" ||
		one.Direction != "outbound-dial" || one.StartTime == nil ||
		*one.StartTime != "Tue, 03 Nov 2026 10:00:00 +0000" ||
		one.URI != base+"/Calls/"+legSID(0)+".json" {
		t.Fatalf("call = %+v", one)
	}
	h.do(t, operator, "GET", base+"/Calls/"+legSID(0)+".json", "", "", 200, nil)
	h.do(t, h.as(h.d), "GET", base+"/Calls/"+legSID(0)+".json", "", "", 404, nil)
	h.do(t, h.as(h.b), "GET", base+"/Calls.json", "", "", 404, nil)
	h.do(t, creds{h.a.SID, "wrong"}, "GET", base+"/Calls.json", "", "", 401, nil)
	h.do(t, h.as(h.a), "GET", "/2010-04-01/Accounts/"+h.b.SID+"/Calls/"+legSID(0)+".json",
		"", "", 404, nil)

	cases := []struct {
		query string
		want  int
		more  bool
	}{
		{"", 5, false},
		{"Status=completed", 4, false},
		{"Status=queued", 1, false},
		{"PageSize=2", 2, true},
		{"PageSize=2&Page=2", 1, false},
		{"To=%2B442071234567", 5, false},
		{"From=%2B1", 0, false},
		{"StartTime>=2026-11-03T12:00:00Z", 3, false},
		{"StartTime<=2026-11-03T11:00:00Z", 2, false},
		{"StartTime=2026-11-03", 5, false},
		{"StartTime=2026-11-04", 0, false},
		{"EndTime>=2026-11-03T13:00:00Z", 1, false},
		{"Direction=inbound", 0, false},
	}
	for _, c := range cases {
		t.Run(c.query, func(t *testing.T) {
			var page struct {
				Calls       []callResource `json:"calls"`
				NextPageURI *string        `json:"next_page_uri"`
			}
			h.do(t, h.as(h.a), "GET", base+"/Calls.json?"+c.query, "", "", 200, &page)
			if len(page.Calls) != c.want || (page.NextPageURI != nil) != c.more {
				t.Fatalf("got %d calls (next %v), want %d (more %v)", len(page.Calls),
					page.NextPageURI, c.want, c.more)
			}
		})
	}
	var children struct {
		Calls []callResource `json:"calls"`
	}
	h.do(t, h.as(h.a), "GET", base+"/Calls.json?ParentCallSid="+legSID(0), "", "", 200,
		&children)
	if len(children.Calls) != 1 || children.Calls[0].SID != legSID(4) ||
		*children.Calls[0].ParentCallSID != legSID(0) {
		t.Fatalf("children of %s = %+v", legSID(0), children.Calls)
	}
	for param, query := range map[string]string{"Status": "Status=happy",
		"StartTime>": "StartTime>=yesterday", "Direction": "Direction=up",
		"PageSize": "PageSize=0"} {
		t.Run("bad "+param, func(t *testing.T) {
			var e apiErr
			h.do(t, h.as(h.a), "GET", base+"/Calls.json?"+query, "", "", 400, &e)
			if e.Code != tenancy.CodeInvalidParameter || !strings.HasPrefix(e.Message, param) {
				t.Fatalf("error = %+v, want one naming %s", e, param)
			}
		})
	}
}

func TestCallsCSVExport(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, Config{})
	for i := range 3 {
		err := h.l.OpenLeg(ctx, LegStart{SID: legSID(i), AccountSID: h.a.SID,
			Direction: DirInbound, From: "alice, \"the\" caller", Created: t0})
		if err != nil {
			t.Fatal(err)
		}
	}
	err := h.l.CloseLeg(ctx, LegEnd{SID: legSID(1), Ended: t0.Add(time.Second),
		Status: StatusNoAnswer, SIPCode: 480})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", h.srv.URL+"/2010-04-01/Accounts/"+h.a.SID+
		"/Calls.csv?Status=no-answer", nil)
	req.SetBasicAuth(h.a.SID, h.a.AuthToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	rows, err := csv.NewReader(resp.Body).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || len(rows[0]) != len(csvColumns) || rows[1][0] != legSID(1) ||
		rows[1][4] != "alice, \"the\" caller" || rows[1][15] != "480" {
		t.Fatalf("csv = %q", rows)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
		t.Fatalf("Content-Type %q", ct)
	}
	var all []callResource
	h.do(t, h.as(h.a), "GET", "/v1/Accounts/"+h.a.SID+"/CDRs.json?Status=queued", "", "",
		200, &all)
	if len(all) != 2 {
		t.Fatalf("json export of queued legs: %d", len(all))
	}
	h.do(t, h.as(h.d), "GET", "/v1/Accounts/"+h.a.SID+"/CDRs.csv", "", "", 404, nil)
	h.do(t, h.as(h.a), "GET", "/v1/Accounts/"+h.a.SID+"/CDRs.csv?EndTime<=x", "", "", 400,
		nil)
}

func TestJSONExport(t *testing.T) {
	ctx := context.Background()
	l, _ := openTestLedger(t, Config{})
	var buf strings.Builder
	if err := l.ExportCDRs(ctx, &buf, CDRFilter{}, FormatJSON); err != nil {
		t.Fatal(err)
	}
	var empty []callResource
	if err := json.Unmarshal([]byte(buf.String()), &empty); err != nil || len(empty) != 0 {
		t.Fatalf("empty export %q: %v", buf.String(), err)
	}
	for i := range 3 {
		err := l.OpenLeg(ctx, LegStart{SID: legSID(i), AccountSID: acctA,
			Direction: DirInbound, Created: t0.Add(time.Duration(i) * time.Second)})
		if err != nil {
			t.Fatal(err)
		}
	}
	buf.Reset()
	if err := l.ExportCDRs(ctx, &buf, CDRFilter{}, FormatJSON); err != nil {
		t.Fatal(err)
	}
	var got []callResource
	if err := json.Unmarshal([]byte(buf.String()), &got); err != nil || len(got) != 3 ||
		got[0].SID != legSID(2) || got[0].Price != nil {
		t.Fatalf("export %q: %v", buf.String(), err)
	}
	if err := l.ExportCDRs(ctx, &buf, CDRFilter{}, "xml"); err == nil {
		t.Fatal("xml export accepted")
	}
}

// TestExportWithoutLedger reads CDRs from a database with no ledger open,
// as "patchbay cdrs export" does next to a running server: open legs stay
// open.
func TestExportWithoutLedger(t *testing.T) {
	ctx := context.Background()
	l, file := openTestLedger(t, Config{Node: "live"})
	if err := l.OpenLeg(ctx, LegStart{SID: legSID(1), AccountSID: acctA,
		Direction: DirInbound, Created: t0}); err != nil {
		t.Fatal(err)
	}
	db, err := tenancy.OpenDB(ctx, file)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var buf strings.Builder
	err = ExportCDRs(ctx, db, &buf, CDRFilter{AccountSID: acctA, Status: StatusQueued},
		FormatCSV)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(strings.NewReader(buf.String())).ReadAll()
	if err != nil || len(rows) != 2 || rows[1][0] != legSID(1) {
		t.Fatalf("export %q: %v", buf.String(), err)
	}
	if !mustCDR(t, l, legSID(1)).Open() {
		t.Fatal("exporting closed a live leg")
	}
}
