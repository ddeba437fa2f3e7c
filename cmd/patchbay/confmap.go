package main

import (
	"time"

	"github.com/patchbay/patchbay/conf"
	"github.com/patchbay/patchbay/sip"
	"github.com/patchbay/patchbay/sip/digest"
)

// Settings where conf and a component disagree on what zero means: in
// conf, 0 turns the feature off; in the components' Config structs, 0
// asks for their default and a negative value turns the feature off. The
// helpers below convert, so that an operator's 0 never becomes a default.

// offIfZero turns conf's 0 ("off") into the components' -1 ("off").
func offIfZero[T ~int | ~int64 | ~float64](n T) T {
	if n == 0 {
		return -1
	}

	return n
}

// guardConfig is the SIP edge's per-source guard for c: a zero rate means
// no rate limit, zero auth failures means no bans.
func guardConfig(c conf.SIPGuard) sip.GuardConfig {
	g := sip.GuardConfig(c)
	g.RequestsPerSecond = offIfZero(c.RequestsPerSecond)
	g.AuthFailures = offIfZero(c.AuthFailures)

	return g
}

// cacheTTL is the SIP edge's directory cache lifetime: 0 means no cache.
func cacheTTL(d time.Duration) time.Duration { return offIfZero(d) }

// maxRedirects is the webhook client's redirect limit: 0 follows none.
func maxRedirects(n int) int { return offIfZero(n) }

// outboxAttempts is the status-callback outbox's attempt limit for
// webhooks.retry_max retries: the first attempt plus the retries.
func outboxAttempts(retryMax int) int { return retryMax + 1 }

// nonceSecret is the digest nonce key for sip.nonce_secret: nil when unset,
// so that the SIP edge draws a random key. An empty but non-nil slice would
// key the nonces with nothing, letting anyone mint them.
func nonceSecret(s string) []byte {
	if s == "" {
		return nil
	}

	return []byte(s)
}

// digestAlgorithms converts sip.digest_algorithms, which conf has checked.
func digestAlgorithms(names []string) []digest.Algorithm {
	out := make([]digest.Algorithm, len(names))
	for i, n := range names {
		out[i] = digest.Algorithm(n)
	}

	return out
}
