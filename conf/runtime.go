package conf

import (
	"runtime/debug"
	"strings"
)

// GCPercent is the Go garbage collector's target that a Patchbay server
// runs with unless the GOGC environment variable says otherwise: the heap
// may grow to five times what is live before a collection. Signalling
// allocates a lot of short-lived memory per message and keeps little, so
// the default of 100 spent a fifth of a proxied call's CPU time in the
// collector; at 400 it is about a twentieth, and 100,000 registered
// devices still stay under 150 MiB resident (docs/benchmarks.md). Set
// GOMEMLIMIT as well to bound the heap on a small host.
const GCPercent = 400

// ApplyGCPercent sets the collector's target to GCPercent unless environ
// (KEY=value strings) sets GOGC, which the Go runtime has already applied.
// It reports the target in effect.
func ApplyGCPercent(environ []string) int {
	for _, kv := range environ {
		if strings.HasPrefix(kv, "GOGC=") {
			percent := debug.SetGCPercent(-1)
			debug.SetGCPercent(percent)

			return percent
		}
	}
	debug.SetGCPercent(GCPercent)

	return GCPercent
}
