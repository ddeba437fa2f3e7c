package tenancy

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestAPIServices(t *testing.T) {
	h := newHarness(t, APIOptions{})
	ts := newTenants(h)
	svc := func(c creds, name string) string {
		return "/v1/Accounts/" + c.user + "/Services/" + name + ".json"
	}

	list := h.must(http.StatusOK, ts.s1, "GET", "/v1/Accounts/"+ts.s1.user+"/Services.json", nil)
	all := list["services"].([]any)
	if len(all) != len(ServiceNames) {
		t.Fatalf("%d services, want %d", len(all), len(ServiceNames))
	}
	for i, v := range all {
		m := v.(map[string]any)
		if m["name"] != string(ServiceNames[i]) || m["enabled"] != true || m["price_plan_sid"] != nil {
			t.Errorf("default service %v", m)
		}
	}

	out := h.must(http.StatusOK, ts.s1, "POST", svc(ts.s1, "media_relay"),
		vals("Options.media_mode", "peer_to_peer", "Enabled", "false"))
	opts := out["options"].(map[string]any)
	if opts["media_mode"] != "peer_to_peer" || out["enabled"] != false {
		t.Errorf("after update %v", out)
	}
	out = h.must(http.StatusOK, ts.s1, "POST", svc(ts.s1, "media_relay"),
		vals("Options.media_mode", ""))
	if len(out["options"].(map[string]any)) != 0 || out["enabled"] != false {
		t.Errorf("empty option value must remove it and keep the rest: %v", out)
	}

	plan := "PP0123456789abcdef0123456789abcdef"
	h.must(http.StatusForbidden, ts.s1, "POST", svc(ts.s1, "calls"), vals("PricePlanSid", plan))
	out = h.must(http.StatusOK, ts.a, "POST", svc(ts.s1, "calls"), vals("PricePlanSid", plan))
	if out["price_plan_sid"] != plan {
		t.Errorf("price plan %v", out["price_plan_sid"])
	}
	h.must(http.StatusNotFound, ts.s1, "GET", svc(ts.s1, "teleport"), nil)
	h.must(http.StatusNotFound, ts.s1, "POST", svc(ts.s1, "teleport"), vals("Enabled", "true"))
	for _, outsider := range []creds{ts.s2, ts.b} {
		h.must(http.StatusNotFound, outsider, "GET", svc(ts.s1, "calls"), nil)
		h.must(http.StatusNotFound, outsider, "POST", svc(ts.s1, "calls"), vals("Enabled", "false"))
		h.must(http.StatusNotFound, outsider, "GET", "/v1/Accounts/"+ts.s1.user+"/Services.json", nil)
	}
}

func TestAPILimits(t *testing.T) {
	h := newHarness(t, APIOptions{})
	ts := newTenants(h)
	path := "/v1/Accounts/" + ts.s1.user + "/Limits.json"

	got := h.must(http.StatusOK, ts.s1, "GET", path, nil)
	if got["concurrent_calls"] != 0.0 || got["monthly_spend_cap"] != "0.00" {
		t.Errorf("default limits %v", got)
	}
	h.must(http.StatusForbidden, ts.s1, "POST", path, vals("ConcurrentCalls", "100"))
	for _, outsider := range []creds{ts.s2, ts.b} {
		h.must(http.StatusNotFound, outsider, "GET", path, nil)
		h.must(http.StatusNotFound, outsider, "POST", path, vals("ConcurrentCalls", "100"))
	}
	got = h.must(http.StatusOK, ts.a, "POST", path, vals("ConcurrentCalls", "5",
		"CallsPerSecond", "2", "Registrations", "50", "MonthlySpendCap", "25.5",
		"AllowedPrefixes", "+1, +44,+1"))
	if got["concurrent_calls"] != 5.0 || got["monthly_spend_cap"] != "25.50" ||
		len(got["allowed_prefixes"].([]any)) != 2 {
		t.Errorf("limits %v", got)
	}
	l, err := h.store.AccountLimits(t.Context(), ts.s1.user)
	if err != nil || l.MonthlySpendCapMicro != 25_500_000 || l.CallsPerSecond != 2 {
		t.Errorf("stored limits %+v, %v", l, err)
	}
	got = h.must(http.StatusOK, operator, "POST", path, vals("AllowedPrefixes", ""))
	if len(got["allowed_prefixes"].([]any)) != 0 || got["concurrent_calls"] != 5.0 {
		t.Errorf("clearing prefixes: %v", got)
	}
}

func TestAPINumberListFilters(t *testing.T) {
	h := newHarness(t, APIOptions{})
	a := h.account(operator, "numbers")
	other := h.account(operator, "other")
	coll := "/2010-04-01/Accounts/" + a.user + "/IncomingPhoneNumbers.json"
	for _, n := range []string{"+14155550100", "+14155550101", "+442071234567"} {
		h.post(a, coll, vals("PhoneNumber", n))
	}
	h.post(other, "/2010-04-01/Accounts/"+other.user+"/IncomingPhoneNumbers.json",
		vals("PhoneNumber", "+14155550102"))
	cases := []struct {
		query string
		want  int
	}{
		{"?PhoneNumber=%2B1415", 2},
		{"?PhoneNumber=555010*", 2},
		{"?PhoneNumber=2071234567", 1},
		{"?FriendlyName=%2B442071234567", 1},
		{"?PhoneNumber=%2B1415&FriendlyName=nobody", 0},
		{"?PhoneNumber=%2B1415555010*&PageSize=1", 1},
	}
	for _, c := range cases {
		t.Run(c.query, func(t *testing.T) {
			h.t = t
			out := h.must(http.StatusOK, a, "GET", coll+c.query, nil)
			if n := len(out["incoming_phone_numbers"].([]any)); n != c.want {
				t.Errorf("%d numbers, want %d", n, c.want)
			}
		})
	}
	h.t = t
	out := h.must(http.StatusOK, a, "GET", coll+"?PhoneNumber=%2B1415&PageSize=1", nil)
	next, _ := out["next_page_uri"].(string)
	if !strings.Contains(next, "PhoneNumber=%2B1415") {
		t.Errorf("next_page_uri %q drops the filter", next)
	}
	body := h.must(http.StatusBadRequest, a, "GET", coll+"?PhoneNumber=abc", nil)
	if msg, _ := body["message"].(string); !strings.HasPrefix(msg, "PhoneNumber:") {
		t.Errorf("message %q", msg)
	}
}

func TestAPIMappingDatedByItsCreation(t *testing.T) {
	h := newHarness(t, APIOptions{})
	a := h.account(operator, "dates")
	base := "/2010-04-01/Accounts/" + a.user
	clock := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	h.store.now = func() time.Time { return clock }
	dom := h.post(a, base+"/SIP/Domains.json", vals("DomainName", "dated.example.com"))
	cl := h.post(a, base+"/SIP/CredentialLists.json", vals("FriendlyName", "l"))
	clock = clock.Add(time.Hour)
	mapping := base + "/SIP/Domains/" + dom + "/CredentialListMappings"
	created := h.must(http.StatusCreated, a, "POST", mapping+".json", vals("CredentialListSid", cl))
	fetched := h.must(http.StatusOK, a, "GET", mapping+"/"+cl+".json", nil)
	want := FormatTime(clock)
	if created["date_created"] != want || fetched["date_created"] != want ||
		fetched["domain_sid"] != dom || fetched["sid"] != cl {
		t.Errorf("mapping %v, want date_created %s", fetched, want)
	}
}
