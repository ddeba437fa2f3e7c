package conf

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Bounds of the numeric settings.
const (
	minMessageBytes = 1024
	maxMessageBytes = 1 << 20
	minBodyBytes    = 1024
	maxRedirects    = 20
	minTokenLen     = 16
	maxNodeIDLen    = 64
)

var (
	logLevels       = []string{"debug", "info", "warn", "error"}
	logFormats      = []string{"text", "json"}
	overloadCodes   = []int{503, 486}
	redisURLSchemes = []string{"redis", "rediss"}
	digestAlgs      = []string{"SHA-256", "MD5"}
)

// Validate reports every problem of c at once, joined; nil when c is
// usable. Each problem is a *FieldError naming the key, the value and why.
// Validate reads the TLS files when SIP.TLSListen is set.
func (c *Config) Validate() error {
	return errors.Join(c.validate()...)
}

// checker collects FieldErrors in the order the checks run.
type checker struct{ errs []error }

func (ck *checker) check(key, value, reason string) {
	if reason != "" {
		ck.errs = append(ck.errs, invalid(key, shown(key, value), reason))
	}
}

func (c *Config) validate() []error {
	ck := &checker{}
	ck.check("data_dir", c.DataDir, nonEmpty(c.DataDir))
	ck.check("public_addr", c.PublicAddr, checkPublicAddr(c.PublicAddr))
	ck.check("admin_token", c.AdminToken, checkToken(c.AdminToken))
	ck.check("redis_url", c.RedisURL, checkRedisURL(c.RedisURL))
	ck.check("log.level", c.Log.Level, oneOf(c.Log.Level, logLevels))
	ck.check("log.format", c.Log.Format, oneOf(c.Log.Format, logFormats))
	c.SIP.validate(ck)
	ck.check("api.listen", c.API.Listen, checkHostPort(c.API.Listen))
	ck.check("api.max_body_bytes", itoa(c.API.MaxBodyBytes),
		inRange(c.API.MaxBodyBytes, minBodyBytes, 1<<40))
	ck.check("api.requests_per_second", itoa(c.API.RequestsPerSecond),
		inRange(c.API.RequestsPerSecond, 0, 1<<30))
	c.Media.validate(ck)
	c.Webhooks.validate(ck)
	ck.check("calls.drain_timeout", c.Calls.DrainTimeout.String(),
		notNegative(c.Calls.DrainTimeout))
	ck.check("calls.overload_status", itoa(c.Calls.OverloadStatus),
		oneOf(c.Calls.OverloadStatus, overloadCodes))
	ck.check("accounting.heartbeat", c.Accounting.Heartbeat.String(),
		positive(c.Accounting.Heartbeat))
	ck.check("accounting.node_id", c.Accounting.NodeID, checkNodeID(c.Accounting.NodeID))
	c.checkClashes(ck)

	return ck.errs
}

func (s *SIP) validate(ck *checker) {
	switch {
	case s.Listen != "":
		ck.check("sip.listen", s.Listen, checkHostPort(s.Listen))
	case s.TLSListen == "" && s.WSListen == "":
		ck.check("sip.listen", s.Listen, "must be set unless sip.tls_listen or sip.ws_listen is")
	}
	if s.TLSListen != "" {
		ck.check("sip.tls_listen", s.TLSListen, checkHostPort(s.TLSListen))
		certErr := readable(s.TLSCertFile)
		keyErr := readable(s.TLSKeyFile)
		ck.check("sip.tls_cert_file", s.TLSCertFile, certErr)
		ck.check("sip.tls_key_file", s.TLSKeyFile, keyErr)
		if certErr == "" && keyErr == "" {
			ck.check("sip.tls_cert_file", s.TLSCertFile, checkKeyPair(s.TLSCertFile, s.TLSKeyFile))
		}
	}
	if s.WSListen != "" {
		ck.check("sip.ws_listen", s.WSListen, checkHostPort(s.WSListen))
	}
	ck.check("sip.max_message_bytes", itoa(s.MaxMessageBytes),
		inRange(s.MaxMessageBytes, minMessageBytes, maxMessageBytes))
	ck.check("sip.registration_min_expires", s.RegistrationMinExpires.String(),
		wholeSeconds(s.RegistrationMinExpires))
	reason := wholeSeconds(s.RegistrationMaxExpires)
	if reason == "" && s.RegistrationMaxExpires < s.RegistrationMinExpires {
		reason = "must not be below sip.registration_min_expires"
	}
	ck.check("sip.registration_max_expires", s.RegistrationMaxExpires.String(), reason)
	ck.check("sip.nonce_ttl", s.NonceTTL.String(), positive(s.NonceTTL))
	ck.check("sip.nonce_secret", s.NonceSecret, checkToken(s.NonceSecret))
	ck.check("sip.ring_timeout", s.RingTimeout.String(), positive(s.RingTimeout))
	ck.check("sip.trunk_timeout", s.TrunkTimeout.String(), positive(s.TrunkTimeout))
	ck.check("sip.cache_ttl", s.CacheTTL.String(), notNegative(s.CacheTTL))
	ck.check("sip.digest_algorithms", strings.Join(s.DigestAlgorithms, ","),
		checkDigestAlgorithms(s.DigestAlgorithms))
	s.Guard.validate(ck)
}

// checkDigestAlgorithms wants at least one known algorithm, each once.
func checkDigestAlgorithms(algs []string) string {
	if len(algs) == 0 {
		return "must list SHA-256, MD5 or both"
	}
	for i, a := range algs {
		if reason := oneOf(a, digestAlgs); reason != "" {
			return reason
		}
		if slices.Contains(algs[:i], a) {
			return a + " is listed twice"
		}
	}

	return ""
}

func (g *SIPGuard) validate(ck *checker) {
	reason := ""
	if !(g.RequestsPerSecond >= 0) {
		reason = "must not be negative"
	}
	ck.check("sip.guard.requests_per_second",
		strconv.FormatFloat(g.RequestsPerSecond, 'g', -1, 64), reason)
	ck.check("sip.guard.burst", itoa(g.Burst), inRange(g.Burst, 1, 1<<30))
	ck.check("sip.guard.auth_failures", itoa(g.AuthFailures), inRange(g.AuthFailures, 0, 1<<30))
	ck.check("sip.guard.auth_window", g.AuthWindow.String(), positive(g.AuthWindow))
	ck.check("sip.guard.ban_duration", g.BanDuration.String(), positive(g.BanDuration))
	ck.check("sip.guard.max_sources", itoa(g.MaxSources), inRange(g.MaxSources, 1, 1<<30))
}

func (m *Media) validate(ck *checker) {
	ck.check("media.ports", m.Ports.String(), m.Ports.check())
	ck.check("media.public_addr", addrText(m.PublicAddr), checkMediaAddr(m.PublicAddr, m.BindAddr))
	ck.check("media.timeout", m.Timeout.String(), positive(m.Timeout))
	ck.check("media.quarantine", m.Quarantine.String(), notNegative(m.Quarantine))
}

func (w *Webhooks) validate(ck *checker) {
	ck.check("webhooks.connect_timeout", w.ConnectTimeout.String(), positive(w.ConnectTimeout))
	reason := positive(w.Timeout)
	if reason == "" && w.Timeout < w.ConnectTimeout {
		reason = "must not be below webhooks.connect_timeout"
	}
	ck.check("webhooks.timeout", w.Timeout.String(), reason)
	ck.check("webhooks.max_redirects", itoa(w.MaxRedirects),
		inRange(w.MaxRedirects, 0, maxRedirects))
	ck.check("webhooks.max_response_bytes", itoa(w.MaxResponseBytes),
		inRange(w.MaxResponseBytes, 1, 1<<40))
	ck.check("webhooks.retry_max", itoa(w.RetryMax), inRange(w.RetryMax, 0, 1000))
}

// derive fills the settings whose default depends on others.
func (c *Config) derive() {
	host, _, err := net.SplitHostPort(c.SIP.Listen)
	if err != nil || checkHost(host) != "" {
		host = ""
	}
	listenIP, _ := netip.ParseAddr(host)
	if c.PublicAddr == "" {
		c.PublicAddr = defaultFallbackAddr
		if host != "" && !listenIP.IsUnspecified() {
			c.PublicAddr = host
		}
	}
	if !c.Media.BindAddr.IsValid() {
		c.Media.BindAddr = netip.IPv4Unspecified()
		if listenIP.IsValid() && listenIP.Zone() == "" {
			c.Media.BindAddr = listenIP
		}
	}
	if !c.Media.PublicAddr.IsValid() {
		if a, err := netip.ParseAddr(c.PublicAddr); err == nil && a.Zone() == "" {
			c.Media.PublicAddr = a
		}
	}
}

func itoa[T int | int64](n T) string { return strconv.FormatInt(int64(n), 10) }

func nonEmpty(s string) string {
	if strings.TrimSpace(s) == "" {
		return "must not be empty"
	}

	return ""
}

func oneOf[T comparable](v T, allowed []T) string {
	if slices.Contains(allowed, v) {
		return ""
	}
	names := make([]string, len(allowed))
	for i, a := range allowed {
		names[i] = fmt.Sprint(a)
	}

	return "must be one of " + strings.Join(names, ", ")
}

func inRange[T int | int64](n, lo, hi T) string {
	if n < lo || n > hi {
		return fmt.Sprintf("must be within %d-%d", lo, hi)
	}

	return ""
}

func positive(d time.Duration) string {
	if d <= 0 {
		return "must be above zero"
	}

	return ""
}

func notNegative(d time.Duration) string {
	if d < 0 {
		return "must not be negative"
	}

	return ""
}

func wholeSeconds(d time.Duration) string {
	switch {
	case d < time.Second:
		return "must be at least 1s"
	case d%time.Second != 0:
		return "must be whole seconds (SIP Expires is in seconds)"
	}

	return ""
}
