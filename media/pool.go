package media

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"syscall"
	"time"
)

// portPool hands out even/odd UDP port pairs from a fixed range. A
// released pair goes to the back of a FIFO stamped with its release
// time and is handed out again only after the quarantine, so late
// packets of one call never reach the next. It is safe for concurrent
// use.
type portPool struct {
	bind       netip.Addr
	quarantine time.Duration
	now        func() time.Time

	// mu guards free and inUse.
	mu    sync.Mutex
	free  []pooledPort
	inUse int
}

type pooledPort struct {
	port     int
	released time.Time
}

func newPortPool(bind netip.Addr, lo, hi int, quarantine time.Duration) *portPool {
	p := &portPool{bind: bind, quarantine: quarantine, now: time.Now}
	for port := firstEven(lo); port+1 <= hi; port += 2 {
		p.free = append(p.free, pooledPort{port: port})
	}

	return p
}

// socketPair is the RTP socket and the RTCP socket (port+1) of one
// stream side. rtcp is nil when the side was acquired for rtcp-mux
// (RFC 5761): the pool still reserves port+1 for it.
type socketPair struct {
	port int
	rtp  *net.UDPConn
	rtcp *net.UDPConn
}

// acquire reserves the next pair out of quarantine and binds its RTP
// port, and its RTCP port unless rtcpMux says the side multiplexes
// RTCP. Pairs whose bound ports are taken by another process are
// skipped and requeued. It returns ErrNoPorts when every pair is in use
// or quarantined, and wrapped with the system's error when the process
// may open no more files (EMFILE, ENFILE). The pair stays reserved, both
// ports, until release.
func (p *portPool) acquire(rtcpMux bool) (socketPair, error) {
	p.mu.Lock()
	attempts := len(p.free)
	p.mu.Unlock()
	for range attempts {
		port, ok := p.take()
		if !ok {
			break
		}
		pair, err := p.bindPair(port, rtcpMux)
		if err == nil {
			return pair, nil
		}
		p.release(port)
		switch {
		case errors.Is(err, syscall.EMFILE), errors.Is(err, syscall.ENFILE):
			return socketPair{}, fmt.Errorf("%w: %w", ErrNoPorts, err)
		case !errors.Is(err, syscall.EADDRINUSE):
			return socketPair{}, err
		}
	}

	return socketPair{}, ErrNoPorts
}

func (p *portPool) take() (int, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.free) == 0 {
		return 0, false
	}
	head := p.free[0]
	if !head.released.IsZero() && p.now().Sub(head.released) < p.quarantine {
		return 0, false
	}
	p.free = p.free[1:]
	p.inUse++

	return head.port, true
}

// release puts port back at the tail of the queue, quarantined.
func (p *portPool) release(port int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.free = append(p.free, pooledPort{port: port, released: p.now()})
	p.inUse--
}

func (p *portPool) bindPair(port int, rtcpMux bool) (socketPair, error) {
	rtp, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(p.bind,
		uint16(port))))
	if err != nil {
		return socketPair{}, fmt.Errorf("media: bind rtp port %d: %w", port, err)
	}
	if rtcpMux {
		return socketPair{port: port, rtp: rtp}, nil
	}
	rtcp, err := p.bindRTCP(port)
	if err != nil {
		_ = rtp.Close()

		return socketPair{}, err
	}

	return socketPair{port: port, rtp: rtp, rtcp: rtcp}, nil
}

// bindRTCP binds port+1 of a pair the caller holds, at acquire or when
// a leg stops multiplexing RTCP. It fails when another process took the
// port meanwhile (syscall.EADDRINUSE in the chain).
func (p *portPool) bindRTCP(port int) (*net.UDPConn, error) {
	c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(p.bind,
		uint16(port+1))))
	if err != nil {
		return nil, fmt.Errorf("media: bind rtcp port %d: %w", port+1, err)
	}

	return c, nil
}

// counts reports the pairs in use and the pairs free or quarantined.
func (p *portPool) counts() (inUse, free int) {
	p.mu.Lock()
	defer p.mu.Unlock()

	return p.inUse, len(p.free)
}
