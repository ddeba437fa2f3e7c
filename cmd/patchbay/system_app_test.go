package main

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync"
	"testing"
	"time"
)

// dialBob is the markup that rings the tenant's user bob.
const dialBob = `<?xml version="1.0" encoding="UTF-8"?>` +
	`<Response><Dial timeout="10"><Client>bob</Client></Dial></Response>`

// tenantApp is a tenant's web application: /voice behaves as the test
// says, /fallback dials bob and records the error code it was given.
type tenantApp struct {
	*httptest.Server
	mu         sync.Mutex
	fallbackEC []string // ErrorCode of each fallback request, guarded by mu
}

func newTenantApp(t *testing.T, voice http.HandlerFunc) *tenantApp {
	t.Helper()
	a := &tenantApp{}
	mux := http.NewServeMux()
	if voice != nil {
		mux.HandleFunc("/voice", voice)
	}
	mux.HandleFunc("/fallback", func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		a.mu.Lock()
		a.fallbackEC = append(a.fallbackEC, r.Form.Get("ErrorCode"))
		a.mu.Unlock()
		writeXML(w, dialBob)
	})
	mux.HandleFunc("/status", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	})
	a.Server = httptest.NewServer(mux)
	t.Cleanup(a.Close)

	return a
}

func writeXML(w http.ResponseWriter, doc string) {
	w.Header().Set("Content-Type", "text/xml")
	fmt.Fprint(w, doc)
}

func (a *tenantApp) errorCodes() []string {
	a.mu.Lock()
	defer a.mu.Unlock()

	return append([]string(nil), a.fallbackEC...)
}

// closedPortURL is an http URL on a loopback port nothing listens on.
func closedPortURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()

	return "http://" + addr + "/voice"
}

// TestSystemTenantAppFailures lets a tenant's application be slow, down or
// answer garbage: each call goes to the fallback within the webhook
// timeouts and is answered there, goroutines do not pile up, and another
// account's calls placed meanwhile connect as fast as usual.
func TestSystemTenantAppFailures(t *testing.T) {
	const hookTimeout = time.Second
	r := startServer(t, testConfig(t, map[string]string{
		"PATCHBAY_WEBHOOKS_TIMEOUT":         hookTimeout.String(),
		"PATCHBAY_WEBHOOKS_CONNECT_TIMEOUT": hookTimeout.String(),
	}))
	good := newTenantApp(t, func(w http.ResponseWriter, r *http.Request) { writeXML(w, dialBob) })
	other := provision(t, r.base, "other.test", url.Values{"VoiceUrl": {good.URL + "/voice"}})
	otherAlice := newPhone(t, "127.0.0.20", r.sipAddr(), other.domain, "alice")
	newPhone(t, "127.0.0.21", r.sipAddr(), other.domain, "bob").mustRegister()

	tests := []struct {
		name     string
		voice    http.HandlerFunc // nil: the voice URL is a closed port
		wantCode string           // ErrorCode given to the fallback
	}{
		{"slow", func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-time.After(3 * hookTimeout):
			case <-r.Context().Done():
			}
			writeXML(w, dialBob)
		}, "11200"},
		{"down", nil, "11205"},
		{"garbage", func(w http.ResponseWriter, r *http.Request) {
			writeXML(w, "<Response><Dial>bob</Dail></Response>")
		}, "12100"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := newTenantApp(t, tt.voice)
			voiceURL := app.URL + "/voice"
			if tt.voice == nil {
				voiceURL = closedPortURL(t)
			}
			tn := provision(t, r.base, fmt.Sprintf("app%d.test", i), url.Values{
				"VoiceUrl": {voiceURL}, "VoiceFallbackUrl": {app.URL + "/fallback"}})
			alice := newPhone(t, fmt.Sprintf("127.0.0.%d", 22+2*i), r.sipAddr(), tn.domain,
				"alice")
			newPhone(t, fmt.Sprintf("127.0.0.%d", 23+2*i), r.sipAddr(), tn.domain,
				"bob").mustRegister()
			settle(r)
			before := runtime.NumGoroutine()

			checkFallbackCalls(t, alice, otherAlice, hookTimeout)
			if got := app.errorCodes(); len(got) != 3 || got[0] != tt.wantCode {
				t.Errorf("fallback got ErrorCodes %v, want %s three times", got, tt.wantCode)
			}
			// Idle keep-alive connections are not a pile-up: drop them.
			ok := eventually(5*time.Second, func() bool {
				app.CloseClientConnections()
				good.CloseClientConnections()
				http.DefaultClient.CloseIdleConnections()

				return runtime.NumGoroutine() <= before+3
			})
			if !ok {
				t.Errorf("goroutines: %d before the calls, %d after:\n%s", before,
					runtime.NumGoroutine(), goroutineDump())
			}
		})
	}
}

// goroutineDump is the goroutine profile, grouped by stack.
func goroutineDump() string {
	var b strings.Builder
	pprof.Lookup("goroutine").WriteTo(&b, 1)

	return b.String()
}

// settle waits until the server has no live calls.
func settle(r *running) {
	eventually(5*time.Second, func() bool { return r.srv.voice.calls.ActiveCalls() == 0 })
}

// checkFallbackCalls places three calls of caller (whose application
// fails) at once, and one call of other meanwhile: caller's calls must
// be answered through the fallback within the webhook timeouts, other's
// at once.
func checkFallbackCalls(t *testing.T, caller, other *phone, hookTimeout time.Duration) {
	t.Helper()
	var wg sync.WaitGroup
	type result struct {
		code int
		err  error
		took time.Duration
	}
	results := make([]result, 3)
	for i := range results {
		wg.Go(func() {
			start := time.Now()
			code, err := caller.callAndHangUp(t.Context(), "bob")
			results[i] = result{code, err, time.Since(start)}
		})
	}
	time.Sleep(50 * time.Millisecond)
	start := time.Now()
	code, err := other.callAndHangUp(t.Context(), "bob")
	took := time.Since(start)
	if code != 200 || err != nil || took > hookTimeout/2 {
		t.Errorf("other account's call: %d %v in %s", code, err, took)
	}
	wg.Wait()
	for i, res := range results {
		if res.code != 200 || res.err != nil || res.took > 2*hookTimeout+time.Second {
			t.Errorf("call %d: %d %v after %s, want 200 through the fallback within %s",
				i, res.code, res.err, res.took.Round(time.Millisecond),
				2*hookTimeout+time.Second)
		}
	}
}
