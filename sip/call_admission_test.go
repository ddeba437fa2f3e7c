package sip

import (
	"errors"
	"testing"
	"time"

	"github.com/patchbay/patchbay/tenancy"
)

func TestAdmissionLimits(t *testing.T) {
	t0 := time.Unix(1_800_000_000, 0)
	tests := []struct {
		name   string
		lim    tenancy.Limits
		steps  []time.Duration // offsets of acquire attempts
		want   []error
		before int // slots released before the last attempt
	}{
		{"unlimited", tenancy.Limits{}, []time.Duration{0, 0, 0}, []error{nil, nil, nil}, 0},
		{"concurrency", tenancy.Limits{ConcurrentCalls: 2}, []time.Duration{0, 0, 0},
			[]error{nil, nil, errCallLimit}, 0},
		{"concurrency freed", tenancy.Limits{ConcurrentCalls: 1},
			[]time.Duration{0, 2 * time.Second}, []error{nil, nil}, 1},
		{"rate", tenancy.Limits{CallsPerSecond: 2}, []time.Duration{0, 100 * time.Millisecond,
			200 * time.Millisecond}, []error{nil, nil, errRateLimit}, 0},
		{"rate next second", tenancy.Limits{CallsPerSecond: 1}, []time.Duration{0,
			1100 * time.Millisecond}, []error{nil, nil}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newAdmission()
			for i, off := range tt.steps {
				if i == len(tt.steps)-1 {
					for range tt.before {
						a.release("AC1")
					}
				}
				err := a.acquire("AC1", &tt.lim, t0.Add(off))
				if !errors.Is(err, tt.want[i]) && err != tt.want[i] {
					t.Fatalf("attempt %d: %v, want %v", i, err, tt.want[i])
				}
			}
			if err := a.acquire("AC2", &tt.lim, t0); err != nil {
				t.Errorf("another account was limited: %v", err)
			}
		})
	}
}
