package conf

import (
	"net"
	"net/netip"
	"strconv"
)

// listener is one TCP listen address of the settings, by key.
type listener struct {
	key, addr string
}

// checkClashes reports listeners that would compete for one port: two
// TCP listeners on the same port of overlapping hosts, and a media port
// range holding the SIP UDP port. Port 0 (any free port) never clashes.
func (c *Config) checkClashes(ck *checker) {
	tcp := []listener{
		{"sip.listen", c.SIP.Listen}, {"sip.tls_listen", c.SIP.TLSListen},
		{"sip.ws_listen", c.SIP.WSListen}, {"api.listen", c.API.Listen},
	}
	for i, l := range tcp {
		for _, earlier := range tcp[:i] {
			if sharePort(l.addr, earlier.addr) {
				ck.check(l.key, l.addr, "uses the same TCP port as "+earlier.key)

				break
			}
		}
	}
	if _, port, ok := splitListen(c.SIP.Listen); ok && port != 0 &&
		c.Media.Ports.Min <= port && port <= c.Media.Ports.Max {
		ck.check("media.ports", c.Media.Ports.String(),
			"holds the SIP port "+strconv.Itoa(port)+" of sip.listen")
	}
}

// sharePort reports whether listeners at a and b would bind one port:
// the same non-zero port on the same host, or on hosts of which one is
// all interfaces.
func sharePort(a, b string) bool {
	hostA, portA, okA := splitListen(a)
	hostB, portB, okB := splitListen(b)
	if !okA || !okB || portA == 0 || portA != portB {
		return false
	}

	return hostA == hostB || wildcard(hostA) || wildcard(hostB)
}

// splitListen parses a valid host:port; ok is false for anything else.
func splitListen(s string) (host string, port int, ok bool) {
	if s == "" || checkHostPort(s) != "" {
		return "", 0, false
	}
	host, p, err := net.SplitHostPort(s)
	if err != nil {
		return "", 0, false
	}
	port, err = strconv.Atoi(p)

	return host, port, err == nil
}

// wildcard reports whether a listen host means every interface.
func wildcard(host string) bool {
	a, err := netip.ParseAddr(host)

	return host == "" || (err == nil && a.IsUnspecified())
}
