package sip

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// metricValue reads a counter or gauge.
func metricValue(t *testing.T, m prometheus.Metric) float64 {
	t.Helper()
	var out dto.Metric
	if err := m.Write(&out); err != nil {
		t.Fatal(err)
	}
	if out.Counter != nil {
		return out.Counter.GetValue()
	}

	return out.Gauge.GetValue()
}

func TestLabels(t *testing.T) {
	cases := []struct {
		method, wantMethod string
		code               int
		wantClass          string
	}{
		{"INVITE", "INVITE", 180, "1xx"},
		{"REGISTER", "REGISTER", 200, "2xx"},
		{"FOO", "other", 404, "4xx"},
		{"BYE", "BYE", 999, "other"},
		{"ACK", "ACK", 0, "other"},
	}
	for _, tc := range cases {
		t.Run(tc.method, func(t *testing.T) {
			if got := methodLabel(tc.method); got != tc.wantMethod {
				t.Fatalf("method %q", got)
			}
			if got := classLabel(tc.code); got != tc.wantClass {
				t.Fatalf("class %q", got)
			}
		})
	}
}

func TestMetricsRegisterTwice(t *testing.T) {
	reg := prometheus.NewRegistry()
	if _, err := newMetrics(reg); err != nil {
		t.Fatal(err)
	}
	if _, err := newMetrics(reg); err == nil {
		t.Fatal("second registration on one registry succeeded")
	}
}
