package location

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

// redisServer is a redis-server process started by a test.
type redisServer struct {
	t    testing.TB
	port int
	cmd  *exec.Cmd
}

// startRedis starts redis-server on a free loopback port without
// persistence and stops it in Cleanup. A missing binary fails the test.
func startRedis(t testing.TB) *redisServer {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Fatal("redis-server not found: install it (apt-get install -y redis-server) " +
			"and run: go test -race ./sip/location/")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	r := &redisServer{t: t, port: port}
	r.start()
	t.Cleanup(r.stop)

	return r
}

func (r *redisServer) url() string { return fmt.Sprintf("redis://127.0.0.1:%d/0", r.port) }

func (r *redisServer) start() {
	r.t.Helper()
	r.cmd = exec.Command("redis-server", "--port", strconv.Itoa(r.port),
		"--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--loglevel", "warning")
	if err := r.cmd.Start(); err != nil {
		r.t.Fatalf("start redis-server: %v", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if pingRedis(r.port) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	r.stop()
	r.t.Fatalf("redis-server on port %d did not answer PING within 5s", r.port)
}

func (r *redisServer) stop() {
	if r.cmd == nil || r.cmd.Process == nil {
		return
	}
	r.cmd.Process.Kill()
	r.cmd.Wait()
	r.cmd = nil
}

func pingRedis(port int) bool {
	c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 200*time.Millisecond)
	if err != nil {
		return false
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return false
	}
	line, err := bufio.NewReader(c).ReadString('\n')

	return err == nil && line == "+PONG\r\n"
}

// testRedisURL returns PATCHBAY_TEST_REDIS_URL or the URL of a server
// started for t.
func testRedisURL(t testing.TB) string {
	t.Helper()
	if u := os.Getenv("PATCHBAY_TEST_REDIS_URL"); u != "" {
		return u
	}

	return startRedis(t).url()
}

// prefixSeq makes each store's keys distinct on a shared server.
var prefixSeq atomic.Int64

func newTestRedis(t testing.TB, url string) *Redis {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	prefix := fmt.Sprintf("patchbay-test:%d:%d:", time.Now().UnixNano(), prefixSeq.Add(1))
	r, err := NewRedis(ctx, url, prefix)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })

	return r
}

func TestRedisContract(t *testing.T) {
	url := testRedisURL(t)
	runContract(t, contractEnv{
		unit: 250 * time.Millisecond,
		newStore: func(t *testing.T) (Store, testClock) {
			return newTestRedis(t, url), realClock{}
		},
	})
}

func TestRedisBadURL(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := NewRedis(ctx, "http://nope", "p:"); err == nil {
		t.Error("NewRedis accepted an http URL")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	start := time.Now()
	_, err = NewRedis(ctx, "redis://"+addr, "p:")
	if !errors.Is(err, ErrUnavailable) {
		t.Errorf("NewRedis to a closed port: %v, want ErrUnavailable", err)
	}
	if d := time.Since(start); d > 4*time.Second {
		t.Errorf("NewRedis to a closed port took %v", d)
	}
}

// TestRedisRestart stops the server under a live Store: calls fail fast
// with ErrUnavailable, then work again once the server is back.
func TestRedisRestart(t *testing.T) {
	srv := startRedis(t)
	r := newTestRedis(t, srv.url())
	u := Update{AOR: alice, AccountSID: acct, CallID: "c1", CSeq: 1,
		Set: []Binding{{Contact: "sip:a@192.0.2.1", Expires: time.Now().Add(time.Minute)}}}
	ctx := context.Background()
	if _, err := r.Apply(ctx, u); err != nil {
		t.Fatal(err)
	}

	srv.stop()
	for _, op := range []struct {
		name string
		call func(ctx context.Context) error
	}{
		{"apply", func(ctx context.Context) error { _, err := r.Apply(ctx, u); return err }},
		{"lookup", func(ctx context.Context) error { _, err := r.Lookup(ctx, alice); return err }},
		{"count", func(ctx context.Context) error {
			_, err := r.CountAccount(ctx, acct)
			return err
		}},
	} {
		ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		start := time.Now()
		err := op.call(ctx)
		cancel()
		if !errors.Is(err, ErrUnavailable) {
			t.Errorf("%s with the server down: %v, want ErrUnavailable", op.name, err)
		}
		if d := time.Since(start); d > 3500*time.Millisecond {
			t.Errorf("%s with the server down took %v", op.name, d)
		}
	}

	srv.start()
	var err error
	for range 20 {
		u.CSeq++
		if _, err = r.Apply(ctx, u); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("Apply after the restart: %v", err)
	}
	got, err := r.Lookup(ctx, alice)
	if err != nil || len(got) != 1 {
		t.Fatalf("Lookup after the restart: %v, %v", got, err)
	}
}
