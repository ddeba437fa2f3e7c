package accounting

import (
	"context"
	"strings"
	"testing"
	"time"
)

type usagePage struct {
	Records []usageResource `json:"usage_records"`
}

func TestUsageAPI(t *testing.T) {
	ctx := context.Background()
	clock := &fakeClock{now: t0.AddDate(0, 0, -1)}
	h := newHarness(t, Config{Now: clock.Now})
	l, acctA, acctB := h.l, h.a.SID, h.b.SID
	meteredPlan(t, l, acctA, 0)
	if err := l.Meter(ctx, acctA, CatAPIRequests, 10, 10); err != nil { // yesterday
		t.Fatal(err)
	}
	clock.Set(t0)
	if err := l.Meter(ctx, acctB, CatAPIRequests, 5, 5); err != nil { // today, sub-account
		t.Fatal(err)
	}
	callAt(t, l, 1, acctA, t0, 90*time.Second)
	base := "/2010-04-01/Accounts/" + acctA + "/Usage/Records"

	cases := []struct {
		path, query string
		n           int
		count       string
		price       string
		start, end  string
	}{
		{".json", "Category=api-requests&StartDate=2026-09-03", 1, "15", "0.0015",
			"2026-09-03", "2026-11-03"},
		{".json", "Category=api-requests&StartDate=2026-09-03&IncludeSubaccounts=false", 1,
			"10", "0.001", "2026-09-03", "2026-11-03"},
		{".json", "Category=api-requests", 1, "5", "0.0005", "2026-11-03", "2026-11-03"},
		{"/Today.json", "Category=api-requests", 1, "5", "0.0005", "2026-11-03", "2026-11-03"},
		{"/Yesterday.json", "Category=api-requests", 1, "10", "0.001", "2026-11-02",
			"2026-11-02"},
		{"/ThisMonth.json", "Category=calls", 1, "1", "0.015", "2026-11-01", "2026-11-03"},
		{"/LastMonth.json", "Category=calls", 1, "0", "0.00", "2026-10-01", "2026-10-31"},
		{"/Daily.json", "Category=api-requests&StartDate=-30days", 2, "10", "0.001",
			"2026-11-02", "2026-11-02"},
		{"/Monthly.json", "Category=totalprice&StartDate=2026-11-01", 1, "0", "0.0165",
			"2026-11-01", "2026-11-03"},
		{"/Daily.json", "Category=api-requests&StartDate=-0days", 1, "5", "0.0005",
			"2026-11-03", "2026-11-03"},
	}
	for _, c := range cases {
		t.Run(c.path+"?"+c.query, func(t *testing.T) {
			var page usagePage
			h.do(t, h.as(h.a), "GET", base+c.path+"?"+c.query, "", "", 200, &page)
			if len(page.Records) != c.n {
				t.Fatalf("records = %+v, want %d", page.Records, c.n)
			}
			if c.n == 0 {
				return
			}
			r := page.Records[0]
			if r.Count != c.count || r.Price != c.price || r.StartDate != c.start ||
				r.EndDate != c.end || r.PriceUnit != "usd" || r.AccountSID != acctA {
				t.Fatalf("record = %+v", r)
			}
		})
	}
	var all usagePage
	h.do(t, h.as(h.a), "GET", base+".json?PageSize=5", "", "", 200, &all)
	if len(all.Records) != 5 {
		t.Fatalf("paging: %d records", len(all.Records))
	}
	for query, param := range map[string]string{"Category=fish": "Category",
		"StartDate=2026-02-30": "StartDate", "IncludeSubaccounts=maybe": "IncludeSubaccounts",
		"StartDate=2026-11-03&EndDate=2026-11-01": "EndDate"} {
		var e apiErr
		h.do(t, h.as(h.a), "GET", base+".json?"+query, "", "", 400, &e)
		if !strings.HasPrefix(e.Message, param) {
			t.Errorf("%s: error %+v, want one naming %s", query, e, param)
		}
	}
	if err := l.OpenLeg(ctx, LegStart{SID: legSID(9), AccountSID: acctA,
		Direction: DirTrunking, TrunkSID: "TK0123", Created: t0}); err != nil {
		t.Fatal(err)
	}
	if err := l.CloseLeg(ctx, LegEnd{SID: legSID(9), Ended: t0.Add(time.Second),
		Status: StatusFailed}); err != nil {
		t.Fatal(err)
	}
	for trunk, want := range map[string]string{"TK0123": "1", "TK9999": "0"} {
		var page usagePage
		h.do(t, h.as(h.a), "GET", base+"/Today.json?Category=calls-trunking&Trunk="+trunk,
			"", "", 200, &page)
		if len(page.Records) != 1 || page.Records[0].Count != want {
			t.Fatalf("trunk %s: %+v, want count %s", trunk, page.Records, want)
		}
	}
	h.do(t, h.as(h.a), "GET", base+"/Hourly.json", "", "", 404, nil)
	h.do(t, h.as(h.b), "GET", base+".json", "", "", 404, nil)
}

func TestStatementAPI(t *testing.T) {
	clock := &fakeClock{now: t0}
	h := newHarness(t, Config{Now: clock.Now})
	l := h.l
	meteredPlan(t, l, h.a.SID, 5*MicroPerUnit)
	callAt(t, l, 1, h.a.SID, t0, 60*time.Second) // 0.01
	callAt(t, l, 2, h.b.SID, t0, 66*time.Second) // 0.011
	base := "/v1/Accounts/" + h.a.SID + "/Statements.json"

	var st statementView
	h.do(t, h.as(h.a), "GET", base+"?Period=2026-11", "", "", 200, &st)
	if st.StartDate != "2026-11-01" || st.EndDate != "2026-11-30" || len(st.Totals) != 1 ||
		st.Totals[0].Price != "5.021" || len(st.CDRTotals) != 1 ||
		st.CDRTotals[0].Price != "0.021" || len(st.Accounts) != 2 {
		t.Fatalf("statement = %+v", st)
	}
	var sum int64
	for _, ln := range st.Lines {
		v, err := ParseMicro(ln.Price)
		if err != nil {
			t.Fatal(err)
		}
		sum += v
	}
	if FormatMicro(sum) != st.Totals[0].Price {
		t.Fatalf("lines sum to %s, total %s", FormatMicro(sum), st.Totals[0].Price)
	}
	h.do(t, operator, "GET", base, "", "", 200, &st)
	if st.StartDate != "2026-11-01" || st.EndDate != "2026-11-03" {
		t.Fatalf("default period %s..%s", st.StartDate, st.EndDate)
	}
	var e apiErr
	h.do(t, h.as(h.a), "GET", base+"?Period=November", "", "", 400, &e)
	h.do(t, h.as(h.a), "GET", strings.TrimSuffix(base, ".json")+"?Period=2026-11", "", "",
		200, &st)
	if st.Totals[0].Price != "5.021" {
		t.Fatalf("statement without .json: %+v", st)
	}
	if !strings.HasPrefix(e.Message, "Period") {
		t.Fatalf("error %+v", e)
	}
}
