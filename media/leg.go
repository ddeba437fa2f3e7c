package media

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
)

// maxPacket bounds one datagram; srtpRoom is space for an SRTP or SRTCP
// trailer added on the way out.
const (
	maxPacket = 1500
	srtpRoom  = 64
)

// legConn is Patchbay's side of one stream facing one endpoint: an RTP
// socket and, unless the leg multiplexes RTCP (RFC 5761), an RTCP
// socket on port+1; the address media goes to, the address it latched
// to, and the leg's SRTP state. One goroutine per socket reads into its
// own reused buffers; packets are forwarded to peer, the legConn facing
// the other endpoint, which may be nil (endpoint mode).
//
// The pool reserves port and port+1 for the leg's whole life whether
// or not the RTCP socket is bound. The RTCP socket is bound at acquire
// unless the leg's rtcp-mux was already settled, closed when an
// offer/answer commits rtcp-mux for the leg, and bound again
// (ensureRTCP) when a later one drops it; both changes happen under the
// session's mu.
type legConn struct {
	sess *Session
	leg  Leg
	port int
	rtp  *net.UDPConn
	// rtcp is the RTCP socket; nil while the leg multiplexes RTCP.
	rtcp atomic.Pointer[rtcpSocket]
	peer atomic.Pointer[legConn]

	// dst and dstRTCP are where RTP and RTCP go; signalled by SDP, then
	// replaced by the latched source (symmetric RTP). nil: nowhere yet.
	dst     atomic.Pointer[netip.AddrPort]
	dstRTCP atomic.Pointer[netip.AddrPort]
	// src and srcRTCP are the latched sources; nil until the first
	// packet after each offer/answer, strict afterwards.
	src     atomic.Pointer[netip.AddrPort]
	srcRTCP atomic.Pointer[netip.AddrPort]

	mux    atomic.Bool
	clock  atomic.Uint32
	tevPT  atomic.Int32
	codec  atomic.Pointer[string]
	sec    atomic.Pointer[legSecurity]
	cnt    legCounters
	rtt    rttRing
	wg     sync.WaitGroup
	closed atomic.Bool
}

// legSecurity holds one leg's SRTP contexts. in* decrypt what the
// endpoint sends, with the endpoint's key, and are used only by this
// leg's reader goroutines; out* encrypt towards the endpoint with
// Patchbay's key and are shared by every sender under outMu.
type legSecurity struct {
	remote, local cryptoAttr
	inRTP, inRTCP *srtp.Context
	inHdr         rtp.Header
	inRTCPHdr     rtcp.Header

	// outMu guards outRTP, outRTCP and the scratch headers.
	outMu      sync.Mutex
	outRTP     *srtp.Context
	outRTCP    *srtp.Context
	outHdr     rtp.Header
	outRTCPHdr rtcp.Header
}

func newLegSecurity(remote, local cryptoAttr, prev *legSecurity) (*legSecurity, error) {
	ls := &legSecurity{remote: remote, local: local}
	if prev != nil && prev.remote.equal(remote) {
		ls.inRTP, ls.inRTCP = prev.inRTP, prev.inRTCP
	} else {
		var err error
		if ls.inRTP, err = remote.srtpContext(true); err != nil {
			return nil, err
		}
		if ls.inRTCP, err = remote.srtpContext(true); err != nil {
			return nil, err
		}
	}
	if prev != nil && prev.local.equal(local) {
		ls.outRTP, ls.outRTCP = prev.outRTP, prev.outRTCP

		return ls, nil
	}
	var err error
	if ls.outRTP, err = local.srtpContext(false); err != nil {
		return nil, err
	}
	if ls.outRTCP, err = local.srtpContext(false); err != nil {
		return nil, err
	}

	return ls, nil
}

// rtcpSocket is a leg's RTCP socket; done is closed when its reader
// returned.
type rtcpSocket struct {
	conn *net.UDPConn
	done chan struct{}
}

func newLegConn(s *Session, leg Leg, pair socketPair) *legConn {
	l := &legConn{sess: s, leg: leg, port: pair.port, rtp: pair.rtp}
	l.clock.Store(8000)
	l.tevPT.Store(-1)
	l.wg.Add(1)
	go l.readLoop(pair.rtp, false)
	if pair.rtcp != nil {
		l.startRTCP(pair.rtcp)
	}

	return l
}

func (l *legConn) startRTCP(c *net.UDPConn) {
	rs := &rtcpSocket{conn: c, done: make(chan struct{})}
	l.rtcp.Store(rs)
	l.wg.Add(1)
	go func() {
		defer close(rs.done)
		l.readLoop(c, true)
	}()
}

// ensureRTCP binds the leg's RTCP port again when the leg stopped
// multiplexing RTCP; it does nothing when the socket is bound. It fails
// with ErrNoPorts when another process took port+1 meanwhile. The
// caller holds the session's mu.
func (l *legConn) ensureRTCP() error {
	if l.rtcp.Load() != nil {
		return nil
	}
	c, err := l.sess.e.pool.bindRTCP(l.port)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrNoPorts, err)
	}
	l.startRTCP(c)

	return nil
}

// dropRTCP closes the leg's RTCP socket once rtcp-mux is committed, and
// returns after its reader ended; packets still queued on it are
// discarded. Port+1 stays reserved in the pool. The caller holds the
// session's mu.
func (l *legConn) dropRTCP() {
	rs := l.rtcp.Swap(nil)
	if rs == nil {
		return
	}
	_ = rs.conn.Close()
	<-rs.done
}

// signal points the leg at a newly signalled address and forgets the
// latch, so the next packet latches again (re-latching happens only on
// a new offer/answer). An invalid addr (c=0.0.0.0 or port 0) stops
// sending until the endpoint sends to us.
func (l *legConn) signal(rtpAddr, rtcpAddr netip.AddrPort, mux bool) {
	l.mux.Store(mux)
	l.src.Store(nil)
	l.srcRTCP.Store(nil)
	if rtpAddr.IsValid() && !rtpAddr.Addr().IsUnspecified() && rtpAddr.Port() != 0 {
		l.dst.Store(&rtpAddr)
	} else {
		l.dst.Store(nil)
	}
	if rtcpAddr.IsValid() && !rtcpAddr.Addr().IsUnspecified() && rtcpAddr.Port() != 0 {
		l.dstRTCP.Store(&rtcpAddr)
	} else {
		l.dstRTCP.Store(nil)
	}
}

func (l *legConn) readLoop(conn *net.UDPConn, isRTCPSocket bool) {
	defer l.wg.Done()
	defer l.sess.e.recoverLoop("media_read")
	buf := make([]byte, maxPacket)
	plain := make([]byte, maxPacket+srtpRoom)
	out := make([]byte, maxPacket+srtpRoom)
	var rs recvState
	var ds dtmfState
	for {
		n, from, err := conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if l.closed.Load() || errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		from = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
		pkt := buf[:n]
		switch {
		case isRTCPSocket && l.mux.Load():
			// With rtcp-mux the RTP reader owns RTCP (and its SRTCP
			// context); stray packets on the RTCP port are dropped.
			l.cnt.dropOther.Add(1)
		case isRTCPSocket:
			l.handleRTCP(pkt, from, &l.srcRTCP, &l.dstRTCP, plain, out)
		case l.mux.Load() && isRTCP(pkt):
			l.handleRTCP(pkt, from, &l.src, &l.dst, plain, out)
		default:
			l.handleRTP(pkt, from, plain, out, &rs, &ds)
		}
	}
}

// admit applies latching before a packet is processed: once a source
// is latched, packets from any other source are dropped and counted.
// It reports whether the packet may go on and whether it would latch.
func (l *legConn) admit(from netip.AddrPort, src *atomic.Pointer[netip.AddrPort]) (ok,
	latch bool) {
	p := src.Load()
	if p == nil {
		return true, true
	}
	if *p == from {
		return true, false
	}
	l.cnt.dropSource.Add(1)

	return false, false
}

// latch binds the leg to from after the first packet that passed
// (authenticated, for SRTP) since the last offer/answer; media is sent
// back there from now on (symmetric RTP).
func latch(from netip.AddrPort, src, dst *atomic.Pointer[netip.AddrPort]) {
	latched := from
	src.Store(&latched)
	dst.Store(&latched)
}

func (l *legConn) handleRTP(pkt []byte, from netip.AddrPort, plain, out []byte,
	rs *recvState, ds *dtmfState) {
	ok, first := l.admit(from, &l.src)
	if !ok {
		return
	}
	size := len(pkt)
	if sec := l.sec.Load(); sec != nil {
		dec, err := sec.inRTP.DecryptRTP(plain, pkt, &sec.inHdr)
		if err != nil {
			l.countCryptoDrop(err)

			return
		}
		pkt = dec
	}
	h, err := parseRTP(pkt)
	if err != nil {
		l.cnt.dropOther.Add(1)

		return
	}
	if first {
		latch(from, &l.src, &l.dst)
	}
	now := l.sess.e.nanotime()
	l.cnt.pktsIn.Add(1)
	l.cnt.bytesIn.Add(uint64(size))
	rs.update(h, now, l.clock.Load(), &l.cnt)
	l.sess.lastRTP.Store(now)
	l.deliver(h, pkt, now, out, ds)
}

// deliver hands an accepted plain RTP packet to the DTMF detector and
// the recorder when they want it, then to the local end (leg A in
// endpoint mode) or the peer leg.
func (l *legConn) deliver(h rtpHeader, pkt []byte, now int64, out []byte, ds *dtmfState) {
	if int32(h.pt) == l.tevPT.Load() {
		if ev, ok := ds.observe(h, pkt[h.payload:h.end]); ok {
			l.sess.emitDTMF(l.leg, ev, "rfc4733")
		}
	}
	if rec := l.sess.rec.Load(); rec != nil {
		rec.tap(l.leg == LegA, h, pkt[h.payload:h.end], now)
	}
	if l.leg == LegA && l.sess.local.Load() != nil {
		return
	}
	peer := l.peer.Load()
	if peer == nil {
		l.cnt.dropOther.Add(1)

		return
	}
	peer.sendRTP(pkt, out)
}

// sendRTP sends a plain RTP packet to the endpoint, protecting it first
// when the leg is SRTP. out is the caller's scratch buffer.
func (l *legConn) sendRTP(pkt, out []byte) {
	dst := l.dst.Load()
	if dst == nil {
		l.cnt.dropOther.Add(1)

		return
	}
	if sec := l.sec.Load(); sec != nil {
		sec.outMu.Lock()
		enc, err := sec.outRTP.EncryptRTP(out, pkt, &sec.outHdr)
		sec.outMu.Unlock()
		if err != nil {
			l.cnt.dropOther.Add(1)

			return
		}
		pkt = enc
	}
	if _, err := l.rtp.WriteToUDPAddrPort(pkt, *dst); err != nil {
		l.cnt.dropOther.Add(1)

		return
	}
	l.cnt.pktsOut.Add(1)
	l.cnt.bytesOut.Add(uint64(len(pkt)))
}

func (l *legConn) handleRTCP(pkt []byte, from netip.AddrPort,
	src, dst *atomic.Pointer[netip.AddrPort], plain, out []byte) {
	ok, first := l.admit(from, src)
	if !ok {
		return
	}
	if sec := l.sec.Load(); sec != nil {
		dec, err := sec.inRTCP.DecryptRTCP(plain, pkt, &sec.inRTCPHdr)
		if err != nil {
			l.countCryptoDrop(err)

			return
		}
		pkt = dec
	}
	info, err := walkRTCP(pkt)
	if err != nil {
		l.cnt.dropOther.Add(1)

		return
	}
	if first {
		latch(from, src, dst)
	}
	now := l.sess.e.nanotime()
	l.cnt.rtcpIn.Add(1)
	for _, b := range info.blocks[:info.nblocks] {
		if d := l.rtt.rtt(b, now); d > 0 {
			l.cnt.rttNs.Store(int64(d))
		}
	}
	peer := l.peer.Load()
	if peer == nil || (l.leg == LegA && l.sess.local.Load() != nil) {
		return
	}
	if info.srNTP != 0 {
		peer.rtt.note(info.srNTP, now)
	}
	peer.sendRTCP(pkt, out)
}

// sendRTCP sends a plain RTCP compound packet to the endpoint, on the
// RTP port when rtcp-mux is in use, as SRTCP when the leg is SRTP.
func (l *legConn) sendRTCP(pkt, out []byte) {
	conn, dst := l.rtp, l.dst.Load()
	if !l.mux.Load() {
		rs := l.rtcp.Load()
		if rs == nil {
			return
		}
		conn, dst = rs.conn, l.dstRTCP.Load()
	}
	if dst == nil {
		return
	}
	if sec := l.sec.Load(); sec != nil {
		sec.outMu.Lock()
		enc, err := sec.outRTCP.EncryptRTCP(out, pkt, &sec.outRTCPHdr)
		sec.outMu.Unlock()
		if err != nil {
			l.cnt.dropOther.Add(1)

			return
		}
		pkt = enc
	}
	if _, err := conn.WriteToUDPAddrPort(pkt, *dst); err == nil {
		l.cnt.rtcpOut.Add(1)
	}
}

// countCryptoDrop classifies an SRTP failure as replay or
// authentication; the packet is dropped either way, never logged.
func (l *legConn) countCryptoDrop(err error) {
	if strings.Contains(err.Error(), "duplicated") {
		l.cnt.dropReplay.Add(1)

		return
	}
	l.cnt.dropAuth.Add(1)
}

// close stops the readers, drains what the kernel still queued, and
// returns the pair (both ports, whether or not port+1 was bound) to the
// pool, where it is quarantined.
func (l *legConn) close(pool *portPool) int {
	if !l.closed.CompareAndSwap(false, true) {
		return 0
	}
	past := time.Unix(1, 0)
	rs := l.rtcp.Swap(nil)
	_ = l.rtp.SetReadDeadline(past)
	if rs != nil {
		_ = rs.conn.SetReadDeadline(past)
	}
	l.wg.Wait()
	drained := drain(l.rtp)
	_ = l.rtp.Close()
	if rs != nil {
		drained += drain(rs.conn)
		_ = rs.conn.Close()
	}
	pool.release(l.port)

	return drained
}

// drain reads and discards what is still queued on c, waiting at most
// a millisecond for more.
func drain(c *net.UDPConn) int {
	var buf [maxPacket]byte
	n := 0
	_ = c.SetReadDeadline(time.Now().Add(time.Millisecond))
	for {
		if _, _, err := c.ReadFromUDPAddrPort(buf[:]); err != nil {
			return n
		}
		n++
	}
}

func (l *legConn) snapshotInto(s *LegStats) {
	l.cnt.addTo(s)
	if s.Codec == "" {
		if c := l.codec.Load(); c != nil {
			s.Codec = *c
		}
	}
	if sec := l.sec.Load(); sec != nil {
		s.SRTP, s.CryptoSuite = true, sec.local.suite.name
	}
	if p := l.src.Load(); p != nil && !s.Latched.IsValid() {
		s.Latched = *p
	}
}
