package conf

import (
	"log/slog"
	"net/netip"
	"slices"
	"time"
)

// Config is the whole of Patchbay's settings. The zero value is not usable;
// start from Default, Load or Parse. A Config is plain data: it is safe to
// read from several goroutines, and nothing in it changes after loading.
//
// Each field's YAML key is its tag; the environment variable is PATCHBAY_
// followed by the upper-case dotted path with dots as underscores.
type Config struct {
	// DataDir is the folder for the SQLite database (patchbay.db) and the
	// generated admin token (./data). It is created when missing.
	DataDir string `yaml:"data_dir"`

	// PublicAddr is the IP address or host name that peers use to reach
	// this node, put in Via, Contact and Record-Route, and in SDP unless
	// Media.PublicAddr is set. When empty it is the host of SIP.Listen, or
	// 127.0.0.1 when that host is unspecified or empty.
	PublicAddr string `yaml:"public_addr"`

	// AdminToken is the operator's credential for the REST API (empty: read
	// <data_dir>/admin_token, generating it on first start). At least 16
	// characters, no white space. It is never printed by conf.
	AdminToken string `yaml:"admin_token"`

	// RedisURL, when set, is a redis:// or rediss:// URL of the shared
	// state of a cluster (empty: single node, state in memory).
	RedisURL string `yaml:"redis_url"`

	Log        Log        `yaml:"log"`
	SIP        SIP        `yaml:"sip"`
	API        API        `yaml:"api"`
	Media      Media      `yaml:"media"`
	Webhooks   Webhooks   `yaml:"webhooks"`
	Calls      Calls      `yaml:"calls"`
	Accounting Accounting `yaml:"accounting"`
}

// Log configures the process logger.
type Log struct {
	// Level is the lowest level written: debug, info, warn or error (info).
	Level string `yaml:"level"`

	// Format is text (key=value lines) or json (text).
	Format string `yaml:"format"`
}

// SIP configures the signalling edge.
type SIP struct {
	// Listen is the host:port of the UDP and TCP transports (0.0.0.0:5060;
	// empty: off, allowed when TLSListen or WSListen is set).
	Listen string `yaml:"listen"`

	// TLSListen is the host:port of the TLS transport (empty: off).
	TLSListen string `yaml:"tls_listen"`

	// TLSCertFile and TLSKeyFile are PEM files of the TLS certificate chain
	// and its key; both required, and readable, when TLSListen is set.
	TLSCertFile string `yaml:"tls_cert_file"`
	TLSKeyFile  string `yaml:"tls_key_file"`

	// WSListen is the host:port of the WebSocket transport (empty: off).
	WSListen string `yaml:"ws_listen"`

	// MaxMessageBytes is the largest SIP message accepted, in bytes (65535).
	MaxMessageBytes int `yaml:"max_message_bytes"`

	// RegistrationMinExpires is the shortest registration granted; shorter
	// requests get 423 Interval Too Brief (60s, whole seconds).
	RegistrationMinExpires time.Duration `yaml:"registration_min_expires"`

	// RegistrationMaxExpires caps the registration granted (3600s, whole
	// seconds).
	RegistrationMaxExpires time.Duration `yaml:"registration_max_expires"`

	// NonceTTL is how long a digest challenge's nonce stays valid (30s).
	NonceTTL time.Duration `yaml:"nonce_ttl"`

	// TrustedSources are networks exempt from rate limits and bans, as
	// CIDRs; a bare address means that address alone (empty).
	TrustedSources []netip.Prefix `yaml:"trusted_sources"`

	// AuthExemptSources are networks whose REGISTERs and device calls into
	// a known domain are accepted without digest authentication, for an
	// SBC in front that authenticates on Patchbay's behalf (empty). The
	// account is still found by domain and admitted as usual. Keep it
	// empty unless such a front exists.
	AuthExemptSources []netip.Prefix `yaml:"auth_exempt_sources"`

	// CacheTTL is how long the SIP edge reuses directory answers (domains,
	// accounts, services, limits, credentials, access lists, trunks);
	// changes made through the API take effect within it (2s; 0: no cache).
	CacheTTL time.Duration `yaml:"cache_ttl"`

	// NonceSecret keys the stateless digest nonces; the nodes of a cluster
	// share it so that each accepts the others' nonces (empty: random per
	// process). At least 16 characters when set. It is never printed.
	NonceSecret string `yaml:"nonce_secret"`

	// DigestAlgorithms are the digest algorithms challenged with, in
	// order (SHA-256, MD5; RFC 8760). Phones that read only the first
	// challenge and know only MD5 (and sipp 3.6) need MD5 first or alone.
	DigestAlgorithms []string `yaml:"digest_algorithms"`

	// RingTimeout is how long a forked INVITE may ring before its branches
	// are cancelled, Timer C of RFC 3261 section 16.6 (180s).
	RingTimeout time.Duration `yaml:"ring_timeout"`

	// TrunkTimeout is how long a trunk's origination target may take to
	// send its first response before the next target is tried (4s).
	TrunkTimeout time.Duration `yaml:"trunk_timeout"`

	Guard SIPGuard `yaml:"guard"`
}

// SIPGuard limits what each source address may send to the SIP edge.
// Sources in SIP.TrustedSources are exempt.
type SIPGuard struct {
	// RequestsPerSecond is the sustained request rate per source (50;
	// 0: no rate limit).
	RequestsPerSecond float64 `yaml:"requests_per_second"`

	// Burst is how many requests a source may send at once above the
	// sustained rate (200).
	Burst int `yaml:"burst"`

	// AuthFailures bans a source after this many failed authentications
	// within AuthWindow (10; 0: no bans).
	AuthFailures int `yaml:"auth_failures"`

	// AuthWindow is the period over which failed authentications count
	// (60s).
	AuthWindow time.Duration `yaml:"auth_window"`

	// BanDuration is how long a banned source is ignored (60s).
	BanDuration time.Duration `yaml:"ban_duration"`

	// MaxSources bounds the number of sources tracked at once, so memory
	// stays bounded under forged source addresses (100000).
	MaxSources int `yaml:"max_sources"`
}

// API configures the HTTP listener of the REST API, health and metrics.
type API struct {
	// Listen is the host:port of the HTTP listener (127.0.0.1:8080).
	Listen string `yaml:"listen"`

	// MaxBodyBytes caps a request body, in bytes (65536).
	MaxBodyBytes int64 `yaml:"max_body_bytes"`

	// RequestsPerSecond caps each account's API requests per second
	// (0: no cap).
	RequestsPerSecond int `yaml:"requests_per_second"`
}

// Media configures the RTP relay.
type Media struct {
	// Ports is the UDP port range of RTP and RTCP ("10000-20000"). Both ends
	// are even, within 1024-65534, start below end.
	Ports PortRange `yaml:"ports"`

	// BindAddr is the local IP address media sockets bind to. When unset
	// it is the host of SIP.Listen when that is an IP address, else the
	// unspecified address 0.0.0.0 (every interface).
	BindAddr netip.Addr `yaml:"bind_addr"`

	// PublicAddr is the IP address written into rewritten SDP (c= and o=
	// lines). When unset it is Config.PublicAddr, which must then be an IP
	// address rather than a host name.
	PublicAddr netip.Addr `yaml:"public_addr"`

	// Timeout ends a relayed call after this long without media (30s).
	Timeout time.Duration `yaml:"timeout"`

	// Quarantine keeps a released port pair unused this long, so late
	// packets of one call never reach the next (2s).
	Quarantine time.Duration `yaml:"quarantine"`
}

// Webhooks configures the HTTP client that calls tenant applications.
type Webhooks struct {
	// ConnectTimeout bounds dialling and the TLS handshake (5s).
	ConnectTimeout time.Duration `yaml:"connect_timeout"`

	// Timeout bounds one whole request, body included (15s).
	Timeout time.Duration `yaml:"timeout"`

	// MaxRedirects is how many redirects are followed (3; 0: none).
	MaxRedirects int `yaml:"max_redirects"`

	// MaxResponseBytes caps a response body, in bytes (1048576).
	MaxResponseBytes int64 `yaml:"max_response_bytes"`

	// RetryMax is how many times a failed status callback is retried (10).
	RetryMax int `yaml:"retry_max"`

	// DenyNetworks are networks tenant URLs must not reach, checked on the
	// resolved address of every connection (169.254.0.0/16 and fe80::/10,
	// where cloud metadata services answer). Operators hosting untrusted
	// tenants add loopback and the private ranges.
	DenyNetworks []netip.Prefix `yaml:"deny_networks"`
}

// Calls configures call control.
type Calls struct {
	// DrainTimeout is how long SIGTERM waits for live calls and requests to
	// end before closing them (30s; 0: close at once).
	DrainTimeout time.Duration `yaml:"drain_timeout"`

	// OverloadStatus is the SIP status refusing calls beyond capacity or
	// while draining: 503 or 486 (503).
	OverloadStatus int `yaml:"overload_status"`
}

// Accounting configures usage metering.
type Accounting struct {
	// Heartbeat is how often live calls' usage is checkpointed (5s).
	Heartbeat time.Duration `yaml:"heartbeat"`

	// NodeID names this node in CDRs and shared state (the host name).
	// Letters, digits, '.', '_' and '-', at most 64.
	NodeID string `yaml:"node_id"`
}

// SlogLevel is Level as a slog.Level; an unknown level reads as info.
func (l Log) SlogLevel() slog.Level {
	switch l.Level {
	case "debug":
		return slog.LevelDebug
	case "warn":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	}

	return slog.LevelInfo
}

// Redacted returns a copy of c fit for display: the admin token and the
// nonce secret replaced by "(hidden)" when set, the Redis URL without its
// password and query. The copy shares no slices with c.
func (c *Config) Redacted() *Config {
	r := *c
	r.SIP.TrustedSources = slices.Clone(c.SIP.TrustedSources)
	r.SIP.AuthExemptSources = slices.Clone(c.SIP.AuthExemptSources)
	r.Webhooks.DenyNetworks = slices.Clone(c.Webhooks.DenyNetworks)
	r.SIP.DigestAlgorithms = slices.Clone(c.SIP.DigestAlgorithms)
	if r.AdminToken != "" {
		r.AdminToken = hiddenValue
	}
	if r.SIP.NonceSecret != "" {
		r.SIP.NonceSecret = hiddenValue
	}
	if r.RedisURL != "" {
		r.RedisURL = shown("redis_url", c.RedisURL)
	}

	return &r
}
