package accounting

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the ledger's Prometheus collectors.
type metrics struct {
	writes    *prometheus.CounterVec // by result: ok, rejected, failed
	batches   prometheus.Counter
	batchSize prometheus.Histogram
	commit    prometheus.Histogram
	retries   prometheus.Counter
	recovered prometheus.Counter
	openLegs  prometheus.GaugeFunc
}

// newMetrics creates the collectors and registers them on reg; a nil reg
// gets a private registry, so the ledger always counts.
func newMetrics(reg prometheus.Registerer, openLegs func() float64) (*metrics, error) {
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	m := &metrics{
		writes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "patchbay_accounting_writes_total",
			Help: "Ledger writes by result: ok, rejected (invalid or duplicate), failed.",
		}, []string{"result"}),
		batches: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "patchbay_accounting_batches_total",
			Help: "Transactions committed by the ledger's writer.",
		}),
		batchSize: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "patchbay_accounting_batch_writes",
			Help:    "Writes per committed batch.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 10),
		}),
		commit: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "patchbay_accounting_commit_seconds",
			Help:    "Time to apply and commit one batch, fsync included.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}),
		retries: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "patchbay_accounting_batch_retries_total",
			Help: "Batches retried because the database was locked.",
		}),
		recovered: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "patchbay_accounting_recovered_legs_total",
			Help: "Legs closed at start-up after a crash of this node.",
		}),
		openLegs: prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "patchbay_accounting_open_legs",
			Help: "Legs this node has opened and not yet closed.",
		}, openLegs),
	}
	for _, c := range []prometheus.Collector{m.writes, m.batches, m.batchSize, m.commit,
		m.retries, m.recovered, m.openLegs} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("accounting: metrics: %w", err)
		}
	}

	return m, nil
}

// countWrite counts one write's outcome.
func (m *metrics) countWrite(err error) {
	switch {
	case err == nil:
		m.writes.WithLabelValues("ok").Inc()
	case errors.Is(err, ErrInvalid) || errors.Is(err, ErrDuplicateLeg) ||
		errors.Is(err, ErrLegClosed) || errors.Is(err, ErrUnknownLeg):
		m.writes.WithLabelValues("rejected").Inc()
	default:
		m.writes.WithLabelValues("failed").Inc()
	}
}
