package sip

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the server's Prometheus collectors. Label values come from
// small fixed sets (methods are folded to "other" beyond the known ones), so
// cardinality stays bounded whatever peers send.
type metrics struct {
	requests      *prometheus.CounterVec // method, class
	registrations *prometheus.CounterVec // result
	authFailures  *prometheus.CounterVec // reason
	dialogs       prometheus.Gauge
	trunkAttempts *prometheus.CounterVec // result
	guardDrops    *prometheus.CounterVec // reason
	absorbed      *prometheus.CounterVec // method
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "patchbay", Subsystem: "sip", Name: "requests_total",
			Help: "SIP requests answered by the edge, by method and final response class.",
		}, []string{"method", "class"}),
		registrations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "patchbay", Subsystem: "sip", Name: "registrations_total",
			Help: "REGISTER requests by outcome (bound, removed, query, refused).",
		}, []string{"result"}),
		authFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "patchbay", Subsystem: "sip", Name: "auth_failures_total",
			Help: "Digest authentication failures by reason.",
		}, []string{"reason"}),
		dialogs: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "patchbay", Subsystem: "sip", Name: "proxy_active_dialogs",
			Help: "Dialogs established through the proxy and not yet ended by a BYE.",
		}),
		trunkAttempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "patchbay", Subsystem: "sip", Name: "trunk_attempts_total",
			Help: "Outbound INVITE attempts to trunk targets by outcome.",
		}, []string{"result"}),
		guardDrops: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "patchbay", Subsystem: "sip", Name: "guard_drops_total",
			Help: "Requests dropped or refused by the per-source guard (rate_limited, banned).",
		}, []string{"reason"}),
		absorbed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "patchbay", Subsystem: "sip", Name: "retransmissions_absorbed_total",
			Help: "Retransmitted requests answered with the cached final response " +
				"of their transaction, by method.",
		}, []string{"method"}),
	}
	for _, c := range []prometheus.Collector{
		m.requests, m.registrations, m.authFailures, m.dialogs, m.trunkAttempts, m.guardDrops,
		m.absorbed,
	} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("sip: register metrics: %w", err)
		}
	}

	return m, nil
}

// methodLabel folds methods outside RFC 3261 and its common extensions.
func methodLabel(method string) string {
	switch method {
	case "INVITE", "ACK", "BYE", "CANCEL", "REGISTER", "OPTIONS", "PRACK",
		"SUBSCRIBE", "NOTIFY", "PUBLISH", "INFO", "REFER", "MESSAGE", "UPDATE":
		return method
	}

	return "other"
}

// classLabels are the response class labels, indexed by code/100.
var classLabels = [...]string{"0xx", "1xx", "2xx", "3xx", "4xx", "5xx", "6xx"}

func classLabel(code int) string {
	if c := code / 100; c >= 1 && c <= 6 {
		return classLabels[c]
	}

	return "other"
}

func (m *metrics) answered(method string, code int) {
	m.requests.WithLabelValues(methodLabel(method), classLabel(code)).Inc()
}
