package accounting

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
	h := newHarness(t, Config{})
	v1 := "/v1/Accounts/"
	js, form := "application/json", "application/x-www-form-urlencoded"

	// a (top level) makes a plan for its sub-accounts.
	var created planJSON
	h.do(t, h.as(h.a), "POST", v1+h.a.SID+"/PricePlans.json", js,
		readPlanFile(t, "retail.json"), 201, &created)
	if !strings.HasPrefix(created.SID, "PL") || created.MonthlyFee != "10.00" ||
		len(created.Rates) != 4 || created.AccountSID != h.a.SID || created.OperatorOwned {
		t.Fatalf("created = %+v", created)
	}
	var e apiErr
	h.do(t, h.as(h.a), "POST", v1+h.a.SID+"/PricePlans.json", js,
		readPlanFile(t, "bad-amount.json"), 400, &e)
	if !strings.HasPrefix(e.Message, "rates[0].price_per_minute") {
		t.Fatalf("error = %+v", e)
	}
	h.do(t, h.as(h.a), "POST", v1+h.a.SID+"/PricePlans.json", form, "PriceUnit=USD", 400, nil)

	var list struct {
		PricePlans []planJSON `json:"price_plans"`
	}
	h.do(t, h.as(h.a), "GET", v1+h.a.SID+"/PricePlans.json", "", "", 200, &list)
	if len(list.PricePlans) != 1 {
		t.Fatalf("list = %+v", list)
	}
	h.do(t, h.as(h.b), "GET", v1+h.b.SID+"/PricePlans/"+created.SID+".json", "", "", 404, nil)
	h.do(t, h.as(h.d), "GET", v1+h.a.SID+"/PricePlans/"+created.SID+".json", "", "", 404, nil)

	var updated planJSON
	h.do(t, h.as(h.a), "POST", v1+h.a.SID+"/PricePlans/"+created.SID+".json", js,
		`{"price_unit": "USD", "friendly_name": "Cheap"}`, 200, &updated)
	if updated.FriendlyName != "Cheap" || len(updated.Rates) != 0 {
		t.Fatalf("updated = %+v", updated)
	}

	// Neither a nor b may pick their own plan; a may pick b's.
	h.do(t, h.as(h.a), "POST", v1+h.a.SID+"/PricePlan.json", form,
		"PricePlanSid="+created.SID, 403, nil)
	h.do(t, h.as(h.b), "POST", v1+h.b.SID+"/PricePlan.json", form,
		"PricePlanSid="+created.SID, 403, nil)
	var eff planJSON
	h.do(t, h.as(h.a), "POST", v1+h.b.SID+"/PricePlan.json", form,
		"PricePlanSid="+created.SID, 200, &eff)
	if eff.SID != created.SID || eff.InheritedFrom != nil {
		t.Fatalf("effective = %+v", eff)
	}
	h.do(t, h.as(h.c), "GET", v1+h.c.SID+"/PricePlan.json", "", "", 200, &eff)
	if eff.InheritedFrom == nil || *eff.InheritedFrom != h.b.SID {
		t.Fatalf("c's effective plan = %+v, want inherited from b", eff)
	}
	h.do(t, h.as(h.a), "POST", v1+h.b.SID+"/PricePlan.json", form, "PricePlanSid=PLnope",
		400, &e)
	if !strings.HasPrefix(e.Message, "PricePlanSid") {
		t.Fatalf("error = %+v", e)
	}
	h.do(t, h.as(h.a), "POST", v1+h.b.SID+"/PricePlan.json", form, "", 400, nil)
	h.do(t, h.as(h.a), "DELETE", v1+h.a.SID+"/PricePlans/"+created.SID+".json", "", "", 400,
		nil)
	h.do(t, h.as(h.a), "POST", v1+h.b.SID+"/PricePlan.json", js, `{"PricePlanSid": ""}`,
		204, nil)
	h.do(t, h.as(h.b), "GET", v1+h.b.SID+"/PricePlan.json", "", "", 404, nil)
	h.do(t, h.as(h.a), "DELETE", v1+h.a.SID+"/PricePlans/"+created.SID+".json", "", "", 204,
		nil)
	h.do(t, h.as(h.a), "GET", v1+h.a.SID+"/PricePlans/"+created.SID+".json", "", "", 404, nil)
}

func TestOperatorPlans(t *testing.T) {
	h := newHarness(t, Config{})
	v1 := "/v1/Accounts/" + h.a.SID
	var p planJSON
	h.do(t, operator, "POST", v1+"/PricePlans.json", "application/json",
		readPlanFile(t, "minimal.json"), 201, &p)
	if !p.OperatorOwned {
		t.Fatalf("operator plan = %+v", p)
	}
	h.do(t, h.as(h.a), "POST", v1+"/PricePlans/"+p.SID+".json", "application/json",
		`{"price_unit": "EUR"}`, 403, nil)
	h.do(t, h.as(h.a), "DELETE", v1+"/PricePlans/"+p.SID+".json", "", "", 403, nil)
	h.do(t, operator, "POST", v1+"/PricePlan.json", "application/x-www-form-urlencoded",
		"PricePlanSid="+p.SID, 200, nil)
	var eff planJSON
	h.do(t, h.as(h.a), "GET", v1+"/PricePlan.json", "", "", 200, &eff)
	if eff.SID != p.SID || eff.PriceUnit != "EUR" {
		t.Fatalf("a's plan = %+v", eff)
	}
}
