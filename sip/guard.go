package sip

import (
	"context"
	"net/netip"
	"time"

	"github.com/patchbay/patchbay/sip/guard"
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

// trunkLookupTimeout bounds the directory lookup that decides whether a
// source about to be banned is a carrier trunk.
const trunkLookupTimeout = 250 * time.Millisecond

// newGuard builds the edge's per-source guard from the configuration:
// sources in Config.TrustedSources are exempt, and so are the addresses of
// carrier trunks, which the guard asks about only when a source is about
// to be banned, so that honest traffic costs no lookup.
func (s *Server) newGuard() *guard.Guard {
	g := s.cfg.Guard

	return guard.New(guard.Config{
		RequestsPerSecond: g.RequestsPerSecond,
		Burst:             g.Burst,
		BanDuration:       g.BanDuration,
		AuthFailures:      g.AuthFailures,
		AuthWindow:        g.AuthWindow,
		MaxSources:        g.MaxSources,
		Trusted:           s.cfg.TrustedSources,
		Exempt:            s.isTrunkSource,
	})
}

// isTrunkSource reports whether addr is in the IP access list of a trunk.
// A failed lookup counts as no: a flood must not be let in by a slow store.
func (s *Server) isTrunkSource(addr netip.Addr) bool {
	ctx, cancel := context.WithTimeout(s.ctx, trunkLookupTimeout)
	defer cancel()
	t, err := s.dir.TrunkBySourceAddr(ctx, addr)

	return err == nil && t != nil
}
