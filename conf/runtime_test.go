package conf

import (
	"runtime/debug"
	"testing"
)

func TestApplyGCPercent(t *testing.T) {
	old := debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetGCPercent(old) })

	if got := ApplyGCPercent([]string{"PATH=/bin"}); got != GCPercent {
		t.Fatalf("without GOGC: target %d, want %d", got, GCPercent)
	}
	if got := debug.SetGCPercent(GCPercent); got != GCPercent {
		t.Fatalf("without GOGC: runtime target %d, want %d", got, GCPercent)
	}

	// With GOGC in the environment the runtime's own setting stands.
	debug.SetGCPercent(150)
	if got := ApplyGCPercent([]string{"GOGC=150"}); got != 150 {
		t.Fatalf("with GOGC=150: target %d, want 150", got)
	}
	if got := debug.SetGCPercent(150); got != 150 {
		t.Fatalf("with GOGC=150: runtime target %d, want 150", got)
	}
}
