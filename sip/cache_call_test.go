package sip

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/patchbay/patchbay/sip/location"
	"github.com/patchbay/patchbay/sip/webhook"
	"github.com/patchbay/patchbay/tenancy"
)

// countingCallDirectory counts the lookups that reach the store.
type countingCallDirectory struct {
	*tenancy.Store
	services, limits int
}

func (c *countingCallDirectory) ServiceSetting(ctx context.Context, sid string,
	name tenancy.ServiceName) (*tenancy.Service, error) {
	c.services++
	return c.Store.ServiceSetting(ctx, sid, name)
}

func (c *countingCallDirectory) AccountLimits(ctx context.Context, sid string) (
	*tenancy.Limits, error) {
	c.limits++
	return c.Store.AccountLimits(ctx, sid)
}

// noGeneration hides the store's Generation, as a directory that cannot
// report its writes would.
type noGeneration struct{ CallDirectory }

func newCacheStore(t *testing.T) (*tenancy.Store, *tenancy.Account) {
	t.Helper()
	db, err := tenancy.OpenDB(t.Context(), filepath.Join(t.TempDir(), "pb.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	st, err := tenancy.NewStore(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	acct, err := st.CreateAccount(t.Context(), "", "cache")
	if err != nil {
		t.Fatal(err)
	}

	return st, acct
}

// TestCallDirectoryCacheInvalidatedByWrites: repeated lookups are answered
// from memory, and a write through the store (the REST API's path) is seen
// by the very next lookup, long before the TTL.
func TestCallDirectoryCacheInvalidatedByWrites(t *testing.T) {
	st, acct := newCacheStore(t)
	inner := &countingCallDirectory{Store: st}
	d := NewCallDirectoryCache(inner, time.Hour)
	ctx := t.Context()
	for range 5 {
		svc, err := d.ServiceSetting(ctx, acct.SID, tenancy.ServiceCalls)
		if err != nil || !svc.Enabled {
			t.Fatalf("calls service %+v, %v; want enabled", svc, err)
		}
		if _, err := d.AccountLimits(ctx, acct.SID); err != nil {
			t.Fatal(err)
		}
	}
	if inner.services != 1 || inner.limits != 1 {
		t.Fatalf("%d service and %d limits lookups reached the store, want 1 each",
			inner.services, inner.limits)
	}

	if _, err := st.SetService(ctx, acct.SID, tenancy.ServiceCalls, func(s *tenancy.Service) error {
		s.Enabled = false
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.SetLimits(ctx, acct.SID, func(l *tenancy.Limits) error {
		l.ConcurrentCalls = 7
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	svc, err := d.ServiceSetting(ctx, acct.SID, tenancy.ServiceCalls)
	if err != nil || svc.Enabled {
		t.Fatalf("after disabling: calls service %+v, %v; want disabled", svc, err)
	}
	lim, err := d.AccountLimits(ctx, acct.SID)
	if err != nil || lim.ConcurrentCalls != 7 {
		t.Fatalf("after the update: limits %+v, %v; want 7 concurrent calls", lim, err)
	}

	suspended := tenancy.StatusSuspended
	if _, err := d.AccountBySID(ctx, acct.SID); err != nil {
		t.Fatal(err)
	}
	if _, err := st.UpdateAccount(ctx, acct.SID,
		tenancy.AccountUpdate{Status: &suspended}); err != nil {
		t.Fatal(err)
	}
	if a, err := d.AccountBySID(ctx, acct.SID); err != nil || a.Active() {
		t.Fatalf("after suspending: account %+v, %v; want suspended", a, err)
	}
}

// TestCallDirectoryCacheTTL: without a Generation to watch, answers live
// out their TTL and no longer.
func TestCallDirectoryCacheTTL(t *testing.T) {
	st, acct := newCacheStore(t)
	inner := &countingCallDirectory{Store: st}
	d := NewCallDirectoryCache(noGeneration{inner}, 30*time.Millisecond)
	ctx := t.Context()
	d.AccountLimits(ctx, acct.SID)
	if _, err := st.SetLimits(ctx, acct.SID, func(l *tenancy.Limits) error {
		l.CallsPerSecond = 9
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if lim, _ := d.AccountLimits(ctx, acct.SID); lim.CallsPerSecond != 0 || inner.limits != 1 {
		t.Fatalf("within the TTL: %+v after %d lookups; want the kept answer", lim,
			inner.limits)
	}
	time.Sleep(40 * time.Millisecond)
	if lim, _ := d.AccountLimits(ctx, acct.SID); lim.CallsPerSecond != 9 {
		t.Fatalf("after the TTL: %+v; want the stored 9 calls per second", lim)
	}
}

// TestNewCallControlCachesDirectory: call control wraps a plain directory
// in a cache, keeps a given cache and honours a negative TTL.
func TestNewCallControlCachesDirectory(t *testing.T) {
	st, _ := newCacheStore(t)
	loc := location.NewMemory(nil)
	defer loc.Close()
	srv, err := NewServer(Config{Listen: "127.0.0.1:0", Logger: quietLog()}, st, loc)
	if err != nil {
		t.Fatal(err)
	}
	hooks := webhook.New(webhook.Config{Logger: quietLog()})
	defer hooks.Close()
	given := NewCallDirectoryCache(st, 0)
	cases := []struct {
		name string
		dir  CallDirectory
		ttl  time.Duration
		want func(CallDirectory) bool
	}{
		{"plain store is wrapped", st, 0, func(d CallDirectory) bool {
			c, ok := d.(*CallDirectoryCache)
			return ok && c.next == st
		}},
		{"cache is kept", given, 0, func(d CallDirectory) bool { return d == given }},
		{"negative ttl", st, -1, func(d CallDirectory) bool { return d == st }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cc, err := NewCallControl(CallControlConfig{Server: srv, Directory: tc.dir,
				Webhooks: hooks, DirectoryCacheTTL: tc.ttl, Logger: quietLog()})
			if err != nil {
				t.Fatal(err)
			}
			defer cc.Close()
			if !tc.want(cc.cfg.Directory) {
				t.Fatalf("directory %T", cc.cfg.Directory)
			}
		})
	}
}
