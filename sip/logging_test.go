package sip

import (
	"bytes"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer is a bytes.Buffer safe for the concurrent writes of slog.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestLogsHoldNoSecrets: with debug logging on, neither a registration nor
// an unparseable datagram carrying credentials puts them in the logs.
func TestLogsHoldNoSecrets(t *testing.T) {
	buf := &lockedBuffer{}
	logger := slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e := newEnv(t, func(c *Config) { c.Logger = logger })
	p := e.phone("udp", "alice", "acme.test", "alice-pw")
	p.mustRegister()
	wrong := e.phone("udp", "alice", "acme.test", "wrong-pw")
	wrong.register(300)
	c, err := net.Dial("udp", e.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("REGISTER sip:acme.test SIP/2.0\r\nVia: broken\r\n" +
		"Authorization: Digest username=\"alice\", response=\"0123456789abcdef\"\r\n\r\n"))
	time.Sleep(200 * time.Millisecond)
	logs := buf.String()
	for _, secret := range []string{"response=", "0123456789abcdef", "Authorization:",
		"alice-pw", "wrong-pw"} {
		if strings.Contains(logs, secret) {
			t.Fatalf("logs contain %q", secret)
		}
	}
	if !strings.Contains(logs, "failed to parse") || !strings.Contains(logs, "[redacted]") {
		t.Fatal("the parse failure was not logged redacted; the test proves nothing")
	}
}
