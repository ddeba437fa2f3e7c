package sip

import (
	"net/netip"
	"sync"
	"time"
)

// GuardConfig limits what each source address may send (Config.Guard).
// Zero fields take the defaults in parentheses. Sources in
// Config.TrustedSources are exempt.
type GuardConfig struct {
	// RequestsPerSecond is the sustained request rate per source IP (50).
	// Negative: no rate limit.
	RequestsPerSecond float64
	// Burst is how many requests a source may send at once above the
	// sustained rate (200).
	Burst int
	// AuthFailures bans a source after this many failed digest
	// authentications within AuthWindow (10). Negative: no bans.
	AuthFailures int
	// AuthWindow is the period over which failures count (60s).
	AuthWindow time.Duration
	// BanDuration is how long a banned source is ignored (60s).
	BanDuration time.Duration
	// MaxSources bounds the sources tracked at once (100000); when full,
	// the table is emptied, so forged addresses cannot exhaust memory.
	MaxSources int
}

func (g GuardConfig) withDefaults() GuardConfig {
	if g.RequestsPerSecond == 0 {
		g.RequestsPerSecond = 50
	}
	if g.Burst == 0 {
		g.Burst = 200
	}
	if g.AuthFailures == 0 {
		g.AuthFailures = 10
	}
	if g.AuthWindow == 0 {
		g.AuthWindow = time.Minute
	}
	if g.BanDuration == 0 {
		g.BanDuration = time.Minute
	}
	if g.MaxSources == 0 {
		g.MaxSources = 100000
	}

	return g
}

// guard is a per-source token bucket with a ban after repeated failed
// authentications (what Kamailio's pike and a fail2ban jail do together).
// It is safe for concurrent use.
type guard struct {
	cfg     GuardConfig
	trusted []netip.Prefix
	now     func() time.Time

	// mu guards sources.
	mu      sync.Mutex
	sources map[netip.Addr]*sourceState
}

// sourceState is the bucket and failure record of one source IP.
type sourceState struct {
	tokens      float64
	last        time.Time
	failures    int
	windowStart time.Time
	bannedUntil time.Time
}

// guardVerdict is what the guard says about one request.
type guardVerdict int

const (
	guardPass guardVerdict = iota
	guardRateLimited
	guardBanned
)

func newGuard(cfg GuardConfig, trusted []netip.Prefix, now func() time.Time) *guard {
	if now == nil {
		now = time.Now
	}

	return &guard{cfg: cfg.withDefaults(), trusted: trusted, now: now,
		sources: make(map[netip.Addr]*sourceState)}
}

// isTrusted reports whether ip is exempt.
func (g *guard) isTrusted(ip netip.Addr) bool {
	for _, p := range g.trusted {
		if p.Contains(ip) {
			return true
		}
	}

	return false
}

// stateLocked returns ip's record, creating it.
func (g *guard) stateLocked(ip netip.Addr, now time.Time) *sourceState {
	st, ok := g.sources[ip]
	if !ok {
		if len(g.sources) >= g.cfg.MaxSources {
			clear(g.sources)
		}
		st = &sourceState{tokens: float64(g.cfg.Burst), last: now, windowStart: now}
		g.sources[ip] = st
	}

	return st
}

// admit takes one request of ip.
func (g *guard) admit(ip netip.Addr) guardVerdict {
	if g.isTrusted(ip) {
		return guardPass
	}
	now := g.now()
	g.mu.Lock()
	defer g.mu.Unlock()
	st := g.stateLocked(ip, now)
	if now.Before(st.bannedUntil) {
		return guardBanned
	}
	if g.cfg.RequestsPerSecond < 0 {
		return guardPass
	}
	st.tokens += now.Sub(st.last).Seconds() * g.cfg.RequestsPerSecond
	st.tokens = min(st.tokens, float64(g.cfg.Burst))
	st.last = now
	if st.tokens < 1 {
		return guardRateLimited
	}
	st.tokens--

	return guardPass
}

// authFailed records a failed authentication of ip; it reports whether ip
// is now banned.
func (g *guard) authFailed(ip netip.Addr) bool {
	if g.cfg.AuthFailures < 0 || g.isTrusted(ip) {
		return false
	}
	now := g.now()
	g.mu.Lock()
	defer g.mu.Unlock()
	st := g.stateLocked(ip, now)
	if now.Sub(st.windowStart) > g.cfg.AuthWindow {
		st.failures, st.windowStart = 0, now
	}
	st.failures++
	if st.failures < g.cfg.AuthFailures {
		return false
	}
	st.bannedUntil = now.Add(g.cfg.BanDuration)
	st.failures = 0

	return true
}
