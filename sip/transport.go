package sip

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strconv"
	"time"

	sipmsg "github.com/emiago/sipgo/sip"

	"github.com/patchbay/patchbay/sip/guard"
)

// listener is one bound socket of the server.
type listener struct {
	transport string // "udp", "tcp", "tls", "ws"
	addr      net.Addr
	closer    io.Closer
	port      int
}

// Start binds every configured listener and serves them until Close or
// until ctx is cancelled. It returns once all sockets are bound, or the
// first bind error (after releasing what was bound).
func (s *Server) Start(ctx context.Context) error {
	if s.closed.Load() {
		return ErrClosed
	}
	if !s.started.CompareAndSwap(false, true) {
		return ErrStarted
	}
	if err := s.bindAll(); err != nil {
		s.closeListeners()
		return err
	}
	if err := s.setPublic(); err != nil {
		s.closeListeners()
		return err
	}
	s.serveAll()
	s.awaitUDPPool()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		select {
		case <-ctx.Done():
			go s.Close()
		case <-s.ctx.Done():
		}
	}()

	return nil
}

// bindAll opens the sockets without serving them yet.
func (s *Server) bindAll() error {
	if s.cfg.Listen != "" {
		if err := s.bindUDPTCP(); err != nil {
			return err
		}
	}
	if s.cfg.TLSListen != "" {
		cert, err := tls.LoadX509KeyPair(s.cfg.TLSCertFile, s.cfg.TLSKeyFile)
		if err != nil {
			return fmt.Errorf("sip: tls_cert_file, tls_key_file: %w", err)
		}
		conf := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		raw, err := net.Listen("tcp", s.cfg.TLSListen)
		if err != nil {
			return fmt.Errorf("sip: listen tls %s: %w", s.cfg.TLSListen, err)
		}
		tl := framedListener{tls.NewListener(s.limitSources(raw), conf)}
		s.addListener("tls", tl.Addr(), tl)
	}
	if s.cfg.WSListen != "" {
		wl, err := net.Listen("tcp", s.cfg.WSListen)
		if err != nil {
			return fmt.Errorf("sip: listen ws %s: %w", s.cfg.WSListen, err)
		}
		s.addListener("ws", wl.Addr(), s.limitSources(wl))
	}

	return nil
}

// limitSources applies Config.MaxConnsPerSource (sources the guard trusts
// are exempt) and Config.IdleTimeout to a stream listener.
func (s *Server) limitSources(l net.Listener) net.Listener {
	return &limitedListener{Listener: l, perSource: max(s.cfg.MaxConnsPerSource, 0),
		idle: max(s.cfg.IdleTimeout, 0), trusted: s.guard.Trusted,
		refused: func() { s.m.guardDrops.WithLabelValues("connection_limit").Inc() },
		open:    make(map[netip.Addr]int)}
}

// udpSocketBuffer is the receive and send buffer asked for the UDP socket.
const udpSocketBuffer = 4 << 20

// bindUDPTCP binds UDP and TCP on Listen. With port 0 both get the same
// ephemeral port, so that one host:port serves both (tests rely on it).
func (s *Server) bindUDPTCP() error {
	host, port, _ := net.SplitHostPort(s.cfg.Listen)
	for attempt := 0; ; attempt++ {
		pc, err := net.ListenPacket("udp", s.cfg.Listen)
		if err != nil {
			return fmt.Errorf("sip: listen udp %s: %w", s.cfg.Listen, err)
		}
		if uc, ok := pc.(*net.UDPConn); ok {
			// Bursts of thousands of datagrams a second overflow the default
			// socket buffers; the kernel caps these at net.core.*mem_max.
			uc.SetReadBuffer(udpSocketBuffer)
			uc.SetWriteBuffer(udpSocketBuffer)
		}
		tcpAddr := s.cfg.Listen
		if port == "0" {
			_, p, _ := net.SplitHostPort(pc.LocalAddr().String())
			tcpAddr = net.JoinHostPort(host, p)
		}
		tl, err := net.Listen("tcp", tcpAddr)
		if err != nil {
			pc.Close()
			if port == "0" && attempt < 8 {
				continue
			}
			return fmt.Errorf("sip: listen tcp %s: %w", tcpAddr, err)
		}
		s.addListener("udp", pc.LocalAddr(), pc)
		s.addListener("tcp", tl.Addr(), framedListener{s.limitSources(tl)})
		return nil
	}
}

func (s *Server) addListener(transport string, addr net.Addr, c io.Closer) {
	_, p, _ := net.SplitHostPort(addr.String())
	port, _ := strconv.Atoi(p)
	s.mu.Lock()
	s.listeners = append(s.listeners,
		listener{transport: transport, addr: addr, closer: c, port: port})
	s.mu.Unlock()
}

// setPublic picks the host advertised in Via and Record-Route.
func (s *Server) setPublic() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cfg.PublicAddr != "" {
		s.public = s.cfg.PublicAddr
		return nil
	}
	host, _, _ := net.SplitHostPort(s.listeners[0].addr.String())
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		return fmt.Errorf("%w: public_addr: required when listening on %s", ErrConfig, host)
	}
	s.public = host

	return nil
}

// serveAll hands the bound sockets to sipgo's transport layer.
func (s *Server) serveAll() {
	tp := s.ua.TransportLayer()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, l := range s.listeners {
		var serve func() error
		switch l.transport {
		case "udp":
			gate := &udpGate{PacketConn: l.closer.(net.PacketConn)}
			serve = func() error { return tp.ServeUDP(gate) }
		case "tcp":
			nl := l.closer.(net.Listener)
			serve = func() error { return tp.ServeTCP(nl) }
		case "tls":
			nl := l.closer.(net.Listener)
			serve = func() error { return tp.ServeTLS(nl) }
		case "ws":
			nl := l.closer.(net.Listener)
			serve = func() error { return tp.ServeWS(nl) }
		}
		s.wg.Add(1)
		go func(transport string) {
			defer s.wg.Done()
			err := serve()
			if err != nil && !errors.Is(err, net.ErrClosed) && !s.closed.Load() {
				s.log.Error("listener stopped", "transport", transport, "error", err)
			}
		}(l.transport)
	}
}

// awaitUDPPool waits (up to a second) until sipgo has registered the UDP
// listener as a connection, so that requests sent right after Start go out
// from the listening socket rather than failing to bind it again.
func (s *Server) awaitUDPPool() {
	a := s.Addr("udp")
	if a == nil {
		return
	}
	pool := s.ua.TransportLayer().Pool("udp")
	for i := 0; i < 1000 && pool.Get(a.String()) == nil; i++ {
		time.Sleep(time.Millisecond)
	}
}

// closeListeners closes every bound socket once.
func (s *Server) closeListeners() error {
	s.mu.Lock()
	ls := s.listeners
	s.mu.Unlock()
	var errs []error
	for _, l := range ls {
		if err := l.closer.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			errs = append(errs, fmt.Errorf("sip: close %s listener: %w", l.transport, err))
		}
	}

	return errors.Join(errs...)
}

// listenPort returns our port for transport, 0 when not listening.
func (s *Server) listenPort(transport string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, l := range s.listeners {
		if l.transport == transport {
			return l.port
		}
	}

	return 0
}

// publicHost returns the advertised host.
func (s *Server) publicHost() string {
	s.mu.Lock()
	defer s.mu.Unlock()

	return s.public
}

// readFilter drops, before parsing, datagrams larger than MaxMessageBytes
// and datagrams the guard refuses (rate limited or banned sources), without
// an answer. Stream transports are bounded by the parser's MaxMessageLength
// and guarded per request in dispatch instead.
func (s *Server) readFilter(p sipmsg.TransportReadProps, data []byte) ([]byte, error) {
	if p.Transport != "UDP" {
		return data, nil
	}
	if len(data) > s.cfg.MaxMessageBytes {
		return nil, nil
	}
	if ua, ok := p.RemoteAddr.(*net.UDPAddr); ok && len(data) > 4 {
		ip, _ := netip.AddrFromSlice(ua.IP)
		if v := s.guard.Check(ip); v != guard.Allow {
			s.m.guardDrops.WithLabelValues(v.String()).Inc()
			return nil, nil
		}
	}

	return data, nil
}

// strayResponse counts responses that match no client transaction (late
// retransmissions); they are dropped.
func (s *Server) strayResponse(res *sipmsg.Response) {
	s.m.requests.WithLabelValues("stray_response", classLabel(int(res.StatusCode))).Inc()
}
