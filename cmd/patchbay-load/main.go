// Command patchbay-load drives a Patchbay server with SIP traffic for the
// hardening and soak measurements in docs/benchmarks.md. It sends only to
// the address it is given; every mode stops by itself after its duration or
// count.
//
//	patchbay-load flood  -target 127.0.0.1:5060 -rate 50000 -duration 30s
//	patchbay-load honest -target 127.0.0.1:5060 -domain d.example -user alice -password pw ...
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: patchbay-load flood|honest [flags]")
		os.Exit(2)
	}
	// sipgo reports stray retransmissions through the default logger; a
	// load tool has no use for them.
	slog.SetDefault(slog.New(slog.DiscardHandler))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	var err error
	switch os.Args[1] {
	case "flood":
		err = runFlood(ctx, os.Args[2:])
	case "honest":
		err = runHonest(ctx, os.Args[2:])
	default:
		fmt.Fprintf(os.Stderr, "patchbay-load: unknown mode %q (flood, honest)\n", os.Args[1])
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "patchbay-load:", err)
		os.Exit(1)
	}
}
