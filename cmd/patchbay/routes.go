package main

import (
	"context"
	"encoding/json"
	"net/http"
	"time"
)

// readyTimeout bounds all readiness checks of one /readyz request.
const readyTimeout = 2 * time.Second

// routes builds the API listener's handler: health, readiness and metrics
// for the operator's monitoring, and the REST API under everything else.
// Components add their own top-level handlers here; resources under an
// account are mounted on s.api with HandleAccount when the component opens.
func (s *server) routes() http.Handler {
	m := newHTTPMetrics(s.registry)
	mux := http.NewServeMux()
	mux.Handle("GET /healthz", m.instrument("healthz", http.HandlerFunc(s.healthz)))
	mux.Handle("GET /readyz", m.instrument("readyz", http.HandlerFunc(s.readyz)))
	mux.Handle("GET /metrics", m.instrument("metrics", metricsHandler(s.registry)))

	mux.Handle("/", m.instrument("api", s.api))

	return mux
}

// healthz answers 200 while the process serves HTTP at all (liveness).
func (s *server) healthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readyz answers 200 when every component's check passes and the server
// is not draining, else 503 naming what is not ready (readiness).
func (s *server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
	defer cancel()
	failed := map[string]string{}
	if s.draining.Load() {
		failed["server"] = "draining"
	}
	for _, c := range s.checks {
		if err := c.check(ctx); err != nil {
			s.log.Warn("readiness check failed", "check", c.name, "error", err)
			failed[c.name] = "not ready"
		}
	}
	if len(failed) > 0 {
		writeJSON(w, http.StatusServiceUnavailable,
			map[string]any{"status": "not ready", "failed": failed})

		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(body)
}
