package guard

import (
	"net/netip"
	"sync"
	"testing"
	"time"
)

type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()

	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func newTestGuard(t *testing.T, cfg Config) (*Guard, *fakeClock) {
	t.Helper()
	clock := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	cfg.Now = clock.Now

	return New(cfg), clock
}

var (
	attacker = netip.MustParseAddr("192.0.2.66")
	honest   = netip.MustParseAddr("192.0.2.10")
	carrier  = netip.MustParseAddr("198.51.100.7")
)

func TestRateLimitBansThenForgives(t *testing.T) {
	g, clock := newTestGuard(t, Config{RequestsPerSecond: 10, Burst: 5, BanDuration: time.Minute})

	for i := range 5 {
		if v := g.Check(attacker); v != Allow {
			t.Fatalf("request %d within burst: got %v", i, v)
		}
	}
	if v := g.Check(attacker); v != Limited {
		t.Fatalf("request over the burst: %v, want rate_limited", v)
	}
	if !g.Banned(attacker) {
		t.Fatal("source over its rate is not banned")
	}
	if v := g.Check(honest); v != Allow {
		t.Fatal("another source suffered from the attacker's ban")
	}

	clock.Advance(59 * time.Second)
	if v := g.Check(attacker); v != Banned {
		t.Fatalf("after 59s: %v, want banned", v)
	}
	clock.Advance(2 * time.Second)
	if v := g.Check(attacker); v != Allow {
		t.Fatal("ban did not end")
	}
	if st := g.Stats(); st.Bans != 1 || st.Dropped != 2 {
		t.Fatalf("stats = %+v, want 1 ban and 2 drops", st)
	}
}

func TestSustainedRateWithinLimitIsNeverDropped(t *testing.T) {
	g, clock := newTestGuard(t, Config{RequestsPerSecond: 10, Burst: 2})

	for i := range 1000 {
		if v := g.Check(honest); v != Allow {
			t.Fatalf("request %d at the allowed rate dropped", i)
		}
		clock.Advance(100 * time.Millisecond)
	}
}

func TestTrustedSourcesAreExempt(t *testing.T) {
	g, _ := newTestGuard(t, Config{
		RequestsPerSecond: 1, Burst: 1, AuthFailures: 1,
		Trusted: []netip.Prefix{netip.MustParsePrefix("198.51.100.0/24")},
	})

	for range 100 {
		if g.Check(carrier) != Allow {
			t.Fatal("trusted source dropped")
		}
	}
	g.AuthFailed(carrier)
	mapped := netip.AddrFrom16(carrier.As16())
	if g.Banned(carrier) || g.Check(mapped) != Allow {
		t.Fatal("trusted source banned, or its IPv4-mapped form not recognised")
	}
}

func TestAuthFailuresBan(t *testing.T) {
	g, clock := newTestGuard(t, Config{AuthFailures: 3, AuthWindow: time.Minute})

	g.AuthFailed(attacker)
	g.AuthFailed(attacker)
	g.AuthSucceeded(attacker)
	g.AuthFailed(attacker)
	g.AuthFailed(attacker)
	if g.Banned(attacker) {
		t.Fatal("banned although a success reset the count")
	}

	clock.Advance(2 * time.Minute)
	g.AuthFailed(attacker) // the window restarts: one failure
	g.AuthFailed(attacker)
	if g.Banned(attacker) {
		t.Fatal("failures from an old window counted")
	}
	if !g.AuthFailed(attacker) {
		t.Fatal("the failure that banned did not say so")
	}
	if !g.Banned(attacker) || g.Check(attacker) != Banned {
		t.Fatal("third failure within the window did not ban")
	}
}

func TestTrackedSourcesStayBounded(t *testing.T) {
	g, clock := newTestGuard(t, Config{MaxSources: shardCount * 4})

	for i := range 10000 {
		addr := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		if g.Check(addr) != Allow {
			t.Fatalf("fresh source %v dropped", addr)
		}
	}
	if n := g.Stats().Tracked; n > shardCount*4 {
		t.Fatalf("tracked %d sources, bound is %d", n, shardCount*4)
	}

	clock.Advance(time.Hour)
	if g.Check(attacker) != Allow {
		t.Fatal("new source refused after idle ones aged out")
	}
	if !trackedNow(g, attacker) {
		t.Fatal("idle sources were not evicted to make room")
	}
}

func trackedNow(g *Guard, addr netip.Addr) bool {
	sh := g.shardFor(addr)
	sh.mu.Lock()
	defer sh.mu.Unlock()

	return sh.sources[addr] != nil
}

func TestConcurrentUse(t *testing.T) {
	g := New(Config{RequestsPerSecond: 1e6, Burst: 1e6})
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			addr := netip.AddrFrom4([4]byte{10, 0, 0, byte(w)})
			for range 1000 {
				if g.Check(addr) != Allow {
					t.Error("dropped under a generous limit")

					return
				}
				g.AuthFailed(addr)
				g.AuthSucceeded(addr)
			}
		}()
	}
	wg.Wait()
	if g.Stats().Tracked != 8 {
		t.Fatalf("tracked %d, want 8", g.Stats().Tracked)
	}
}

func BenchmarkCheck(b *testing.B) {
	g := New(Config{RequestsPerSecond: 1e9, Burst: 1e9})
	addr := netip.MustParseAddr("192.0.2.1")
	b.ReportAllocs()
	for b.Loop() {
		g.Check(addr)
	}
}

func BenchmarkCheckParallel(b *testing.B) {
	g := New(Config{RequestsPerSecond: 1e9, Burst: 1e9})
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			i++
			g.Check(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}))
		}
	})
}

func TestExemptSourcesAreAskedOnlyWhenAboutToBeBanned(t *testing.T) {
	asked := 0
	g, clock := newTestGuard(t, Config{
		RequestsPerSecond: 1, Burst: 2, AuthFailures: 1, ExemptRecheck: 10 * time.Second,
		Exempt: func(a netip.Addr) bool { asked++; return a == carrier },
	})

	for i := range 100 {
		if v := g.Check(carrier); v != Allow {
			t.Fatalf("exempt source: request %d %v", i, v)
		}
	}
	g.AuthFailed(carrier)
	if asked != 1 || g.Banned(carrier) {
		t.Fatalf("asked %d times (want 1, the answer is kept); banned %v", asked, g.Banned(carrier))
	}
	g.Check(honest)
	g.Check(honest)
	if g.Check(honest) != Limited || asked != 2 {
		t.Fatalf("a source Exempt refuses was not banned (asked %d)", asked)
	}

	clock.Advance(11 * time.Second)
	for range 3 {
		g.Check(carrier)
	}
	if asked != 3 {
		t.Fatalf("exemption not rechecked after ExemptRecheck: asked %d", asked)
	}
}

func TestNegativeLimitsTurnChecksOff(t *testing.T) {
	g, _ := newTestGuard(t, Config{RequestsPerSecond: -1, Burst: 1, AuthFailures: -1})

	for range 1000 {
		if g.Check(attacker) != Allow {
			t.Fatal("rate limited with the limit off")
		}
		if g.AuthFailed(attacker) {
			t.Fatal("banned with bans off")
		}
	}
}
