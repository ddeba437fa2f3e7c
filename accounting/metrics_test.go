package accounting

import (
	"context"
	"errors"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func TestMetrics(t *testing.T) {
	ctx := context.Background()
	reg := prometheus.NewRegistry()
	l, _ := openTestLedger(t, Config{Registerer: reg})
	s := LegStart{SID: legSID(1), AccountSID: acctA, Direction: DirInbound}
	if err := l.OpenLeg(ctx, s); err != nil {
		t.Fatal(err)
	}
	if err := l.OpenLeg(ctx, s); !errors.Is(err, ErrDuplicateLeg) {
		t.Fatal(err)
	}
	if got := gauge(t, reg, "patchbay_accounting_open_legs", ""); got != 1 {
		t.Fatalf("open legs = %v, want 1", got)
	}
	if err := l.CloseLeg(ctx, LegEnd{SID: s.SID, Status: StatusFailed}); err != nil {
		t.Fatal(err)
	}
	if got := gauge(t, reg, "patchbay_accounting_open_legs", ""); got != 0 {
		t.Fatalf("open legs = %v, want 0", got)
	}
	// ok: heartbeat(s), open, close; rejected: the duplicate open.
	if got := gauge(t, reg, "patchbay_accounting_writes_total", "rejected"); got != 1 {
		t.Fatalf("rejected writes = %v, want 1", got)
	}
	if got := gauge(t, reg, "patchbay_accounting_writes_total", "ok"); got < 3 {
		t.Fatalf("ok writes = %v, want at least 3", got)
	}
	if _, err := Open(ctx, Config{DB: l.db, Node: "n2", Registerer: reg}); err == nil {
		t.Fatal("a second ledger registered the same metrics without error")
	}
}

// gauge returns the value of a gauge or counter with the given result label
// ("" for none).
func gauge(t *testing.T, reg *prometheus.Registry, name, result string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			match := result == ""
			for _, lp := range m.GetLabel() {
				if lp.GetName() == "result" && lp.GetValue() == result {
					match = true
				}
			}
			if !match {
				continue
			}
			if m.GetCounter() != nil {
				return m.GetCounter().GetValue()
			}

			return m.GetGauge().GetValue()
		}
	}

	return 0
}
