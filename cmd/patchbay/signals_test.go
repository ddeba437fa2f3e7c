package main

import (
	"context"
	"os"
	"syscall"
	"testing"
	"time"
)

// TestWatchSignals sends real signals to the test process while
// watchSignals holds them, so they never reach the default handler.
func TestWatchSignals(t *testing.T) {
	tests := []struct {
		name     string
		signals  []syscall.Signal
		wantHard bool
	}{
		{"SIGTERM drains", []syscall.Signal{syscall.SIGTERM}, false},
		{"SIGINT stops", []syscall.Signal{syscall.SIGINT}, true},
		{"second SIGTERM stops", []syscall.Signal{syscall.SIGTERM, syscall.SIGTERM}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, hard, stop := watchSignals(context.Background(), discardLogger())
			defer stop()
			for _, sig := range tt.signals {
				if err := syscall.Kill(os.Getpid(), sig); err != nil {
					t.Fatal(err)
				}
				select {
				case <-ctx.Done():
				case <-time.After(5 * time.Second):
					t.Fatalf("context not done after %v", sig)
				}
			}
			// A hard stop may take a while to arrive on a loaded machine;
			// its absence is checked over a shorter wait.
			wait := 200 * time.Millisecond
			if tt.wantHard {
				wait = 5 * time.Second
			}
			select {
			case <-hard:
				if !tt.wantHard {
					t.Error("hard stop after a single SIGTERM")
				}
			case <-time.After(wait):
				if tt.wantHard {
					t.Error("no hard stop")
				}
			}
		})
	}
}

func TestWatchSignalsParentCancel(t *testing.T) {
	parent, cancel := context.WithCancel(context.Background())
	ctx, hard, stop := watchSignals(parent, discardLogger())
	defer stop()
	cancel()
	select {
	case <-ctx.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("context not done after the parent ended")
	}
	select {
	case <-hard:
		t.Error("hard stop without a signal")
	default:
	}
}
