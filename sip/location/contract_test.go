package location

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"testing"
	"time"
)

// testClock is the time the contract suite steers: a fake clock for
// Memory, the real one (Advance sleeps) for Redis.
type testClock interface {
	Now() time.Time
	Advance(d time.Duration)
}

// fakeClock is a manually advanced clock, safe for concurrent use.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()

	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type realClock struct{}

func (realClock) Now() time.Time          { return time.Now() }
func (realClock) Advance(d time.Duration) { time.Sleep(d) }

// contractEnv builds a fresh, empty Store for one contract case.
type contractEnv struct {
	newStore func(t *testing.T) (Store, testClock)
	unit     time.Duration // the expiry step; real time for Redis
}

// suite is one contract case.
type suite struct {
	t     *testing.T
	s     Store
	clock testClock
	unit  time.Duration
	ctx   context.Context
}

// runContract runs every contract case against env.
func runContract(t *testing.T, env contractEnv) {
	cases := []struct {
		name string
		run  func(s *suite)
	}{
		{"add and lookup", contractAdd},
		{"refresh", contractRefresh},
		{"remove", contractRemove},
		{"remove all", contractRemoveAll},
		{"per-binding expiry", contractExpiry},
		{"cseq ordering", contractOrdering},
		{"account limit", contractLimit},
		{"account limit concurrent", contractLimitConcurrent},
		{"invalid updates", contractInvalid},
		{"aor moves account", contractMove},
		{"close", contractClose},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			store, clock := env.newStore(t)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			t.Cleanup(cancel)
			c.run(&suite{t: t, s: store, clock: clock, unit: env.unit, ctx: ctx})
		})
	}
}

// binding is a test binding of aor expiring after d.
func (s *suite) binding(contact string, d time.Duration) Binding {
	return Binding{
		Contact:   contact,
		Received:  netip.MustParseAddrPort("192.0.2.7:5062"),
		Transport: "tcp",
		UserAgent: "phone/1.0",
		Node:      "node-a",
		Expires:   s.clock.Now().Add(d),
	}
}

func (s *suite) apply(u Update) []Binding {
	s.t.Helper()
	got, err := s.s.Apply(s.ctx, u)
	if err != nil {
		s.t.Fatalf("Apply(%s cseq %d): %v", u.AOR, u.CSeq, err)
	}

	return got
}

func (s *suite) applyErr(u Update, want error) {
	s.t.Helper()
	if _, err := s.s.Apply(s.ctx, u); !errors.Is(err, want) {
		s.t.Fatalf("Apply(%s cseq %d) = %v, want %v", u.AOR, u.CSeq, err, want)
	}
}

// contacts returns the contacts of a lookup of aor.
func (s *suite) contacts(aor string) []string {
	s.t.Helper()
	got, err := s.s.Lookup(s.ctx, aor)
	if err != nil {
		s.t.Fatalf("Lookup(%s): %v", aor, err)
	}

	return contactsOf(got)
}

func contactsOf(bs []Binding) []string {
	out := []string{}
	for _, b := range bs {
		out = append(out, b.Contact)
	}

	return out
}

func (s *suite) count(account string) int {
	s.t.Helper()
	n, err := s.s.CountAccount(s.ctx, account)
	if err != nil {
		s.t.Fatalf("CountAccount(%s): %v", account, err)
	}

	return n
}

func (s *suite) wantContacts(aor string, want ...string) {
	s.t.Helper()
	if got := s.contacts(aor); fmt.Sprint(got) != fmt.Sprint(append([]string{}, want...)) {
		s.t.Fatalf("Lookup(%s) contacts = %v, want %v", aor, got, want)
	}
}

func (s *suite) wantCount(account string, want int) {
	s.t.Helper()
	if got := s.count(account); got != want {
		s.t.Fatalf("CountAccount(%s) = %d, want %d", account, got, want)
	}
}

// near reports whether two times lie within tol of each other.
func near(a, b time.Time, tol time.Duration) bool {
	d := a.Sub(b)

	return d < tol && d > -tol
}
