package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/patchbay/patchbay/sip/location/redistest"
)

// outageRedisURL is rs's URL with client timeouts short enough that a
// request to a stopped server fails within the test's patience.
func outageRedisURL(rs *redistest.Server) string {
	return rs.URL() + "?dial_timeout=300ms&read_timeout=500ms&write_timeout=500ms&max_retries=0"
}

// registerWithin registers p, failing the test when no answer comes
// within d; it returns the status and the error.
func registerWithin(t *testing.T, p *phone, d time.Duration) (int, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), d)
	defer cancel()
	start := time.Now()
	code, err := p.register(ctx)
	if code == 0 {
		t.Fatalf("REGISTER: no answer within %s (%v)", time.Since(start), err)
	}

	return code, err
}

// TestSystemRedisOutage runs with the location store in Redis: while
// Redis is down REGISTERs are refused at once with a 5xx and /readyz says
// so; when Redis is back they succeed again without restarting Patchbay;
// and bindings outlive a restart of Patchbay.
func TestSystemRedisOutage(t *testing.T) {
	rs := redistest.Start(t)
	dataDir := t.TempDir()
	env := map[string]string{"PATCHBAY_REDIS_URL": outageRedisURL(rs), "PATCHBAY_DATA_DIR": dataDir}
	r := startServer(t, testConfig(t, env))
	tn := provision(t, r.base, "redis.test", nil)
	alice := newPhone(t, "127.0.0.60", r.sipAddr(), tn.domain, "alice")
	if code, err := registerWithin(t, alice, 3*time.Second); code != 200 {
		t.Fatalf("REGISTER with Redis up: %d %v", code, err)
	}

	rs.Stop()
	code, err := registerWithin(t, alice, 3*time.Second)
	if code != 500 && code != 503 {
		t.Errorf("REGISTER with Redis down: %d %v, want 500 or 503", code, err)
	}
	t.Logf("REGISTER with Redis down: %d", code)
	status, body := r.get(t, "/readyz", false)
	if status != 503 || !strings.Contains(body, `"redis"`) {
		t.Errorf("/readyz with Redis down: %d %s", status, body)
	}

	rs.Restart()
	back := eventually(5*time.Second, func() bool {
		code, _ := registerWithin(t, alice, 3*time.Second)
		return code == 200
	})
	if !back {
		t.Fatal("REGISTER still refused 5 s after Redis came back")
	}
	if status, body := r.get(t, "/readyz", false); status != 200 {
		t.Errorf("/readyz after Redis came back: %d %s", status, body)
	}

	// Restart Patchbay on the same data and Redis: alice's binding is
	// still there, so bob's call reaches her.
	r.cancel()
	waitRun(t, r, 10*time.Second)
	if err := r.srv.Close(); err != nil {
		t.Fatal(err)
	}
	r2 := startServer(t, testConfig(t, env))
	bob := newPhone(t, "127.0.0.61", r2.sipAddr(), tn.domain, "bob")
	if code, err := bob.callAndHangUp(t.Context(), "alice"); code != 200 {
		t.Errorf("call to alice after the restart: %d %v, want 200", code, err)
	}
	if alice.invites.Load() != 1 {
		t.Errorf("alice got %d INVITEs after the restart, want 1", alice.invites.Load())
	}
}
