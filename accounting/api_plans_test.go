package accounting

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/patchbay/patchbay/tenancy"
)

func readPlanFile(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "accounting", "plans", name))
	if err != nil {
		t.Fatal(err)
	}

	return string(b)
}

func TestParsePricePlanJSON(t *testing.T) {
	p, err := ParsePricePlanJSON([]byte(readPlanFile(t, "retail.json")))
	if err != nil {
		t.Fatal(err)
	}
	uk, ok := p.rate(CatCallsOutboundDial, "+447700900123")
	if !ok || uk.PerMinute != 20_000 || uk.Initial != 6 || uk.Increment != 6 ||
		uk.Minimum != 30 || p.MonthlyFee != 10*MicroPerUnit ||
		p.UnitPrices[CatAPIRequests] != 100 || p.UsagePrices[CatDeviceHours] != 1_000 {
		t.Fatalf("plan = %+v", p)
	}
	bad := map[string]string{
		"bad-amount.json":    "rates[0].price_per_minute",
		"bad-field.json":     "colour",
		"bad-increment.json": "rates[0].billing_increment",
	}
	for file, field := range bad {
		t.Run(file, func(t *testing.T) {
			_, err := ParsePricePlanJSON([]byte(readPlanFile(t, file)))
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), field) {
				t.Fatalf("error %v, want ErrInvalid naming %s", err, field)
			}
		})
	}
}

// FuzzParsePricePlanJSON checks that no body panics the parser and that an
// accepted plan survives the API's own rendering.
func FuzzParsePricePlanJSON(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("..", "testdata", "accounting", "plans", "*.json"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seeds: %v", err)
	}
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := ParsePricePlanJSON(body)
		if err != nil {
			return
		}
		p.SID, p.AccountSID = "PL1", acctA
		v := viewPlan(&p, acctA)
		v.SID, v.AccountSID, v.URI, v.DateCreated, v.DateUpdated = "", "", "", nil, nil
		again, err := ParsePricePlanJSON(mustJSON(t, v))
		if err != nil {
			t.Fatalf("rendered plan does not parse: %v", err)
		}
		if len(again.Rates) != len(p.Rates) || again.MonthlyFee != p.MonthlyFee {
			t.Fatalf("round trip changed the plan: %+v vs %+v", again, p)
		}
	})
}

func TestPricePlansAPI(t *testing.T) {
	tree := newTestTree(acctB, acctA)
	l, _ := openTestLedger(t, Config{Accounts: tree})
	srv := serveRoutes(t, l, &tenancy.Account{SID: acctA},
		&tenancy.Account{SID: acctB, ParentSID: acctA})
	v1 := srv.URL + "/v1/Accounts/"

	var created planJSON
	do(t, "POST", v1+acctA+"/PricePlans.json", "application/json",
		readPlanFile(t, "retail.json"), 201, &created)
	if !strings.HasPrefix(created.SID, "PL") || created.MonthlyFee != "10.00" ||
		len(created.Rates) != 4 || created.AccountSID != acctA {
		t.Fatalf("created = %+v", created)
	}
	var e apiErr
	do(t, "POST", v1+acctA+"/PricePlans.json", "application/json",
		readPlanFile(t, "bad-amount.json"), 400, &e)
	if !strings.HasPrefix(e.Message, "rates[0].price_per_minute") {
		t.Fatalf("error = %+v", e)
	}
	do(t, "POST", v1+acctA+"/PricePlans.json", "application/x-www-form-urlencoded",
		"PriceUnit=USD", 400, nil)

	var list struct {
		PricePlans []planJSON `json:"price_plans"`
	}
	do(t, "GET", v1+acctA+"/PricePlans.json", "", "", 200, &list)
	if len(list.PricePlans) != 1 {
		t.Fatalf("list = %+v", list)
	}
	do(t, "GET", v1+acctB+"/PricePlans/"+created.SID+".json", "", "", 404, nil)

	var updated planJSON
	do(t, "POST", v1+acctA+"/PricePlans/"+created.SID+".json", "application/json",
		`{"price_unit": "USD", "friendly_name": "Cheap"}`, 200, &updated)
	if updated.FriendlyName != "Cheap" || len(updated.Rates) != 0 {
		t.Fatalf("updated = %+v", updated)
	}

	form := "application/x-www-form-urlencoded"
	var eff planJSON
	do(t, "POST", v1+acctA+"/PricePlan.json", form, "PricePlanSid="+created.SID, 200, &eff)
	if eff.SID != created.SID || eff.InheritedFrom != nil {
		t.Fatalf("effective = %+v", eff)
	}
	do(t, "GET", v1+acctB+"/PricePlan.json", "", "", 200, &eff)
	if eff.InheritedFrom == nil || *eff.InheritedFrom != acctA {
		t.Fatalf("B's effective plan = %+v, want inherited from A", eff)
	}
	do(t, "POST", v1+acctB+"/PricePlan.json", form, "PricePlanSid=PLnope", 400, &e)
	if !strings.HasPrefix(e.Message, "PricePlanSid") {
		t.Fatalf("error = %+v", e)
	}
	do(t, "POST", v1+acctB+"/PricePlan.json", form, "", 400, nil)
	do(t, "DELETE", v1+acctA+"/PricePlans/"+created.SID+".json", "", "", 400, nil)
	do(t, "POST", v1+acctA+"/PricePlan.json", "application/json", `{"PricePlanSid": ""}`,
		204, nil)
	do(t, "GET", v1+acctB+"/PricePlan.json", "", "", 404, nil)
	do(t, "DELETE", v1+acctA+"/PricePlans/"+created.SID+".json", "", "", 204, nil)
	do(t, "GET", v1+acctA+"/PricePlans/"+created.SID+".json", "", "", 404, nil)
}
