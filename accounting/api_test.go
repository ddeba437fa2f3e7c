package accounting

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/patchbay/patchbay/tenancy"
)

// serveRoutes mounts the ledger's routes the way tenancy.API.HandleAccount
// does, minus authentication: the account comes from the path.
func serveRoutes(t *testing.T, l *Ledger, accounts ...*tenancy.Account) *httptest.Server {
	t.Helper()
	byID := map[string]*tenancy.Account{}
	for _, a := range accounts {
		byID[a.SID] = a
	}
	mux := http.NewServeMux()
	for _, rt := range l.Routes() {
		h := rt.Handler
		mux.HandleFunc(rt.Pattern, func(w http.ResponseWriter, r *http.Request) {
			acct := byID[strings.TrimSuffix(r.PathValue("AccountSid"), ".json")]
			if acct == nil {
				notFound(w)

				return
			}
			h(w, r, acct)
		})
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	return srv
}

// do sends a request and decodes a JSON answer into out (when not nil).
func do(t *testing.T, method, u, ctype, body string, want int, out any) {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("%s %s = %d %s, want %d", method, u, resp.StatusCode, raw, want)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: %v in %s", method, u, err, raw)
		}
	}
}

type apiErr struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Status  int    `json:"status"`
}

func TestCallsAPI(t *testing.T) {
	ctx := context.Background()
	clock := &fakeClock{now: t0}
	l, _ := openTestLedger(t, Config{Now: clock.Now})
	legPlan(t, l, acctA)
	a := &tenancy.Account{SID: acctA, Created: t0}
	b := &tenancy.Account{SID: acctB, Created: t0}
	srv := serveRoutes(t, l, a, b)

	for i := range 5 {
		at := t0.Add(time.Duration(i) * time.Hour)
		sid := legSID(i)
		err := l.OpenLeg(ctx, LegStart{SID: sid, AccountSID: acctA, Direction: DirOutboundDial,
			From: "+14155550100", To: "+442071234567", Created: at, MediaMode: "relayed"})
		if err != nil {
			t.Fatal(err)
		}
		if i < 4 {
			if err := l.LegAnswered(ctx, sid, at); err != nil {
				t.Fatal(err)
			}
			if err := l.CloseLeg(ctx, LegEnd{SID: sid, Ended: at.Add(30 * time.Second),
				Status: StatusCompleted, Cause: CauseCalleeHangup, SIPCode: 200}); err != nil {
				t.Fatal(err)
			}
		}
	}
	base := srv.URL + "/2010-04-01/Accounts/" + acctA

	var one callResource
	do(t, "GET", base+"/Calls/"+legSID(0)+".json", "", "", 200, &one)
	if one.Status != "completed" || one.Duration == nil || *one.Duration != "30" ||
		one.Price == nil || *one.Price != "-0.0125" || one.PriceUnit != "USD" ||
		one.Direction != "outbound-dial" || one.StartTime == nil ||
		*one.StartTime != "Tue, 03 Nov 2026 10:00:00 +0000" ||
		one.URI != "/2010-04-01/Accounts/"+acctA+"/Calls/"+legSID(0)+".json" {
		t.Fatalf("call = %+v", one)
	}
	do(t, "GET", srv.URL+"/2010-04-01/Accounts/"+acctB+"/Calls/"+legSID(0)+".json", "", "",
		404, nil)

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
			do(t, "GET", base+"/Calls.json?"+c.query, "", "", 200, &page)
			if len(page.Calls) != c.want || (page.NextPageURI != nil) != c.more {
				t.Fatalf("got %d calls (next %v), want %d (more %v)", len(page.Calls),
					page.NextPageURI, c.want, c.more)
			}
		})
	}
	for param, query := range map[string]string{"Status": "Status=happy",
		"StartTime>": "StartTime>=yesterday", "Direction": "Direction=up",
		"PageSize": "PageSize=0"} {
		t.Run("bad "+param, func(t *testing.T) {
			var e apiErr
			do(t, "GET", base+"/Calls.json?"+query, "", "", 400, &e)
			if e.Code != tenancy.CodeInvalidParameter || !strings.HasPrefix(e.Message, param) {
				t.Fatalf("error = %+v, want one naming %s", e, param)
			}
		})
	}
}

func TestCallsCSVExport(t *testing.T) {
	ctx := context.Background()
	l, _ := openTestLedger(t, Config{})
	srv := serveRoutes(t, l, &tenancy.Account{SID: acctA})
	for i := range 3 {
		err := l.OpenLeg(ctx, LegStart{SID: legSID(i), AccountSID: acctA,
			Direction: DirInbound, From: "alice, \"the\" caller", Created: t0})
		if err != nil {
			t.Fatal(err)
		}
	}
	err := l.CloseLeg(ctx, LegEnd{SID: legSID(1), Ended: t0.Add(time.Second),
		Status: StatusNoAnswer, SIPCode: 480})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(srv.URL + "/2010-04-01/Accounts/" + acctA + "/Calls.csv?Status=" +
		url.QueryEscape("no-answer"))
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
}
