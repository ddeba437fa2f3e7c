package main

import (
	"net/http"
	"runtime"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// newRegistry creates the process's metrics registry with the Go runtime,
// process and build information collectors. It is never the global
// default registry; components receive it as a prometheus.Registerer.
func newRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	build := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "patchbay_build_info",
		Help: "Always 1; labels carry the version and Go version of the binary.",
	}, []string{"version", "go_version"})
	build.WithLabelValues(version, runtime.Version()).Set(1)
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		build,
	)

	return reg
}

// httpMetrics counts and times requests per handler, method and status.
type httpMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newHTTPMetrics(reg prometheus.Registerer) *httpMetrics {
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "patchbay_http_requests_total",
			Help: "HTTP requests served on the API listener, by handler, method and code.",
		}, []string{"handler", "method", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "patchbay_http_request_duration_seconds",
			Help:    "Time to serve an HTTP request on the API listener, by handler.",
			Buckets: prometheus.DefBuckets,
		}, []string{"handler", "method"}),
	}
	reg.MustRegister(m.requests, m.duration)

	return m
}

// instrument wraps h so that its requests are counted and timed under the
// handler label name.
func (m *httpMetrics) instrument(name string, h http.Handler) http.Handler {
	labels := prometheus.Labels{"handler": name}
	h = promhttp.InstrumentHandlerCounter(m.requests.MustCurryWith(labels), h)

	return promhttp.InstrumentHandlerDuration(m.duration.MustCurryWith(labels), h)
}

// metricsHandler serves the registry in the Prometheus exposition format.
func metricsHandler(reg *prometheus.Registry) http.Handler {
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg})
}
