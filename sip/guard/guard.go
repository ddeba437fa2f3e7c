// Package guard protects the SIP edge from floods and password guessing. It
// keeps, per source address, a token bucket of requests and a count of
// failed authentications, and bans a source that exceeds either for a
// while. While banned, a source's requests are dropped without an answer, so
// that a scanner learns nothing and costs nothing. Trusted sources (carrier
// trunks, the operator's networks) are never limited.
package guard

import (
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// Config sets a Guard's limits. Zero fields take the defaults in
// parentheses.
type Config struct {
	// RequestsPerSecond is the sustained request rate allowed per source
	// address (50). Negative: no rate limit.
	RequestsPerSecond float64
	// Burst is how many requests a source may send at once above the rate
	// (200).
	Burst int
	// BanDuration is how long a source stays banned (60s).
	BanDuration time.Duration
	// AuthFailures bans a source after this many failed authentications
	// within AuthWindow (10). Negative: failures never ban.
	AuthFailures int
	// AuthWindow is the period over which authentication failures count
	// (60s).
	AuthWindow time.Duration
	// MaxSources bounds the number of tracked sources (100000). When the
	// table is full and nothing idle can be evicted, new sources pass
	// untracked: memory stays bounded even when source addresses are forged.
	MaxSources int
	// Trusted sources are never limited nor banned.
	Trusted []netip.Prefix
	// Exempt, when set, is asked before a source is banned (over its rate
	// or after failed authentications): a source it exempts is let through
	// and not asked about again for ExemptRecheck. The SIP edge exempts
	// the addresses of carrier trunks this way, so that only sources about
	// to be banned cost a lookup.
	Exempt func(netip.Addr) bool
	// ExemptRecheck is how long an Exempt answer holds (10s).
	ExemptRecheck time.Duration
	// Now is the clock (time.Now).
	Now func() time.Time
}

func (c *Config) setDefaults() {
	if c.RequestsPerSecond == 0 {
		c.RequestsPerSecond = 50
	}
	if c.Burst <= 0 {
		c.Burst = 200
	}
	if c.BanDuration <= 0 {
		c.BanDuration = time.Minute
	}
	if c.AuthFailures == 0 {
		c.AuthFailures = 10
	}
	if c.ExemptRecheck <= 0 {
		c.ExemptRecheck = 10 * time.Second
	}
	if c.AuthWindow <= 0 {
		c.AuthWindow = time.Minute
	}
	if c.MaxSources <= 0 {
		c.MaxSources = 100000
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// Verdict is what to do with one request.
type Verdict int

// The verdicts. Limited and Banned both mean: discard the request without
// an answer (or, on a connection, with as little as possible).
const (
	// Allow processes the request.
	Allow Verdict = iota
	// Limited: the source went over its rate with this request and is
	// banned from now on.
	Limited
	// Banned: the source was banned already.
	Banned
)

// String names the verdict as metrics label it.
func (v Verdict) String() string {
	switch v {
	case Limited:
		return "rate_limited"
	case Banned:
		return "banned"
	}

	return "allowed"
}

const shardCount = 64

// Guard tracks sources and decides on each request. It is safe for
// concurrent use; its memory is bounded by Config.MaxSources. The zero value
// is not usable: create one with New.
type Guard struct {
	cfg       Config
	perShard  int
	trustedV4 []netip.Prefix
	shards    [shardCount]shard

	dropped atomic.Uint64
	bans    atomic.Uint64
}

type shard struct {
	mu      sync.Mutex // guards sources
	sources map[netip.Addr]*source
}

// source is the state of one address. Times are Unix nanoseconds of cfg.Now.
type source struct {
	tokens      float64
	last        int64 // last refill
	bannedUntil int64
	exemptUntil int64 // Config.Exempt said yes; not limited until then
	failures    int
	failStart   int64
}

// New returns a Guard with cfg's limits.
func New(cfg Config) *Guard {
	cfg.setDefaults()
	g := &Guard{cfg: cfg, perShard: max(1, cfg.MaxSources/shardCount)}
	for i := range g.shards {
		g.shards[i].sources = make(map[netip.Addr]*source)
	}

	return g
}

// Trusted reports whether addr is in one of the trusted prefixes.
func (g *Guard) Trusted(addr netip.Addr) bool {
	addr = addr.Unmap()
	for _, p := range g.cfg.Trusted {
		if p.Contains(addr) {
			return true
		}
	}

	return false
}

// Check accounts for one request from addr and says whether to process it.
// A source over its rate is banned for Config.BanDuration.
func (g *Guard) Check(addr netip.Addr) Verdict {
	addr = addr.Unmap()
	if g.Trusted(addr) {
		return Allow
	}
	now := g.cfg.Now().UnixNano()
	sh := g.shardFor(addr)

	sh.mu.Lock()
	defer sh.mu.Unlock()
	s := g.lookupLocked(sh, addr, now)
	if s == nil {
		return Allow
	}
	if s.exemptUntil > now {
		return Allow
	}
	if s.bannedUntil > now {
		g.dropped.Add(1)

		return Banned
	}
	if g.cfg.RequestsPerSecond < 0 {
		return Allow
	}
	elapsed := float64(now-s.last) / float64(time.Second)
	s.tokens = min(float64(g.cfg.Burst), s.tokens+elapsed*g.cfg.RequestsPerSecond)
	s.last = now
	if s.tokens < 1 {
		if !g.banLocked(addr, s, now) {
			return Allow
		}
		g.dropped.Add(1)

		return Limited
	}
	s.tokens--

	return Allow
}

// AuthFailed records a failed authentication from addr; enough of them
// within Config.AuthWindow ban the source. It reports whether this failure
// banned it.
func (g *Guard) AuthFailed(addr netip.Addr) bool {
	addr = addr.Unmap()
	if g.cfg.AuthFailures < 0 || g.Trusted(addr) {
		return false
	}
	now := g.cfg.Now().UnixNano()
	sh := g.shardFor(addr)

	sh.mu.Lock()
	defer sh.mu.Unlock()
	s := g.lookupLocked(sh, addr, now)
	if s == nil || s.exemptUntil > now {
		return false
	}
	if now-s.failStart > int64(g.cfg.AuthWindow) {
		s.failures, s.failStart = 0, now
	}
	s.failures++
	if s.failures < g.cfg.AuthFailures {
		return false
	}
	s.failures = 0

	return g.banLocked(addr, s, now)
}

// AuthSucceeded forgets addr's failed authentications.
func (g *Guard) AuthSucceeded(addr netip.Addr) {
	addr = addr.Unmap()
	sh := g.shardFor(addr)

	sh.mu.Lock()
	defer sh.mu.Unlock()
	if s := sh.sources[addr]; s != nil {
		s.failures = 0
	}
}

// Banned reports whether addr is banned now.
func (g *Guard) Banned(addr netip.Addr) bool {
	addr = addr.Unmap()
	now := g.cfg.Now().UnixNano()
	sh := g.shardFor(addr)

	sh.mu.Lock()
	defer sh.mu.Unlock()
	s := sh.sources[addr]

	return s != nil && s.bannedUntil > now
}

// Stats is a snapshot of a Guard's counters.
type Stats struct {
	Dropped uint64 // requests dropped because their source was banned or over rate
	Bans    uint64 // bans imposed
	Tracked int    // sources tracked now
}

// Stats returns the counters.
func (g *Guard) Stats() Stats {
	st := Stats{Dropped: g.dropped.Load(), Bans: g.bans.Load()}
	for i := range g.shards {
		sh := &g.shards[i]
		sh.mu.Lock()
		st.Tracked += len(sh.sources)
		sh.mu.Unlock()
	}

	return st
}

// banLocked bans s unless Config.Exempt exempts addr, and reports whether
// it banned. Exempt runs under the shard's lock: it must be quick (a cached
// lookup) and must not call back into the Guard.
func (g *Guard) banLocked(addr netip.Addr, s *source, now int64) bool {
	if g.cfg.Exempt != nil && g.cfg.Exempt(addr) {
		s.exemptUntil = now + int64(g.cfg.ExemptRecheck)
		s.tokens = float64(g.cfg.Burst)

		return false
	}
	if s.bannedUntil <= now {
		g.bans.Add(1)
	}
	s.bannedUntil = now + int64(g.cfg.BanDuration)

	return true
}

func (g *Guard) shardFor(addr netip.Addr) *shard {
	b := addr.As16()
	h := uint32(2166136261)
	for _, c := range b {
		h = (h ^ uint32(c)) * 16777619
	}

	return &g.shards[h%shardCount]
}

// lookupLocked returns addr's state, creating it with a full bucket. It
// returns nil when the shard is full of sources that are still active.
func (g *Guard) lookupLocked(sh *shard, addr netip.Addr, now int64) *source {
	if s := sh.sources[addr]; s != nil {
		return s
	}
	if len(sh.sources) >= g.perShard && !g.evictIdleLocked(sh, now) {
		return nil
	}
	s := &source{tokens: float64(g.cfg.Burst), last: now}
	sh.sources[addr] = s

	return s
}

// evictIdleLocked removes sources that are neither banned nor have counted
// anything recently, and reports whether room was made.
func (g *Guard) evictIdleLocked(sh *shard, now int64) bool {
	idle := int64(g.cfg.AuthWindow)
	refill := int64(float64(g.cfg.Burst) / g.cfg.RequestsPerSecond * float64(time.Second))
	idle = max(idle, refill)
	before := len(sh.sources)
	for a, s := range sh.sources {
		if s.bannedUntil <= now && s.exemptUntil <= now && now-s.last > idle &&
			now-s.failStart > idle {
			delete(sh.sources, a)
		}
	}

	return len(sh.sources) < before
}
