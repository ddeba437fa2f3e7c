package conf

import (
	"crypto/tls"
	"errors"
	"net"
	"net/netip"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"
)

// checkHostPort returns why s is not a listen address host:port, or "".
// The host may be empty (all interfaces), an IP address or a host name;
// port 0 asks the system for a free port.
func checkHostPort(s string) string {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return `not a host:port such as "127.0.0.1:8080" or "[::1]:8080"`
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 0 || n > 65535 || port[0] == '+' || port[0] == '-' {
		return "port must be a number within 0-65535"
	}
	if host == "" {
		return ""
	}

	return checkHost(host)
}

// checkHost returns why s is neither an IP address nor a host name, or "".
func checkHost(s string) string {
	if _, err := netip.ParseAddr(s); err == nil {
		return ""
	}
	if !isHostName(s) {
		return "must be an IP address or a host name"
	}

	return ""
}

// isHostName reports whether s is a DNS host name (RFC 1123 section 2.1):
// dot-separated labels of letters, digits and inner hyphens, 1-63 bytes
// each, 253 bytes at most, whose last label is not all digits.
func isHostName(s string) bool {
	s = strings.TrimSuffix(s, ".")
	if s == "" || len(s) > 253 {
		return false
	}
	labels := strings.Split(s, ".")
	for _, l := range labels {
		if len(l) == 0 || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, r := range l {
			ok := r == '-' || '0' <= r && r <= '9' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z'
			if !ok {
				return false
			}
		}
	}
	_, err := strconv.Atoi(labels[len(labels)-1])

	return err != nil
}

// checkPublicAddr returns why s cannot be advertised to peers, or "".
func checkPublicAddr(s string) string {
	if s == "" {
		return "must not be empty"
	}
	if reason := checkHost(s); reason != "" {
		return "must be an IP address or a host name, without a port"
	}
	if a, err := netip.ParseAddr(s); err == nil && a.IsUnspecified() {
		return "must not be an unspecified address; give the address peers reach"
	}

	return ""
}

// checkMediaAddr returns why pub cannot be advertised in SDP for media
// bound to bind, or "".
func checkMediaAddr(pub, bind netip.Addr) string {
	switch {
	case !pub.IsValid():
		return "must be set to an IP address when public_addr (by default the sip.listen host) is a host name"
	case pub.IsUnspecified():
		return "must not be an unspecified address; give the address peers reach"
	case bind.Is4() && pub.Is6(), bind.Is6() && !bind.IsUnspecified() && pub.Is4():
		return "must be of the IP family of media.bind_addr " + bind.String()
	}

	return ""
}

// addrText is a for messages, "" when unset.
func addrText(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}

	return a.String()
}

// checkToken returns why the admin token is too weak, or "". Empty is
// allowed: the binary then generates one.
func checkToken(s string) string {
	switch {
	case s == "":
		return ""
	case len(s) < minTokenLen:
		return "must be at least 16 characters"
	case strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f }):
		return "must not contain spaces or control characters"
	}

	return ""
}

// checkRedisURL returns why s is not a usable Redis URL, or "".
func checkRedisURL(s string) string {
	if s == "" {
		return ""
	}
	u, err := url.Parse(s)
	if err != nil || !slices.Contains(redisURLSchemes, u.Scheme) {
		return `must be a redis:// or rediss:// URL such as "redis://localhost:6379/0"`
	}
	if u.Host == "" {
		return "must name a host"
	}
	if port := u.Port(); port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return "port must be a number within 1-65535"
		}
	}
	if db := strings.TrimPrefix(u.Path, "/"); db != "" {
		if n, err := strconv.Atoi(db); err != nil || n < 0 {
			return "path must be a database number such as /0"
		}
	}
	// The client's own parser also checks the query options.
	if _, err := redis.ParseURL(s); err != nil {
		return strings.TrimPrefix(err.Error(), "redis: ")
	}

	return ""
}

// checkNodeID returns why s cannot name a node, or "".
func checkNodeID(s string) string {
	if s == "" || len(s) > maxNodeIDLen {
		return "must be 1-64 characters"
	}
	for _, r := range s {
		ok := r == '-' || r == '_' || r == '.' || '0' <= r && r <= '9' ||
			'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z'
		if !ok {
			return "may hold only letters, digits, '.', '_' and '-'"
		}
	}

	return ""
}

// readable returns why the file cannot be read, or "".
func readable(name string) string {
	if name == "" {
		return "required when sip.tls_listen is set"
	}
	f, err := os.Open(name)
	if err != nil {
		return "cannot be read: " + errReason(err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.IsDir() {
		return "is a folder, not a file"
	}

	return ""
}

// checkKeyPair returns why the certificate and key do not form a pair.
func checkKeyPair(cert, key string) string {
	if _, err := tls.LoadX509KeyPair(cert, key); err != nil {
		return "certificate and sip.tls_key_file do not load as a pair: " + err.Error()
	}

	return ""
}

// errReason is the cause of a file error without the path it repeats.
func errReason(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}

	return err.Error()
}
