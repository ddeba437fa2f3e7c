package sip

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/patchbay/patchbay/tenancy"
)

// countingDirectory counts DomainByName calls of the fake.
type countingDirectory struct {
	*fakeDirectory
	domainLookups int
	fail          error
}

func (c *countingDirectory) DomainByName(ctx context.Context, n string) (*tenancy.Domain, error) {
	c.domainLookups++
	if c.fail != nil {
		return nil, c.fail
	}
	return c.fakeDirectory.DomainByName(ctx, n)
}

func TestCachedDirectory(t *testing.T) {
	cases := []struct {
		name      string
		domain    string
		fail      error
		wantCalls int
		wantErr   error
	}{
		{name: "found is kept", domain: "acme.test", wantCalls: 1},
		{name: "not found is kept", domain: "nowhere.test", wantCalls: 1,
			wantErr: tenancy.ErrNotFound},
		{name: "store errors are not kept", domain: "acme.test",
			fail: errors.New("db down"), wantCalls: 3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			inner := &countingDirectory{fakeDirectory: newDirectory(), fail: tc.fail}
			d := newCachedDirectory(inner, time.Minute)
			for range 3 {
				_, err := d.DomainByName(t.Context(), tc.domain)
				if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
					t.Fatalf("err %v, want %v", err, tc.wantErr)
				}
			}
			if inner.domainLookups != tc.wantCalls {
				t.Fatalf("%d store lookups, want %d", inner.domainLookups, tc.wantCalls)
			}
		})
	}
}

func TestCachedDirectoryExpires(t *testing.T) {
	inner := &countingDirectory{fakeDirectory: newDirectory()}
	d := newCachedDirectory(inner, 20*time.Millisecond)
	d.DomainByName(t.Context(), "acme.test")
	time.Sleep(30 * time.Millisecond)
	d.DomainByName(t.Context(), "acme.test")
	if inner.domainLookups != 2 {
		t.Fatalf("%d lookups after expiry, want 2", inner.domainLookups)
	}
}

func TestRouteKey(t *testing.T) {
	a, b := routeKey([]byte("shared-secret-0123")), routeKey([]byte("shared-secret-0123"))
	if string(a) != string(b) {
		t.Fatal("same secret, different keys")
	}
	if string(routeKey(nil)) == string(routeKey(nil)) {
		t.Fatal("random keys repeat")
	}
}

func TestCacheSweep(t *testing.T) {
	c := newTTLCache[int](time.Nanosecond, nil)
	for i := range 3 * sweepEvery {
		c.get(strconv.Itoa(i), func() (int, error) { return i, nil })
	}
	if n := len(c.m); n > sweepEvery {
		t.Fatalf("%d entries kept, want expired ones swept", n)
	}
}
