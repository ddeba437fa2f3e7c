package accounting

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/patchbay/patchbay/tenancy"
)

const adminToken = "operator-secret-token"

// harness is a ledger mounted on the real tenancy API over one SQLite file,
// with accounts a > b > c and an unrelated account d.
type harness struct {
	l          *Ledger
	store      *tenancy.Store
	srv        *httptest.Server
	a, b, c, d *tenancy.Account
}

// creds are HTTP Basic credentials; the zero value is the operator.
type creds struct{ user, pass string }

func (h *harness) as(acct *tenancy.Account) creds { return creds{acct.SID, acct.AuthToken} }

var operator = creds{"admin", adminToken}

func newHarness(t *testing.T, cfg Config) *harness {
	t.Helper()
	ctx := context.Background()
	db, err := tenancy.OpenDB(ctx, filepath.Join(t.TempDir(), "patchbay.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	store, err := tenancy.NewStore(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	h := &harness{store: store}
	mk := func(parent *tenancy.Account, name string) *tenancy.Account {
		sid := ""
		if parent != nil {
			sid = parent.SID
		}
		acct, err := store.CreateAccount(ctx, sid, name)
		if err != nil {
			t.Fatal(err)
		}

		return acct
	}
	h.a = mk(nil, "a")
	h.b = mk(h.a, "b")
	h.c = mk(h.b, "c")
	h.d = mk(nil, "d")
	cfg.DB, cfg.Node, cfg.Accounts = db, "node-a", store
	if cfg.Logger == nil {
		cfg.Logger = quietLogger()
	}
	if cfg.SpendCap == nil {
		cfg.SpendCap = SpendCapFromLimits(store)
	}
	h.l, err = Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.l.Close() })
	api := tenancy.NewAPI(store, tenancy.APIOptions{AdminToken: adminToken})
	h.l.Mount(api)
	h.srv = httptest.NewServer(api)
	t.Cleanup(h.srv.Close)

	return h
}

// do sends a request as who and decodes a JSON answer into out (when not
// nil), failing unless the status is want.
func (h *harness) do(t *testing.T, who creds, method, path, ctype, body string, want int,
	out any) {
	t.Helper()
	req, err := http.NewRequest(method, h.srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(who.user, who.pass)
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
		t.Fatalf("%s %s = %d %s, want %d", method, path, resp.StatusCode, raw, want)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: %v in %s", method, path, err, raw)
		}
	}
}

type apiErr struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Status  int    `json:"status"`
}
