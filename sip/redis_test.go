package sip

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	sipmsg "github.com/emiago/sipgo/sip"

	"github.com/patchbay/patchbay/sip/location"
)

// redisURL starts a private redis-server on a free loopback port (or uses
// PATCHBAY_TEST_REDIS_URL) and returns its URL; the test fails when
// redis-server is not installed (the test command installs it).
func redisURL(t *testing.T) string {
	t.Helper()
	if u := os.Getenv("PATCHBAY_TEST_REDIS_URL"); u != "" {
		return u
	}
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Fatal("redis-server not installed: run the test command, bash .ci/test, which installs it")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.Command("redis-server", "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--loglevel", "warning")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		if c, err := net.Dial("tcp", l.Addr().String()); err == nil {
			c.Close()
			return fmt.Sprintf("redis://127.0.0.1:%d/0", port)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("redis-server did not start")
	return ""
}

// TestRedisLocation: registration, limits and a proxied call with the
// Redis location store against a real redis-server.
func TestRedisLocation(t *testing.T) {
	url := redisURL(t)
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	prefix := "pb-sip-test:" + strconv.FormatInt(time.Now().UnixNano(), 36) + ":"
	loc, err := location.NewRedis(ctx, url, prefix)
	if err != nil {
		t.Fatal(err)
	}
	e := newEnvStore(t, loc)
	e.dir.setLimit(acctA, 2)
	alice := e.phone("udp", "alice", "acme.test", "alice-pw")
	bob := e.phone("tcp", "bob", "acme.test", "bob-pw")
	alice.mustRegister()
	bob.mustRegister()
	carol := e.phone("udp", "carol", "acme.test", "carol-pw")
	if res := carol.register(300); res.StatusCode != 403 {
		t.Fatalf("third device over a limit of 2: %d", res.StatusCode)
	}
	bs, err := e.srv.Contacts(t.Context(), "bob@acme.test")
	if err != nil || len(bs) != 1 || bs[0].Transport != "tcp" || !bs[0].Received.IsValid() {
		t.Fatalf("bob's binding from redis: %+v %v", bs, err)
	}
	inv, tx := alice.invite("bob", "acme.test")
	res := alice.final(tx)
	if res == nil || res.StatusCode != 200 {
		t.Fatalf("call: %v", res)
	}
	alice.ack(inv, res)
	bob.waitFor(sipmsg.ACK, 2*time.Second)
}
