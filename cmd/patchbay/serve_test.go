package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/patchbay/patchbay/conf"
)

// testToken is the admin token of in-process test servers.
const testToken = "test-admin-token-0123456789"

// testConfig returns settings for a server on free 127.0.0.1 ports with its
// data in a fresh temporary folder; env entries override.
func testConfig(t testing.TB, env map[string]string) *conf.Config {
	t.Helper()
	vars := map[string]string{
		"PATCHBAY_DATA_DIR":            t.TempDir(),
		"PATCHBAY_API_LISTEN":          "127.0.0.1:0",
		"PATCHBAY_SIP_LISTEN":          "127.0.0.1:0",
		"PATCHBAY_ADMIN_TOKEN":         testToken,
		"PATCHBAY_CALLS_DRAIN_TIMEOUT": "5s",
	}
	for k, v := range env {
		vars[k] = v
	}
	cfg, err := conf.Parse(nil, func(k string) (string, bool) { v, ok := vars[k]; return v, ok })
	if err != nil {
		t.Fatalf("test config: %v", err)
	}

	return cfg
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// running is an in-process server serving in the background.
type running struct {
	srv    *server
	base   string // http://127.0.0.1:port
	cancel context.CancelFunc
	hard   chan struct{}
	done   chan error // receives Run's result
}

// startServer opens and runs a server; Cleanup stops and closes it.
func startServer(t *testing.T, cfg *conf.Config) *running {
	t.Helper()
	s, err := openServer(t.Context(), cfg, discardLogger(), io.Discard)
	if err != nil {
		t.Fatalf("openServer: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{srv: s, base: "http://" + s.apiAddr().String(), cancel: cancel,
		hard: make(chan struct{}), done: make(chan error, 1)}
	go func() { r.done <- s.Run(ctx, r.hard) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-r.done:
		case <-time.After(10 * time.Second):
			t.Error("server did not stop")
		}
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})

	return r
}

// get fetches path with the admin credentials when auth is set.
func (r *running) get(t *testing.T, path string, auth bool) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, r.base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if auth {
		req.SetBasicAuth("admin", testToken)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: read body: %v", path, err)
	}

	return resp.StatusCode, string(body)
}

func TestServeEndpoints(t *testing.T) {
	r := startServer(t, testConfig(t, nil))
	tests := []struct {
		name, path string
		auth       bool
		wantStatus int
		wantBody   []string
	}{
		{"healthz", "/healthz", false, 200, []string{`"status":"ok"`}},
		{"readyz", "/readyz", false, 200, []string{`"status":"ready"`}},
		{"api without credentials", "/2010-04-01/Accounts.json", false, 401, nil},
		{"api as operator", "/2010-04-01/Accounts.json", true, 200, []string{"accounts"}},
		{"metrics", "/metrics", false, 200, []string{
			`patchbay_build_info{go_version="go`, "go_goroutines",
			`patchbay_http_requests_total{code="200",handler="healthz",method="get"} 1`,
			`patchbay_http_requests_total{code="401",handler="api",method="get"} 1`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := r.get(t, tt.path, tt.auth)
			if status != tt.wantStatus {
				t.Errorf("GET %s = %d, want %d; body %s", tt.path, status, tt.wantStatus, body)
			}
			for _, want := range tt.wantBody {
				if !strings.Contains(body, want) {
					t.Errorf("GET %s body lacks %q:\n%s", tt.path, want, body)
				}
			}
		})
	}
}

func TestServeDrain(t *testing.T) {
	tests := []struct {
		name     string
		drain    string
		release  bool // let the slow request finish during the drain
		hard     bool // close hard during the drain
		wantCode int  // status the slow request sees; 0: its connection is cut
	}{
		{name: "request finishes", drain: "10s", release: true, wantCode: http.StatusOK},
		{name: "deadline cuts", drain: "200ms"},
		{name: "hard stop", drain: "1m", hard: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig(t, map[string]string{"PATCHBAY_CALLS_DRAIN_TIMEOUT": tt.drain})
			r, entered, release := startSlowServer(t, cfg)
			code := make(chan int, 1)
			go func() { code <- slowGet(r.base) }()
			<-entered

			r.cancel()
			select {
			case err := <-r.done:
				t.Fatalf("Run returned %v with a request in flight", err)
			case <-time.After(100 * time.Millisecond):
			}
			waitDraining(t, r.srv)
			switch {
			case tt.release:
				close(release)
			case tt.hard:
				close(r.hard)
			}
			select {
			case err := <-r.done:
				if err != nil {
					t.Errorf("Run: %v", err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("Run did not return after the drain")
			}
			if got := <-code; got != tt.wantCode {
				t.Errorf("slow request got %d, want %d", got, tt.wantCode)
			}
			if !tt.release {
				close(release)
			}
		})
	}
}

// startSlowServer runs a server whose handler also serves /slow, which
// signals entered and blocks until release is closed.
func startSlowServer(t *testing.T, cfg *conf.Config) (*running, chan struct{}, chan struct{}) {
	t.Helper()
	entered, release := make(chan struct{}), make(chan struct{})
	s, err := openServer(t.Context(), cfg, discardLogger(), io.Discard)
	if err != nil {
		t.Fatalf("openServer: %v", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/", s.http.Handler)
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
	})
	s.http.Handler = mux
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{srv: s, base: "http://" + s.apiAddr().String(), cancel: cancel,
		hard: make(chan struct{}), done: make(chan error, 1)}
	go func() { r.done <- s.Run(ctx, r.hard) }()
	t.Cleanup(func() {
		cancel()
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})

	return r, entered, release
}

// slowGet returns the status of GET /slow, or 0 when the request fails.
func slowGet(base string) int {
	resp, err := http.Get(base + "/slow")
	if err != nil {
		return 0
	}
	resp.Body.Close()

	return resp.StatusCode
}

func TestReadyzWhileDraining(t *testing.T) {
	r := startServer(t, testConfig(t, nil))
	r.srv.draining.Store(true)
	status, body := r.get(t, "/readyz", false)
	if status != http.StatusServiceUnavailable || !strings.Contains(body, `"server":"draining"`) {
		t.Errorf("GET /readyz while draining = %d %s", status, body)
	}
	r.srv.draining.Store(false)
	if err := r.srv.db.Close(); err != nil {
		t.Fatal(err)
	}
	status, body = r.get(t, "/readyz", false)
	if status != http.StatusServiceUnavailable || !strings.Contains(body, `"database"`) {
		t.Errorf("GET /readyz with the database closed = %d %s", status, body)
	}
}

func TestOpenServerErrors(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { busy.Close() })
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		env     map[string]string
		wantErr error
		wantMsg string
	}{
		{"port in use", map[string]string{"PATCHBAY_API_LISTEN": busy.Addr().String()},
			errListen, "address already in use"},
		{"data dir under a file", map[string]string{"PATCHBAY_DATA_DIR": filepath.Join(file, "d")},
			errDataDir, "not a directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := openServer(t.Context(), testConfig(t, tt.env), discardLogger(), io.Discard)
			if err == nil {
				s.Close()
				t.Fatal("openServer succeeded")
			}
			if !errors.Is(err, tt.wantErr) || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("openServer error %q, want %v containing %q", err, tt.wantErr, tt.wantMsg)
			}
		})
	}
}

func TestCloseIdempotent(t *testing.T) {
	s, err := openServer(t.Context(), testConfig(t, nil), discardLogger(), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	addr := s.apiAddr().String()
	for i := range 2 {
		if err := s.Close(); err != nil {
			t.Errorf("Close #%d: %v", i+1, err)
		}
	}
	if err := s.db.Ping(); err == nil {
		t.Error("database still open after Close")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Errorf("API port still bound after Close: %v", err)
	} else {
		ln.Close()
	}
}

func TestServeDrainers(t *testing.T) {
	tests := []struct {
		name    string
		drain   string
		work    time.Duration // how long the component's work in progress lasts
		wantErr error         // what the drainer's ctx reports afterwards
	}{
		{"work ends in time", "5s", 50 * time.Millisecond, nil},
		{"deadline ends the wait", "150ms", time.Minute, context.DeadlineExceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig(t, map[string]string{"PATCHBAY_CALLS_DRAIN_TIMEOUT": tt.drain})
			s, err := openServer(t.Context(), cfg, discardLogger(), io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			ctxErr := make(chan error, 1)
			s.onDrain("calls", func(ctx context.Context) error {
				select {
				case <-time.After(tt.work):
				case <-ctx.Done():
				}
				ctxErr <- ctx.Err()

				return ctx.Err()
			})
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- s.Run(ctx, nil) }()
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run: %v", err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("Run did not return")
			}
			if got := <-ctxErr; !errors.Is(got, tt.wantErr) || (tt.wantErr == nil) != (got == nil) {
				t.Errorf("drainer's ctx ended with %v, want %v", got, tt.wantErr)
			}
		})
	}
}

func benchConfig(b *testing.B) *conf.Config { return testConfig(b, nil) }

// waitDraining fails the test unless s starts draining within 5s.
func waitDraining(t *testing.T, s *server) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		if s.draining.Load() {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Error("server not marked draining")
}
