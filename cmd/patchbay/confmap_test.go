package main

import (
	"testing"
	"time"

	"github.com/patchbay/patchbay/conf"
)

func TestConfMapping(t *testing.T) {
	g := guardConfig(conf.SIPGuard{RequestsPerSecond: 0, Burst: 5, AuthFailures: 0,
		AuthWindow: time.Minute, BanDuration: time.Hour, MaxSources: 7})
	tests := []struct {
		name      string
		got, want any
	}{
		{"guard rate 0 is off", g.RequestsPerSecond, -1.0},
		{"guard failures 0 is off", g.AuthFailures, -1},
		{"guard other fields kept", g.MaxSources, 7},
		{"guard rate kept", guardConfig(conf.SIPGuard{RequestsPerSecond: 2.5}).RequestsPerSecond,
			2.5},
		{"cache 0 is off", cacheTTL(0), time.Duration(-1)},
		{"cache kept", cacheTTL(time.Second), time.Second},
		{"redirects 0 is none", maxRedirects(0), -1},
		{"redirects kept", maxRedirects(3), 3},
		{"no retries is one attempt", outboxAttempts(0), 1},
		{"ten retries", outboxAttempts(10), 11},
		{"no nonce secret is nil", nonceSecret("") == nil, true},
		{"nonce secret kept", string(nonceSecret("shared-secret-0123")), "shared-secret-0123"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %v, want %v", tt.got, tt.want)
			}
		})
	}
}
