package redistest

import (
	"testing"
)

// TestStartStopRestart: the server answers after Start, not after Stop,
// and again after Restart on the same port.
func TestStartStopRestart(t *testing.T) {
	s := Start(t)
	if !ping(s.Port()) {
		t.Fatal("no PING answer after Start")
	}
	s.Stop()
	s.Stop() // idempotent
	if ping(s.Port()) {
		t.Fatal("PING answered after Stop")
	}
	s.Restart()
	if !ping(s.Port()) {
		t.Fatal("no PING answer after Restart")
	}
	if want := "redis://127.0.0.1:"; s.URL()[:len(want)] != want {
		t.Fatalf("URL %q", s.URL())
	}
}
