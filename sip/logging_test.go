package sip

import (
	"bytes"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	sipmsg "github.com/emiago/sipgo/sip"
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

// TestLogRequestFields: a request's log record carries its Call-ID,
// method and source ahead of the caller's fields, and nothing is written
// below the logger's level.
func TestLogRequestFields(t *testing.T) {
	buf := &lockedBuffer{}
	s := &Server{log: slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelInfo}))}
	req := sipmsg.NewRequest(sipmsg.BYE, sipmsg.Uri{Scheme: "sip", User: "bob", Host: "acme.test"})
	req.AppendHeader(sipmsg.NewHeader("Call-ID", "c-123@host"))
	r := &request{req: req, source: netip.MustParseAddrPort("192.0.2.7:5060")}

	s.logRequest(r, slog.LevelDebug, "not wanted", "k", "v")
	if buf.String() != "" {
		t.Fatalf("debug record written at info level: %q", buf.String())
	}
	s.logRequest(r, slog.LevelInfo, "call ended", "status", 200)
	got := buf.String()
	for _, want := range []string{"msg=\"call ended\"", "call_id=c-123@host", "method=BYE",
		"source=192.0.2.7:5060", "status=200"} {
		if !strings.Contains(got, want) {
			t.Errorf("record %q lacks %s", got, want)
		}
	}
	if strings.Index(got, "call_id=") > strings.Index(got, "status=") {
		t.Errorf("caller's fields come before the request's: %q", got)
	}
}
