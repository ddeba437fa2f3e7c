package sip

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestHandlerPoolRunsAndWaits(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	p := newHandlerPool(ctx, 4)
	var ran atomic.Int32
	for range 100 {
		p.run(func() { ran.Add(1) })
	}
	if got := ran.Load(); got != 100 {
		t.Fatalf("ran %d handlers, want 100", got)
	}
	// Sequential handlers reuse the goroutine the first one started.
	if got := p.started.Load(); got != 1 {
		t.Fatalf("%d goroutines started for sequential handlers, want 1", got)
	}
}

func TestHandlerPoolRunsInlineWhenExhausted(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	p := newHandlerPool(ctx, 2)
	release := occupy(p, 2)
	// Both pooled goroutines are busy: the third handler runs here.
	done := false
	p.run(func() { done = true })
	if !done {
		t.Fatal("handler did not run while the pool was exhausted")
	}
	release()
}

// occupy runs n handlers that block, waits until the pool has started a
// goroutine for each, and returns a function that lets them all return.
func occupy(p *handlerPool, n int32) (release func()) {
	unblock := make(chan struct{})
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() { p.run(func() { <-unblock }) })
	}
	for p.started.Load() < n {
		time.Sleep(time.Millisecond)
	}

	return func() {
		close(unblock)
		wg.Wait()
	}
}

func TestHandlerPoolEndsWithContext(t *testing.T) {
	before := runtime.NumGoroutine()
	ctx, cancel := context.WithCancel(t.Context())
	p := newHandlerPool(ctx, 8)
	occupy(p, 8)()
	cancel()
	deadline := time.Now().Add(5 * time.Second)
	for p.started.Load() != 0 || runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			t.Fatalf("%d pooled goroutines left after cancel (%d goroutines, %d before)",
				p.started.Load(), runtime.NumGoroutine(), before)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
