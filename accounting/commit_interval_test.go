package accounting

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// TestCommitIntervalGroupsWrites: a write after a quiet spell commits at
// once; writes arriving within CommitInterval of it share the next commit,
// and every one of them is durable when it returns.
func TestCommitIntervalGroupsWrites(t *testing.T) {
	ctx := context.Background()
	reg := prometheus.NewRegistry()
	l, _ := openTestLedger(t, Config{Registerer: reg, CommitInterval: time.Second,
		HeartbeatInterval: time.Hour})
	before := gauge(t, reg, "patchbay_accounting_batches_total", "")
	if err := l.OpenLeg(ctx, LegStart{SID: legSID(0), AccountSID: acctA,
		Direction: DirInbound}); err != nil {
		t.Fatal(err)
	}
	const n = 20
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			errs[i] = l.OpenLeg(ctx, LegStart{SID: legSID(i + 1), AccountSID: acctA,
				Direction: DirInbound})
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
	}
	for i := range n + 1 {
		mustCDR(t, l, legSID(i))
	}
	// The first write, then one commit for the writes that waited (two
	// if the scheduler held some back for a whole second).
	if got := gauge(t, reg, "patchbay_accounting_batches_total", "") - before; got < 2 || got > 3 {
		t.Fatalf("%v commits for %d writes, want 2 (or 3)", got, n+1)
	}
}
