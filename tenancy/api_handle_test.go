package tenancy

import (
	"bytes"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestHandleAccountMountsForeignResources(t *testing.T) {
	var mu sync.Mutex
	metered := map[string]int{}
	h := newHarness(t, APIOptions{OnRequest: func(sid string) {
		mu.Lock()
		metered[sid]++
		mu.Unlock()
	}})
	api := h.srv.Config.Handler.(*API)
	api.HandleAccount("GET /2010-04-01/Accounts/{AccountSid}/Usage/Records.json",
		func(w http.ResponseWriter, r *http.Request, acct *Account) {
			caller, op := CallerSID(r)
			WriteJSON(w, http.StatusOK, map[string]any{"account": acct.SID, "caller": caller,
				"operator": op})
		})
	ts := newTenants(h)
	usage := func(c creds) string { return "/2010-04-01/Accounts/" + c.user + "/Usage/Records.json" }

	out := h.must(http.StatusOK, ts.a, "GET", usage(ts.s1), nil)
	if out["account"] != ts.s1.user || out["caller"] != ts.a.user || out["operator"] != false {
		t.Errorf("handler got %v", out)
	}
	out = h.must(http.StatusOK, operator, "GET", usage(ts.s1), nil)
	if out["caller"] != "" || out["operator"] != true {
		t.Errorf("operator's request seen as %v", out)
	}
	h.must(http.StatusNotFound, ts.s2, "GET", usage(ts.s1), nil)
	h.must(http.StatusUnauthorized, creds{}, "GET", usage(ts.s1), nil)
	h.must(http.StatusOK, ts.s2, "GET", "/2010-04-01/Accounts.json", nil)
	h.must(http.StatusCreated, ts.s2, "POST", "/2010-04-01/Accounts.json", nil)
	mu.Lock()
	defer mu.Unlock()
	if metered[ts.s1.user] != 2 || metered[ts.s2.user] != 2 {
		t.Errorf("OnRequest counts %v, want 2 for each sub-account, none for refused requests", metered)
	}
}

func TestAPIRateLimit(t *testing.T) {
	h := newHarness(t, APIOptions{RateLimit: 0.5, RateBurst: 2})
	a := h.account(operator, "limited")
	b := h.account(operator, "other")
	apps := func(c creds) string { return "/2010-04-01/Accounts/" + c.user + "/Applications.json" }
	h.must(http.StatusOK, a, "GET", apps(a), nil)
	h.must(http.StatusOK, a, "GET", apps(a), nil)
	req, _ := http.NewRequest("GET", h.srv.URL+apps(a), nil)
	req.SetBasicAuth(a.user, a.pass)
	resp, err := h.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "2" {
		t.Errorf("status %d, Retry-After %q; want 429 after 2s", resp.StatusCode,
			resp.Header.Get("Retry-After"))
	}
	body := h.must(http.StatusTooManyRequests, a, "GET", apps(a), nil)
	if body["code"] != float64(CodeTooManyRequests) || body["status"] != 429.0 {
		t.Errorf("429 body %v", body)
	}
	h.must(http.StatusOK, b, "GET", apps(b), nil)
	for range 5 {
		h.must(http.StatusOK, operator, "GET", apps(a), nil)
	}
}

func TestRateLimiterRefills(t *testing.T) {
	l := newRateLimiter(10, 1)
	now := time.Unix(1000, 0)
	if _, ok := l.allow("a", now); !ok {
		t.Fatal("first request refused")
	}
	wait, ok := l.allow("a", now)
	if ok || wait <= 0 || wait > 100*time.Millisecond {
		t.Fatalf("second request: ok %v wait %v, want refused for up to 100ms", ok, wait)
	}
	if _, ok := l.allow("a", now.Add(100*time.Millisecond)); !ok {
		t.Error("refused after the refill period")
	}
	if _, ok := newRateLimiter(0, 0).allow("a", now); !ok {
		t.Error("zero rate must not limit")
	}
}

func TestAPINeverLogsSecrets(t *testing.T) {
	var buf bytes.Buffer
	var mu sync.Mutex
	logger := slog.New(slog.NewTextHandler(&lockedWriter{w: &buf, mu: &mu},
		&slog.HandlerOptions{Level: slog.LevelDebug}))
	h := newHarness(t, APIOptions{Logger: logger})
	a := h.account(operator, "secretive")
	base := "/2010-04-01/Accounts/" + a.user
	cl := h.post(a, base+"/SIP/CredentialLists.json", vals("FriendlyName", "l"))
	h.post(a, base+"/SIP/CredentialLists/"+cl+"/Credentials.json",
		vals("Username", "alice", "Password", goodPass))
	h.post(a, "/v1/Accounts/"+a.user+"/Trunks.json",
		vals("AuthUsername", "carrier", "AuthPassword", "trunk-password-xyz"))
	h.do(creds{a.user, "wrong-token-0123456789"}, "GET", base+".json", nil)
	h.do(creds{"admin", "wrong-admin"}, "GET", "/2010-04-01/Accounts.json", nil)

	mu.Lock()
	logged := buf.String()
	mu.Unlock()
	if !strings.Contains(logged, "api request") {
		t.Fatal("nothing was logged; the test would prove nothing")
	}
	ha1md5, ha1sha := DigestHA1("alice", goodPass)
	for _, secret := range []string{a.pass, testAdminToken, goodPass, "trunk-password-xyz",
		"wrong-token-0123456789", "wrong-admin", ha1md5, ha1sha} {
		if strings.Contains(logged, secret) {
			t.Errorf("log contains secret %q", secret)
		}
	}
}

type lockedWriter struct {
	w  *bytes.Buffer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()

	return l.w.Write(p)
}
