package tenancy

import (
	"net/http"
	"strings"
	"testing"
)

// tenants is a parent A with sub-accounts S1 and S2, and an unrelated B.
type tenants struct{ a, s1, s2, b creds }

func newTenants(h *harness) tenants {
	h.t.Helper()
	a := h.account(operator, "parent")

	return tenants{a: a, s1: h.account(a, "sub 1"), s2: h.account(a, "sub 2"),
		b: h.account(operator, "other")}
}

func TestAPIIsolationEveryResource(t *testing.T) {
	h := newHarness(t, APIOptions{})
	for _, c := range crudCases() {
		t.Run(c.name, func(t *testing.T) {
			h.t = t
			ts := newTenants(h)
			in := setUp(h, c, ts.s1)
			sid := in.create(h, 0)
			item := in.coll + "/" + sid + ".json"

			for _, outsider := range []creds{ts.b, ts.s2} {
				expectHidden(t, h, outsider, in, item)
			}
			h.must(http.StatusOK, ts.a, "GET", item, nil)
			h.must(http.StatusOK, ts.a, "GET", in.coll+".json", nil)
			h.must(http.StatusOK, ts.s1, "GET", item, nil)

			up := setUp(h, c, ts.a)
			upItem := up.coll + "/" + up.create(h, 1) + ".json"
			for _, below := range []creds{ts.s1, ts.s2, ts.b} {
				h.must(http.StatusNotFound, below, "GET", upItem, nil)
				h.must(http.StatusNotFound, below, "DELETE", upItem, nil)
			}
		})
	}
}

// expectHidden checks that outsider gets 404, with the body of a missing
// resource, for every route of in's item, and that nothing changed.
func expectHidden(t *testing.T, h *harness, outsider creds, in instance, item string) {
	t.Helper()
	_, missing := h.do(in.acct, "GET", in.coll+"/XX.json", nil)
	before := h.snapshot()
	routes := []struct{ method, path string }{
		{"GET", in.coll + ".json"},
		{"POST", in.coll + ".json"},
		{"GET", item},
		{"DELETE", item},
		// The outsider's own account path with the other tenant's SIDs.
		{"GET", strings.Replace(item, in.acct.user, outsider.user, 1)},
		{"DELETE", strings.Replace(item, in.acct.user, outsider.user, 1)},
	}
	if in.c.update != nil {
		routes = append(routes, struct{ method, path string }{"POST", item})
	}
	for _, r := range routes {
		form := in.c.update
		if r.method == "POST" && form == nil {
			form = fillForm(in.c.create(2), in.acct.user, in.env)
		}
		status, body := h.do(outsider, r.method, r.path, form)
		if status != http.StatusNotFound {
			t.Errorf("%s %s by outsider: status %d, want 404", r.method, r.path, status)
		}
		if body["message"] != missing["message"] || body["code"] != missing["code"] {
			t.Errorf("%s %s: body %v differs from a missing resource's %v", r.method, r.path,
				body, missing)
		}
	}
	if after := h.snapshot(); after != before {
		t.Errorf("an outsider's requests changed the store:\n%s", diffLines(before, after))
	}
}

func TestAPIAccountVisibility(t *testing.T) {
	h := newHarness(t, APIOptions{})
	ts := newTenants(h)
	grand := h.account(ts.s1, "grandchild")
	acct := func(c creds) string { return "/2010-04-01/Accounts/" + c.user + ".json" }

	cases := []struct {
		name      string
		by, of    creds
		status    int
		seesToken bool
	}{
		{"self", ts.s1, ts.s1, http.StatusOK, true},
		{"parent", ts.a, ts.s1, http.StatusOK, true},
		{"grandparent", ts.a, grand, http.StatusOK, false},
		{"operator", operator, grand, http.StatusOK, true},
		{"sibling", ts.s2, ts.s1, http.StatusNotFound, false},
		{"child of parent", ts.s1, ts.a, http.StatusNotFound, false},
		{"other tenant", ts.b, ts.s1, http.StatusNotFound, false},
		{"other tenant's child", ts.b, grand, http.StatusNotFound, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h.t = t
			out := h.must(c.status, c.by, "GET", acct(c.of), nil)
			if _, has := out["auth_token"]; has != c.seesToken {
				t.Errorf("auth_token shown = %v, want %v", has, c.seesToken)
			}
		})
	}

	h.t = t
	list := h.must(http.StatusOK, ts.a, "GET", "/2010-04-01/Accounts.json", nil)
	if n := len(list["accounts"].([]any)); n != 4 {
		t.Errorf("parent lists %d accounts, want itself and 3 descendants", n)
	}
	list = h.must(http.StatusOK, ts.s2, "GET", "/2010-04-01/Accounts.json", nil)
	if n := len(list["accounts"].([]any)); n != 1 {
		t.Errorf("sub-account lists %d accounts, want only itself", n)
	}
	list = h.must(http.StatusOK, operator, "GET", "/2010-04-01/Accounts.json?PageSize=2", nil)
	if list["next_page_uri"] == nil {
		t.Error("operator list of 5 accounts in pages of 2 has no next page")
	}
}
