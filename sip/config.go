package sip

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/patchbay/patchbay/sip/digest"
)

// Defaults applied by NewServer to zero Config fields.
const (
	DefaultMinExpires      = 60 * time.Second
	DefaultMaxExpires      = 3600 * time.Second
	DefaultExpires         = 3600 * time.Second
	DefaultNonceTTL        = 30 * time.Second
	DefaultMaxMessageBytes = 65535
	DefaultRingTimeout     = 180 * time.Second
	DefaultTrunkTimeout    = 4 * time.Second
	DefaultNodeID          = "node-1"
	DefaultConnsPerSource  = 64
	DefaultIdleTimeout     = 10 * time.Minute
)

// Config configures a Server. Zero fields take the defaults above.
type Config struct {
	// Listen is the host:port of the UDP and TCP listeners, e.g.
	// "0.0.0.0:5060" (PATCHBAY_SIP_LISTEN). Empty: no UDP/TCP listener.
	Listen string

	// TLSListen is the host:port of the TLS listener; TLSCertFile and
	// TLSKeyFile are its PEM certificate chain and key. Empty: no TLS.
	TLSListen, TLSCertFile, TLSKeyFile string

	// WSListen is the host:port of the WebSocket (RFC 7118) listener.
	// Empty: none. Secure WebSocket is not offered.
	WSListen string

	// PublicAddr is the host (no port) this server puts in Via,
	// Record-Route and Contact. Empty: the host of the first listener,
	// which must then not be a wildcard address.
	PublicAddr string

	// MinExpires and MaxExpires bound registration intervals (60s, 3600s):
	// shorter ones get 423, longer ones are shortened.
	MinExpires, MaxExpires time.Duration

	// NonceTTL is the lifetime of a digest nonce (30s).
	NonceTTL time.Duration

	// DigestAlgorithms lists the digest algorithms challenged with, in
	// order, one challenge header each (SHA-256 then MD5, RFC 8760). Put
	// MD5 first for clients that only answer the first challenge and only
	// know MD5 (sipp 3.6, some older phones).
	DigestAlgorithms []digest.Algorithm

	// NonceSecret keys the stateless digest nonces; nodes sharing it accept
	// each other's nonces. Random when nil.
	NonceSecret []byte

	// MaxMessageBytes is the largest SIP message accepted (65535); larger
	// datagrams are dropped and a larger stream message closes the
	// connection.
	MaxMessageBytes int

	// TrustedSources are networks exempt from the Guard's rate limits and
	// bans (monitoring, a load generator, a front SBC). They authenticate
	// like everyone else.
	TrustedSources []netip.Prefix

	// AuthExemptSources are networks whose REGISTERs and device calls into
	// a known domain are accepted without digest authentication: an SBC
	// that authenticates on Patchbay's behalf, or a test harness. The
	// account is still found by domain and admitted as usual. Keep it
	// empty in production unless such a front exists (empty).
	AuthExemptSources []netip.Prefix

	// Guard limits each source's request rate and bans sources after
	// repeated failed authentications.
	Guard GuardConfig

	// MaxConnsPerSource bounds the TCP, TLS and WebSocket connections one
	// source address may hold open (64); more are closed on accept.
	// TrustedSources are exempt. Negative: no bound.
	MaxConnsPerSource int

	// IdleTimeout closes a TCP, TLS or WebSocket connection on which
	// nothing arrives for this long (10m), including a half-sent message;
	// CRLF keepalives (RFC 5626 4.4.1) keep a connection open. Negative:
	// never.
	IdleTimeout time.Duration

	// NodeID names this node in location bindings ("node-1").
	NodeID string

	// RingTimeout is the proxy's Timer C (RFC 3261 section 16.6 step 11):
	// how long a forked INVITE may ring before its branches are cancelled
	// and the caller gets 408 (180s).
	RingTimeout time.Duration

	// TrunkTimeout is how long DialTrunk waits for the first response of
	// one origination target before failing over to the next (4s).
	TrunkTimeout time.Duration

	// CacheTTL is how long directory answers (domains, accounts,
	// services, limits, credentials, access lists, trunks) are reused
	// (2s). Store changes take effect within it. Negative: no cache.
	CacheTTL time.Duration

	// Logger receives the server's logs (slog.Default()).
	Logger *slog.Logger

	// Registerer receives the server's metrics. Nil: a private registry,
	// so that tests and several servers never collide.
	Registerer prometheus.Registerer
}

// withDefaults returns c with zero fields defaulted.
func (c Config) withDefaults() Config {
	if c.MinExpires == 0 {
		c.MinExpires = DefaultMinExpires
	}
	if c.MaxExpires == 0 {
		c.MaxExpires = DefaultMaxExpires
	}
	if c.NonceTTL == 0 {
		c.NonceTTL = DefaultNonceTTL
	}
	if c.MaxMessageBytes == 0 {
		c.MaxMessageBytes = DefaultMaxMessageBytes
	}
	if c.NodeID == "" {
		c.NodeID = DefaultNodeID
	}
	if c.MaxConnsPerSource == 0 {
		c.MaxConnsPerSource = DefaultConnsPerSource
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = DefaultIdleTimeout
	}
	if c.RingTimeout == 0 {
		c.RingTimeout = DefaultRingTimeout
	}
	if c.TrunkTimeout == 0 {
		c.TrunkTimeout = DefaultTrunkTimeout
	}
	if c.CacheTTL == 0 {
		c.CacheTTL = DefaultCacheTTL
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Registerer == nil {
		c.Registerer = prometheus.NewRegistry()
	}

	return c
}

// validate reports every problem of c, each naming its field.
func (c Config) validate() error {
	var errs []error
	add := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrConfig}, args...)...))
	}
	if c.Listen == "" && c.TLSListen == "" && c.WSListen == "" {
		add("listen: no listener configured")
	}
	for _, l := range [...]struct{ key, addr string }{
		{"listen", c.Listen}, {"tls_listen", c.TLSListen}, {"ws_listen", c.WSListen},
	} {
		if l.addr == "" {
			continue
		}
		if _, _, err := net.SplitHostPort(l.addr); err != nil {
			add("%s: %q is not host:port", l.key, l.addr)
		}
	}
	if c.TLSListen != "" && (c.TLSCertFile == "" || c.TLSKeyFile == "") {
		add("tls_cert_file, tls_key_file: required with tls_listen")
	}
	if c.MinExpires < 0 || c.MaxExpires < c.MinExpires {
		add("min_expires, max_expires: need 0 <= min (%s) <= max (%s)",
			c.MinExpires, c.MaxExpires)
	}
	if c.MaxMessageBytes < 1024 {
		add("max_message_bytes: %d is below 1024", c.MaxMessageBytes)
	}
	if c.NonceTTL < time.Second {
		add("nonce_ttl: %s is below 1s", c.NonceTTL)
	}

	return errors.Join(errs...)
}
