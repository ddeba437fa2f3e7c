package tenancy

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const testAdminToken = "admin-secret-token"

// harness is a real API over HTTP on 127.0.0.1 backed by an SQLite file.
type harness struct {
	t     testing.TB
	file  string
	db    *sql.DB
	store *Store
	srv   *httptest.Server
	seq   int // for unique names
}

// creds are HTTP Basic credentials.
type creds struct{ user, pass string }

var operator = creds{"admin", testAdminToken}

func newHarness(t testing.TB, opts APIOptions) *harness {
	t.Helper()
	h := &harness{t: t, file: filepath.Join(t.TempDir(), "tenancy.db")}
	h.open(opts)

	return h
}

// open (re)opens the database file and starts a server on it.
func (h *harness) open(opts APIOptions) {
	h.t.Helper()
	ctx := context.Background()
	db, err := OpenDB(ctx, h.file)
	if err != nil {
		h.t.Fatal(err)
	}
	store, err := NewStore(ctx, db)
	if err != nil {
		db.Close()
		h.t.Fatal(err)
	}
	if opts.AdminToken == "" {
		opts.AdminToken = testAdminToken
	}
	h.db, h.store = db, store
	h.srv = httptest.NewServer(NewAPI(store, opts))
	h.t.Cleanup(h.close)
}

// close stops the server and closes the store and database; idempotent.
func (h *harness) close() {
	if h.srv == nil {
		return
	}
	h.srv.Close()
	h.store.Close()
	h.db.Close()
	h.srv = nil
}

// restart closes everything and opens the same file again.
func (h *harness) restart() {
	h.t.Helper()
	h.close()
	h.open(APIOptions{})
}

// do sends a request with form as the body (POST) and decodes the JSON
// answer (nil for an empty body).
func (h *harness) do(c creds, method, path string, form url.Values) (int, map[string]any) {
	h.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, h.srv.URL+path, body)
	if err != nil {
		h.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if c.user != "" {
		req.SetBasicAuth(c.user, c.pass)
	}
	resp, err := h.srv.Client().Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	if len(raw) == 0 {
		return resp.StatusCode, nil
	}
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		h.t.Fatalf("%s %s: status %d, body not JSON: %q", method, path, resp.StatusCode, raw)
	}

	return resp.StatusCode, out
}

// must is do that fails the test unless the status is want.
func (h *harness) must(want int, c creds, method, path string, form url.Values) map[string]any {
	h.t.Helper()
	status, out := h.do(c, method, path, form)
	if status != want {
		h.t.Fatalf("%s %s: status %d, want %d; body %v", method, path, status, want, out)
	}

	return out
}

// account creates an account as c (the operator: top-level) and returns
// its credentials.
func (h *harness) account(c creds, name string) creds {
	h.t.Helper()
	out := h.must(http.StatusCreated, c, "POST", "/2010-04-01/Accounts.json",
		url.Values{"FriendlyName": {name}})

	return creds{out["sid"].(string), out["auth_token"].(string)}
}

// vals builds url.Values from key, value pairs.
func vals(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}

	return v
}

func parseRFC2822(v any) (time.Time, error) {
	s, _ := v.(string)

	return time.Parse(time.RFC1123Z, s)
}

// snapshot dumps every tenancy table, rows in a stable order, as text.
func (h *harness) snapshot() string {
	h.t.Helper()
	var b strings.Builder
	for _, table := range []string{"accounts", "applications", "incoming_numbers", "domains",
		"credential_lists", "credentials", "ip_acls", "ip_addresses", "domain_credential_lists",
		"domain_ip_acls", "trunks", "trunk_credential_lists", "trunk_ip_acls",
		"origination_urls", "services", "limits"} {
		rows, err := h.db.Query("SELECT * FROM " + table + " ORDER BY 1, 2, 3")
		if err != nil {
			h.t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				h.t.Fatal(err)
			}
			fmt.Fprintf(&b, "%s %v\n", table, vals)
		}
		rows.Close()
	}

	return b.String()
}

// diffLines lists the lines only in a (-) or only in b (+).
func diffLines(a, b string) string {
	in := func(s string) map[string]bool {
		m := map[string]bool{}
		for _, l := range strings.Split(s, "\n") {
			m[l] = true
		}

		return m
	}
	ma, mb := in(a), in(b)
	var out strings.Builder
	for l := range ma {
		if !mb[l] {
			out.WriteString("- " + l + "\n")
		}
	}
	for l := range mb {
		if !ma[l] {
			out.WriteString("+ " + l + "\n")
		}
	}

	return out.String()
}

func asFieldError(err error, fe **FieldError) bool { return errors.As(err, fe) }
