package sip

import (
	"bufio"
	"net"
	"strings"
	"testing"
	"time"
)

// closedWithin reports whether the server closes c within d (a read ends
// with EOF or a reset rather than the test's own deadline).
func closedWithin(c net.Conn, d time.Duration) bool {
	c.SetReadDeadline(time.Now().Add(d))
	_, err := c.Read(make([]byte, 1))
	if err == nil {
		return false
	}
	ne, ok := err.(net.Error)

	return !ok || !ne.Timeout()
}

// TestStreamSourceLimits: a source may hold MaxConnsPerSource connections
// (the next is closed at once while the first still works), and a
// connection on which nothing arrives is closed after IdleTimeout.
func TestStreamSourceLimits(t *testing.T) {
	e := newEnv(t, func(c *Config) {
		c.MaxConnsPerSource = 2
		c.IdleTimeout = 400 * time.Millisecond
	})
	addr := e.srv.Addr("tcp").String()
	var conns []net.Conn
	for range 3 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		conns = append(conns, c)
	}
	if !closedWithin(conns[2], 300*time.Millisecond) {
		t.Fatal("a third connection from one source was not closed")
	}

	first := conns[0]
	first.Write(optionsRequest(addr, first.LocalAddr().String(), "TCP", "limits-1@test"))
	first.SetReadDeadline(time.Now().Add(2 * time.Second))
	status, err := bufio.NewReader(first).ReadString('\n')
	if err != nil || !strings.HasPrefix(status, "SIP/2.0 200") {
		t.Fatalf("first connection: %q %v", status, err)
	}

	if !closedWithin(conns[1], 2*time.Second) {
		t.Fatal("an idle connection was not closed after the idle timeout")
	}
	// The slots freed by the closes are given back.
	again, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if closedWithin(again, 200*time.Millisecond) {
		t.Fatal("a connection was refused after the source's others had closed")
	}
}
