package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkOpenClose measures a server start and stop on an existing data
// folder: database open and migration check, token read, listener bind.
func BenchmarkOpenClose(b *testing.B) {
	b.ReportAllocs()
	cfg := benchConfig(b)
	for b.Loop() {
		s, err := openServer(b.Context(), cfg, discardLogger(), io.Discard)
		if err != nil {
			b.Fatal(err)
		}
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkProbes measures the health, readiness and metrics handlers.
func BenchmarkProbes(b *testing.B) {
	s, err := openServer(b.Context(), benchConfig(b), discardLogger(), io.Discard)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	h := s.http.Handler
	for _, path := range []string{"/healthz", "/readyz", "/metrics"} {
		b.Run(path[1:], func(b *testing.B) {
			b.ReportAllocs()
			req := httptest.NewRequest(http.MethodGet, path, nil)
			for b.Loop() {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				if w.Code != http.StatusOK {
					b.Fatalf("GET %s = %d", path, w.Code)
				}
			}
		})
	}
}
