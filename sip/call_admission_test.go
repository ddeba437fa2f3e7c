package sip

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/patchbay/patchbay/accounting"
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

// spendSink is a CDRSink whose spend check fails: the ledger's real check
// needs rated calls and a price plan, which this table does not set up.
type spendSink struct{ CDRSink }

func (spendSink) CheckSpend(context.Context, string) error { return errors.New("cap reached") }

func (spendSink) Ready() error { return nil }

func (spendSink) MeterAsync(string, accounting.Category, int64, int64) error { return nil }

// stalledSink is a CDRSink that cannot write, as the ledger is while its
// database is locked or full.
type stalledSink struct{ spendSink }

func (stalledSink) Ready() error { return errors.New("database is locked") }

func TestAdmitCallRefusals(t *testing.T) {
	e := newCCEnv(t)
	ctx := t.Context()
	suspended, _ := e.store.CreateAccount(ctx, "", "suspended")
	st := tenancy.StatusSuspended
	suspended, _ = e.store.UpdateAccount(ctx, suspended.SID, tenancy.AccountUpdate{Status: &st})
	noCalls, _ := e.store.CreateAccount(ctx, "", "no calls")
	e.store.SetService(ctx, noCalls.SID, tenancy.ServiceCalls, func(s *tenancy.Service) error {
		s.Enabled = false

		return nil
	})
	tests := []struct {
		name string
		acct *tenancy.Account
		cfg  CallControlConfig
		want *StatusError
	}{
		{"admitted", e.acct, CallControlConfig{}, nil},
		{"suspended", suspended, CallControlConfig{}, errAccountSuspended},
		{"calls service off", noCalls, CallControlConfig{}, errServiceDisabled},
		{"spend cap", e.acct, CallControlConfig{Ledger: spendSink{}}, errSpendCap},
		{"accounting cannot write", e.acct, CallControlConfig{Ledger: stalledSink{}},
			errNoBilling},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.Directory = e.store
			cc := &CallControl{cfg: tt.cfg, adm: newAdmission()}
			err := cc.admitCall(ctx, tt.acct)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}

				return
			}
			if code, reason := statusOf(err); code != tt.want.Code || reason != tt.want.Reason {
				t.Errorf("got %d %s (%v), want %d %s", code, reason, err, tt.want.Code,
					tt.want.Reason)
			}
		})
	}
}

func TestAdmitCallRefuseBusy(t *testing.T) {
	e := newCCEnv(t)
	e.store.SetLimits(t.Context(), e.acct.SID, func(l *tenancy.Limits) error {
		l.CallsPerSecond = 1

		return nil
	})
	cc := &CallControl{cfg: CallControlConfig{Directory: e.store, RefuseBusy: true},
		adm: newAdmission()}
	if err := cc.admitCall(t.Context(), e.acct); err != nil {
		t.Fatal(err)
	}
	if code, _ := statusOf(cc.admitCall(t.Context(), e.acct)); code != 486 {
		t.Errorf("second call in the second: %d, want 486", code)
	}
}
