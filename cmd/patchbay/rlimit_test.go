package main

import (
	"bytes"
	"log/slog"
	"strings"
	"syscall"
	"testing"
)

// TestRaiseFileLimit: the soft limit ends at least at the need when the
// process may raise it, and a limit that cannot be raised is reported with
// the number needed. The limit is restored afterwards.
func TestRaiseFileLimit(t *testing.T) {
	var orig syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &orig); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Setrlimit(syscall.RLIMIT_NOFILE, &orig) })

	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	ports := int(orig.Cur) + 1000 // more than the current soft limit allows
	raiseFileLimit(ports, log)

	var now syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &now); err != nil {
		t.Fatal(err)
	}
	need := uint64(ports + fileMargin)
	switch {
	case now.Cur >= need:
		if !strings.Contains(logs.String(), "raised") {
			t.Fatalf("limit raised without saying so: %q", logs.String())
		}
	case !strings.Contains(logs.String(), "needed"):
		t.Fatalf("limit %d below the need %d and not reported: %q", now.Cur, need, logs.String())
	}

	logs.Reset()
	raiseFileLimit(0, log)
	if now.Cur >= need && logs.Len() != 0 {
		t.Fatalf("a sufficient limit was logged about: %q", logs.String())
	}
}
