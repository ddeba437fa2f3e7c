package sip

import (
	"net"
	"net/netip"
	"sync"
	"time"
)

// limitedListener bounds what one source may hold on a stream listener
// (TCP, the TCP under TLS, WebSocket): connections beyond perSource from
// one address are closed as soon as they are accepted, before any byte is
// read, so that one host cannot exhaust the server's file descriptors
// (trusted sources are exempt); and a connection on which nothing arrives
// for idle is closed, so that silent or half-sent connections do not pile
// up. It is safe for concurrent use.
type limitedListener struct {
	net.Listener
	perSource int           // 0: no bound
	idle      time.Duration // 0: no timeout
	trusted   func(netip.Addr) bool
	refused   func() // counts a connection closed for its source's limit

	// mu guards open.
	mu   sync.Mutex
	open map[netip.Addr]int
}

// Accept returns the next connection whose source is within its limit.
func (l *limitedListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		ip := remoteIP(c)
		if l.perSource <= 0 || l.trusted(ip) {
			return &limitedConn{Conn: c, idle: l.idle}, nil
		}
		if l.take(ip) {
			return &limitedConn{Conn: c, idle: l.idle, release: func() { l.release(ip) }}, nil
		}
		l.refused()
		c.Close()
	}
}

func (l *limitedListener) take(ip netip.Addr) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open[ip] >= l.perSource {
		return false
	}
	l.open[ip]++

	return true
}

func (l *limitedListener) release(ip netip.Addr) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open[ip]--; l.open[ip] <= 0 {
		delete(l.open, ip)
	}
}

// limitedConn renews its idle deadline before each read and gives its
// source's slot back once, on the first Close.
type limitedConn struct {
	net.Conn
	idle    time.Duration
	once    sync.Once
	release func() // nil: the source holds no slot
}

// Read reads, failing with a timeout once nothing arrived for idle. A
// read that fails ends the connection's use, so its source's slot is given
// back then, not only on Close: sipgo does not always close a connection
// whose peer went away.
func (c *limitedConn) Read(b []byte) (int, error) {
	if c.idle > 0 {
		if err := c.Conn.SetReadDeadline(time.Now().Add(c.idle)); err != nil {
			c.free()

			return 0, err
		}
	}
	n, err := c.Conn.Read(b)
	if err != nil {
		c.free()
	}

	return n, err
}

// free gives the source's slot back, once.
func (c *limitedConn) free() {
	if c.release != nil {
		c.once.Do(c.release)
	}
}

// Close closes the connection and frees its source's slot.
func (c *limitedConn) Close() error {
	c.free()

	return c.Conn.Close()
}

// remoteIP is the connection's source address, unmapped.
func remoteIP(c net.Conn) netip.Addr {
	if ap, err := netip.ParseAddrPort(c.RemoteAddr().String()); err == nil {
		return ap.Addr().Unmap()
	}

	return netip.Addr{}
}
