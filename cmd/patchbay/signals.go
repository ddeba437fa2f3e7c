package main

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"syscall"
)

// watchSignals returns a context that ends on the first SIGTERM or SIGINT
// (or when parent ends) and a hard channel closed on SIGINT or on any
// second signal: SIGTERM drains, SIGINT stops at once. stop releases the
// signals.
func watchSignals(parent context.Context, log *slog.Logger) (
	ctx context.Context, hard <-chan struct{}, stop func()) {
	ctx, cancel := context.WithCancel(parent)
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	hardCh := make(chan struct{})
	var closeHard sync.Once
	done := make(chan struct{})

	go func() {
		for seen := 0; ; seen++ {
			select {
			case sig := <-sigs:
				log.Info("signal received", "signal", sig.String())
				if sig == syscall.SIGINT || seen > 0 {
					closeHard.Do(func() { close(hardCh) })
				}
				cancel()
			case <-done:
				return
			}
		}
	}()

	return ctx, hardCh, func() {
		signal.Stop(sigs)
		close(done)
		cancel()
	}
}
