package main

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestLockDataDir(t *testing.T) {
	dir := t.TempDir()
	unlock, err := lockDataDir(dir)
	if err != nil {
		t.Fatalf("first lock: %v", err)
	}
	b, err := os.ReadFile(filepath.Join(dir, lockFileName))
	if err != nil || strings.TrimSpace(string(b)) != strconv.Itoa(os.Getpid()) {
		t.Errorf("lock file holds %q (%v), want our pid", b, err)
	}

	_, err = lockDataDir(dir)
	want := "in use by another patchbay serve (pid " + strconv.Itoa(os.Getpid()) + ")"
	if !errors.Is(err, errDataDir) || !strings.Contains(err.Error(), want) {
		t.Fatalf("second lock: %v, want errDataDir with %q", err, want)
	}
	if err := unlock(); err != nil {
		t.Fatalf("unlock: %v", err)
	}
	unlock, err = lockDataDir(dir)
	if err != nil {
		t.Fatalf("lock after unlock: %v", err)
	}
	unlock()
}

func TestTwoServersOneDataDir(t *testing.T) {
	cfg := testConfig(t, nil)
	first, err := openServer(t.Context(), cfg, discardLogger(), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	_, err = openServer(t.Context(), cfg, discardLogger(), io.Discard)
	if !errors.Is(err, errDataDir) || !strings.Contains(err.Error(), "in use") {
		t.Errorf("second server on the same data folder: %v", err)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	again, err := openServer(t.Context(), cfg, discardLogger(), io.Discard)
	if err != nil {
		t.Fatalf("reopen after Close: %v", err)
	}
	again.Close()
}

func TestPidText(t *testing.T) {
	tests := map[string]string{"123\n": "123", "": "unknown", "x": "unknown"}
	for in, want := range tests {
		eq(t, pidText([]byte(in)), want)
	}
}
