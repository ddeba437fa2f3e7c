// Package redistest runs a private redis-server for tests that need a real
// Redis: on a free loopback port, without persistence, stopped when the
// test ends. A test may stop it and start it again on the same port to
// play an outage. A missing redis-server binary fails the test, never
// skips it: the test command (.ci/test) installs it.
package redistest

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"
)

// startTimeout bounds how long a started server may take to answer PING.
const startTimeout = 5 * time.Second

// Server is one redis-server process. It is not safe for concurrent use.
type Server struct {
	t    testing.TB
	port int
	dir  string
	cmd  *exec.Cmd
}

// Start starts redis-server on a free loopback port and stops it when t
// ends.
func Start(t testing.TB) *Server {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Fatal("redis-server not found: run the test command (bash .ci/test), " +
			"which installs it, or apt-get install -y redis-server")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{t: t, port: l.Addr().(*net.TCPAddr).Port, dir: t.TempDir()}
	l.Close()
	s.Restart()
	t.Cleanup(s.Stop)

	return s
}

// URL returns the server's redis:// URL (database 0).
func (s *Server) URL() string { return fmt.Sprintf("redis://127.0.0.1:%d/0", s.port) }

// Port returns the server's TCP port.
func (s *Server) Port() int { return s.port }

// Restart starts the server (again, after Stop) on its port and waits
// until it answers PING.
func (s *Server) Restart() {
	s.t.Helper()
	s.cmd = exec.Command("redis-server", "--port", strconv.Itoa(s.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", s.dir, "--loglevel", "warning")
	if err := s.cmd.Start(); err != nil {
		s.t.Fatalf("redistest: start redis-server: %v", err)
	}
	for deadline := time.Now().Add(startTimeout); time.Now().Before(deadline); {
		if ping(s.port) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.Stop()
	s.t.Fatalf("redistest: redis-server on port %d did not answer PING within %s",
		s.port, startTimeout)
}

// Stop kills the server and waits for it to exit. It is idempotent.
func (s *Server) Stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	s.cmd.Process.Kill()
	s.cmd.Wait()
	s.cmd = nil
}

// URL returns PATCHBAY_TEST_REDIS_URL when set (the test command starts one
// server for the whole suite), else the URL of a server started for t.
func URL(t testing.TB) string {
	t.Helper()
	if u := os.Getenv("PATCHBAY_TEST_REDIS_URL"); u != "" {
		return u
	}

	return Start(t).URL()
}

// ping reports whether a Redis server answers PING on port.
func ping(port int) bool {
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
