package main

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// redisServer is a redis-server process on a loopback port, without
// persistence, that the test may stop and start again on the same port.
type redisServer struct {
	t    *testing.T
	port int
	cmd  *exec.Cmd
}

// startRedis starts redis-server on a free port; the test fails when it
// is not installed (apt-get install redis-server).
func startRedis(t *testing.T) *redisServer {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Fatal("redis-server not found: install it (apt-get install -y redis-server)")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rs := &redisServer{t: t, port: ln.Addr().(*net.TCPAddr).Port}
	ln.Close()
	rs.start()
	t.Cleanup(rs.stop)

	return rs
}

func (rs *redisServer) url() string {
	return fmt.Sprintf("redis://127.0.0.1:%d/0?dial_timeout=300ms&read_timeout=500ms"+
		"&write_timeout=500ms&max_retries=0", rs.port)
}

// start runs redis-server and waits until it accepts connections.
func (rs *redisServer) start() {
	rs.t.Helper()
	rs.cmd = exec.Command("redis-server", "--port", fmt.Sprint(rs.port),
		"--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", rs.t.TempDir())
	if err := rs.cmd.Start(); err != nil {
		rs.t.Fatal(err)
	}
	up := eventually(5*time.Second, func() bool {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", rs.port))
		if err == nil {
			c.Close()
		}

		return err == nil
	})
	if !up {
		rs.t.Fatalf("redis-server on port %d did not come up", rs.port)
	}
}

// stop kills redis-server; it is idempotent.
func (rs *redisServer) stop() {
	if rs.cmd != nil && rs.cmd.ProcessState == nil {
		rs.cmd.Process.Kill()
		rs.cmd.Wait()
	}
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
	rs := startRedis(t)
	dataDir := t.TempDir()
	env := map[string]string{"PATCHBAY_REDIS_URL": rs.url(), "PATCHBAY_DATA_DIR": dataDir}
	r := startServer(t, testConfig(t, env))
	tn := provision(t, r.base, "redis.test", nil)
	alice := newPhone(t, "127.0.0.60", r.sipAddr(), tn.domain, "alice")
	if code, err := registerWithin(t, alice, 3*time.Second); code != 200 {
		t.Fatalf("REGISTER with Redis up: %d %v", code, err)
	}

	rs.stop()
	code, err := registerWithin(t, alice, 3*time.Second)
	if code != 500 && code != 503 {
		t.Errorf("REGISTER with Redis down: %d %v, want 500 or 503", code, err)
	}
	t.Logf("REGISTER with Redis down: %d", code)
	status, body := r.get(t, "/readyz", false)
	if status != 503 || !strings.Contains(body, `"redis"`) {
		t.Errorf("/readyz with Redis down: %d %s", status, body)
	}

	rs.start()
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
