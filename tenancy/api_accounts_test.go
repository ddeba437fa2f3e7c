package tenancy

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"testing"
)

func TestAPIDataSurvivesRestart(t *testing.T) {
	h := newHarness(t, APIOptions{})
	a := h.account(operator, "durable")
	var items []string
	for _, c := range crudCases() {
		in := setUp(h, c, a)
		items = append(items, in.coll+"/"+in.create(h, 0)+".json")
	}
	v1 := "/v1/Accounts/" + a.user
	h.must(http.StatusOK, operator, "POST", v1+"/Limits.json",
		vals("MonthlySpendCap", "25.50", "AllowedPrefixes", "+1,+44", "ConcurrentCalls", "3"))
	h.must(http.StatusOK, a, "POST", v1+"/Services/media_relay.json",
		vals("Options.media_mode", "peer_to_peer", "Enabled", "false"))
	items = append(items, "/2010-04-01/Accounts/"+a.user+".json", v1+"/Limits.json",
		v1+"/Services/media_relay.json", v1+"/Services.json")

	before := make([]map[string]any, len(items))
	for i, p := range items {
		before[i] = h.must(http.StatusOK, a, "GET", p, nil)
	}
	h.restart()
	for i, p := range items {
		after := h.must(http.StatusOK, a, "GET", p, nil)
		if !reflect.DeepEqual(before[i], after) {
			t.Errorf("%s changed across restart:\nbefore %v\nafter  %v", p, before[i], after)
		}
	}
	limits := before[len(before)-3]
	if limits["monthly_spend_cap"] != "25.50" || fmt.Sprint(limits["allowed_prefixes"]) != "[+1 +44]" {
		t.Errorf("limits %v", limits)
	}
}

func TestAPIAccountStatus(t *testing.T) {
	h := newHarness(t, APIOptions{})
	ts := newTenants(h)
	grand := h.account(ts.s1, "grandchild")
	path := func(c creds) string { return "/2010-04-01/Accounts/" + c.user + ".json" }
	apps := func(c creds) string { return "/2010-04-01/Accounts/" + c.user + "/Applications.json" }

	t.Run("an account may not change its own status", func(t *testing.T) {
		h.t = t
		h.must(http.StatusForbidden, ts.s1, "POST", path(ts.s1), vals("Status", "suspended"))
		h.must(http.StatusForbidden, ts.a, "POST", path(ts.a), vals("Status", "closed"))
		h.must(http.StatusOK, ts.s1, "POST", path(ts.s1), vals("FriendlyName", "renamed"))
	})
	t.Run("suspending a parent suspends its descendants", func(t *testing.T) {
		h.t = t
		out := h.must(http.StatusOK, ts.a, "POST", path(ts.s1), vals("Status", "suspended"))
		if out["status"] != "suspended" {
			t.Fatalf("status %v", out["status"])
		}
		got := h.must(http.StatusOK, ts.a, "GET", path(grand), nil)
		if got["status"] != "active" || got["effective_status"] != "suspended" {
			t.Errorf("grandchild status %v effective %v", got["status"], got["effective_status"])
		}
		acct, err := h.store.AccountBySID(context.Background(), grand.user)
		if err != nil || acct.Active() {
			t.Errorf("store: grandchild active = %v (%v), want not active", acct.Active(), err)
		}
		body := h.must(http.StatusForbidden, grand, "GET", apps(grand), nil)
		if body["code"] != float64(CodeAccountInactive) {
			t.Errorf("suspended caller body %v", body)
		}
		h.must(http.StatusOK, ts.a, "POST", path(ts.s1), vals("Status", "active"))
		h.must(http.StatusOK, grand, "GET", apps(grand), nil)
	})
	t.Run("closed is final", func(t *testing.T) {
		h.t = t
		h.must(http.StatusOK, operator, "POST", path(ts.s2), vals("Status", "closed"))
		h.must(http.StatusBadRequest, operator, "POST", path(ts.s2), vals("Status", "active"))
		h.must(http.StatusBadRequest, ts.a, "POST", path(ts.s2), vals("Status", "suspended"))
		h.must(http.StatusForbidden, ts.s2, "GET", apps(ts.s2), nil)
	})
	t.Run("only the operator creates top-level accounts", func(t *testing.T) {
		h.t = t
		out := h.must(http.StatusCreated, ts.b, "POST", "/2010-04-01/Accounts.json", nil)
		if out["parent_account_sid"] != ts.b.user || out["owner_account_sid"] != ts.b.user {
			t.Errorf("account created by a tenant has parent %v", out["parent_account_sid"])
		}
		top := h.must(http.StatusCreated, operator, "POST", "/2010-04-01/Accounts.json", nil)
		if top["parent_account_sid"] != nil {
			t.Errorf("operator's account has parent %v", top["parent_account_sid"])
		}
	})
}

func TestAPIAuthentication(t *testing.T) {
	h := newHarness(t, APIOptions{})
	a := h.account(operator, "auth")
	apps := "/2010-04-01/Accounts/" + a.user + "/Applications.json"
	cases := []struct {
		name string
		c    creds
	}{
		{"none", creds{}},
		{"wrong token", creds{a.user, "00000000000000000000000000000000"}},
		{"unknown account", creds{"AC" + a.pass, a.pass}},
		{"malformed user", creds{"someone", a.pass}},
		{"wrong admin token", creds{"admin", "guess"}},
		{"token of another account as admin", creds{"admin", a.pass}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h.t = t
			body := h.must(http.StatusUnauthorized, c.c, "GET", apps, nil)
			if body["code"] != float64(CodeAuthentication) {
				t.Errorf("body %v", body)
			}
		})
	}
	t.Run("no admin token configured", func(t *testing.T) {
		h2 := newHarness(t, APIOptions{})
		h2.srv.Config.Handler = NewAPI(h2.store, APIOptions{})
		h2.must(http.StatusUnauthorized, creds{"admin", ""}, "GET", "/2010-04-01/Accounts.json", nil)
	})
	t.Run("unknown route", func(t *testing.T) {
		h.t = t
		h.must(http.StatusNotFound, a, "GET", "/2010-04-01/Nothing.json", nil)
	})
	t.Run("unsupported method", func(t *testing.T) {
		h.t = t
		body := h.must(http.StatusMethodNotAllowed, a, "PUT", apps, nil)
		if body["code"] != float64(CodeMethodNotAllowed) {
			t.Errorf("body %v", body)
		}
		h.must(http.StatusMethodNotAllowed, a, "DELETE", "/2010-04-01/Accounts/"+a.user+".json", nil)
	})
}

func TestStoreAccountsErrors(t *testing.T) {
	h := newHarness(t, APIOptions{})
	ctx := context.Background()
	if _, err := h.store.CreateAccount(ctx, "AC"+fmt.Sprintf("%032d", 0), "x"); !errors.Is(err, ErrNotFound) {
		t.Errorf("sub-account of a missing parent: %v, want ErrNotFound", err)
	}
	if _, err := h.store.SubAccountSIDs(ctx, "ACnope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("SubAccountSIDs of a missing account: %v", err)
	}
	top, _ := h.store.CreateAccount(ctx, "", "")
	sub, _ := h.store.CreateAccount(ctx, top.SID, "")
	subsub, _ := h.store.CreateAccount(ctx, sub.SID, "")
	got, err := h.store.SubAccountSIDs(ctx, top.SID)
	if err != nil || !reflect.DeepEqual(got, []string{sub.SID, subsub.SID}) {
		t.Errorf("SubAccountSIDs = %v, %v", got, err)
	}
	all, more, err := h.store.ListAccounts(ctx, "", Page{Size: 10})
	if err != nil || more || len(all) != 3 {
		t.Errorf("ListAccounts all = %d, %v, %v", len(all), more, err)
	}
	if top.FriendlyName == "" || sub.FriendlyName == "" {
		t.Error("empty friendly names are not defaulted")
	}
}
