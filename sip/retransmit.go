package sip

import (
	"bytes"
	"context"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	sipmsg "github.com/emiago/sipgo/sip"
)

// Bounds of the cache of answered REGISTER and OPTIONS transactions.
const (
	// retransTTL is how long a final response is kept for retransmissions:
	// 64*T1, Timer J of a non-INVITE server transaction over UDP (RFC 3261
	// 17.2.2), after which the client has given up (Timer F) anyway.
	retransTTL = 64 * 500 * time.Millisecond

	// retransMaxEntries bounds the number of cached responses.
	retransMaxEntries = 200_000

	// retransMaxBytes bounds the cached bytes (responses, keys and the
	// per-entry bookkeeping estimated by retransEntryOverhead), about
	// 50,000 answers of 400 bytes: at 20,000 answers a second the last
	// ~2.5 s, which covers a client's first retransmissions (T1 = 500 ms,
	// then 1 s, 2 s).
	retransMaxBytes = 32 << 20

	// retransEntryOverhead estimates the memory of one entry besides its
	// response and key bytes: the map slot at its load factor, the order
	// slot, slice headers and size-class rounding (measured by
	// BenchmarkRetransCacheFootprint).
	retransEntryOverhead = 256

	// retransMaxResponse is the largest response kept: the size under
	// which RFC 3261 18.1.1 lets a UDP message go out without fragmenting
	// on a 1500-byte path. Larger answers are still sent, just not kept.
	retransMaxResponse = 1300

	// retransSweepEvery is the least interval between two sweeps of expired
	// entries by the timer.
	retransSweepEvery = time.Second
)

// retransCache keeps the serialized final responses of recently answered
// transactions that the edge ends at once (REGISTER and OPTIONS over UDP,
// see dropTx), so that a retransmitted request gets the same bytes again
// instead of being processed anew (RFC 3261 17.2.1, 17.2.2). Entries are
// keyed by what RFC 3261 17.2.3 matches a request to its transaction on:
// the top Via's branch and sent-by, and the method. They live for ttl and
// are evicted oldest first beyond maxEntries or maxBytes. Its methods are
// safe for concurrent use. A timer sweeps expired entries while any are
// held; it stops when the cache is empty or when ctx is done, after which
// the cache keeps nothing.
type retransCache struct {
	ttl        time.Duration
	maxEntries int
	maxBytes   int
	ctx        context.Context
	epoch      time.Time
	clock      func() time.Duration // time since epoch; monotonic
	bufs       sync.Pool            // *bytes.Buffer for serializing responses

	// mu guards the fields below it.
	mu      sync.Mutex
	entries map[string]retransEntry
	order   []retransSlot // insertion (hence expiry) order; live part from head
	head    int
	bytes   int
	seq     uint64
	timer   *time.Timer // pending sweep; nil when none
}

// retransEntry is one cached response. src is the address the request
// came from and the response went to; only a retransmission from the same
// address is absorbed.
type retransEntry struct {
	res     []byte
	src     netip.AddrPort
	expires time.Duration // since epoch
	seq     uint64
}

// retransSlot records the insertion order; seq tells a slot whose key has
// since been stored again (and so lives in a later slot) from the current
// one.
type retransSlot struct {
	key     string
	seq     uint64
	expires time.Duration
}

// newRetransCache returns an empty cache with the given bounds, emptied
// for good once ctx is done.
func newRetransCache(ctx context.Context, ttl time.Duration,
	maxEntries, maxBytes int) *retransCache {
	c := &retransCache{ttl: ttl, maxEntries: maxEntries, maxBytes: maxBytes, ctx: ctx,
		epoch: time.Now(), entries: make(map[string]retransEntry)}
	c.clock = func() time.Duration { return time.Since(c.epoch) }
	c.bufs.New = func() any { return new(bytes.Buffer) }

	return c
}

// appendRetransKey appends the transaction key of req (RFC 3261 17.2.3:
// top Via branch, sent-by host and port, method) to dst. It reports false
// for requests that cannot be matched that way: no Via, or a branch
// without the RFC 3261 magic cookie (an RFC 2543 client).
func appendRetransKey(dst []byte, req *sipmsg.Request) ([]byte, bool) {
	via := req.Via()
	if via == nil {
		return dst, false
	}
	branch, ok := via.Params.Get("branch")
	if !ok || len(branch) <= len(sipmsg.RFC3261BranchMagicCookie) ||
		!strings.HasPrefix(branch, sipmsg.RFC3261BranchMagicCookie) {
		return dst, false
	}
	port := via.Port
	if port <= 0 {
		port = sipmsg.DefaultPort(via.Transport)
	}
	dst = append(dst, branch...)
	dst = append(dst, 0)
	dst = append(dst, strings.ToLower(via.Host)...)
	dst = append(dst, 0)
	dst = strconv.AppendInt(dst, int64(port), 10)
	dst = append(dst, 0)
	dst = append(dst, req.Method...)

	return dst, true
}

// lookup returns the cached response for key when it is live and was
// answered to src. The returned bytes are shared and must not be changed.
func (c *retransCache) lookup(key []byte, src netip.AddrPort) ([]byte, bool) {
	now := c.clock()
	c.mu.Lock()
	e, ok := c.entries[string(key)]
	c.mu.Unlock()
	if !ok || e.expires <= now || e.src != src {
		return nil, false
	}

	return e.res, true
}

// store keeps a copy of res, the serialized final response sent to src,
// under key. Responses above retransMaxResponse, or larger than the whole
// byte budget, are not kept.
func (c *retransCache) store(key []byte, src netip.AddrPort, res []byte) {
	if c.ctx.Err() != nil || len(res) > retransMaxResponse {
		return
	}
	c.put(string(key), src, bytes.Clone(res))
}

// entrySize is what an entry counts against maxBytes.
func entrySize(key string, res []byte) int {
	return len(key) + len(res) + retransEntryOverhead
}

// put inserts an entry, evicting expired and then oldest entries to stay
// within the bounds.
func (c *retransCache) put(key string, src netip.AddrPort, res []byte) {
	size := entrySize(key, res)
	if size > c.maxBytes || c.maxEntries <= 0 {
		return
	}
	now := c.clock()
	exp := now + c.ttl
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.entries[key]; ok {
		c.bytes -= entrySize(key, old.res)
		delete(c.entries, key)
	}
	c.evictLocked(now)
	for len(c.entries) >= c.maxEntries || c.bytes+size > c.maxBytes {
		if !c.popLocked() {
			break
		}
	}
	c.seq++
	c.entries[key] = retransEntry{res: res, src: src, expires: exp, seq: c.seq}
	c.order = append(c.order, retransSlot{key: key, seq: c.seq, expires: exp})
	c.bytes += size
	if c.timer == nil {
		c.timer = time.AfterFunc(c.ttl, c.sweep)
	}
}

// evictLocked drops the entries expired at now.
func (c *retransCache) evictLocked(now time.Duration) {
	for c.head < len(c.order) && c.order[c.head].expires <= now {
		c.popLocked()
	}
}

// popLocked drops the oldest slot and its entry, if still current. It
// reports false when no slot is left.
func (c *retransCache) popLocked() bool {
	if c.head >= len(c.order) {
		return false
	}
	s := c.order[c.head]
	c.order[c.head] = retransSlot{}
	c.head++
	if e, ok := c.entries[s.key]; ok && e.seq == s.seq {
		c.bytes -= entrySize(s.key, e.res)
		delete(c.entries, s.key)
	}
	switch {
	case c.head == len(c.order):
		c.order, c.head = c.order[:0], 0
	case c.head > 4096 && c.head > len(c.order)/2:
		n := copy(c.order, c.order[c.head:])
		clear(c.order[n:])
		c.order, c.head = c.order[:n], 0
	}

	return true
}

// sweep runs on the timer: it drops expired entries and schedules itself
// for the next expiry, or releases everything when the cache is empty or
// its context is done.
func (c *retransCache) sweep() {
	now := c.clock()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ctx.Err() != nil {
		c.entries, c.order, c.head, c.bytes = make(map[string]retransEntry), nil, 0, 0
		c.timer = nil
		return
	}
	c.evictLocked(now)
	if len(c.entries) == 0 {
		// A fresh map and slice return the memory of a burst.
		c.entries, c.order, c.head = make(map[string]retransEntry), nil, 0
		c.timer = nil
		return
	}
	c.timer.Reset(max(c.order[c.head].expires-now, retransSweepEvery))
}

// size returns the number of entries and the bytes counted against
// maxBytes.
func (c *retransCache) size() (entries, bytes int) {
	c.mu.Lock()
	defer c.mu.Unlock()

	return len(c.entries), c.bytes
}

// absorbed resends the cached final response when r retransmits a
// REGISTER or OPTIONS answered recently over UDP, and reports whether it
// did; r then needs no processing. Otherwise it remembers r's key so that
// send caches r's final response.
func (s *Server) absorbed(r *request) bool {
	if r.transport != "udp" || s.retrans == nil {
		return false
	}
	key, ok := appendRetransKey(r.keyBuf[:0], r.req)
	if !ok {
		return false
	}
	res, hit := s.retrans.lookup(key, r.source)
	if !hit {
		r.retransKey = key
		return false
	}
	s.m.absorbed.WithLabelValues(string(r.req.Method)).Inc()
	if uc := s.udpConn(); uc != nil {
		if _, err := uc.WriteToUDPAddrPort(res, r.source); err != nil {
			s.log.Debug("resend failed", "method", string(r.req.Method), "error", err)
		}
	}

	return true
}

// sendRemembered answers r with res and caches it when r is a request
// that absorbed retransmissions can match: res is serialized once, sent
// from the UDP listening socket to r's source and kept. The transaction
// then ends (dropTx) without having seen the response; a resend that
// meets it first is dropped by it, and the client's next one is absorbed.
// It reports false, having sent nothing, when res cannot go this way
// (provisional, above sipgo's UDP limit, addressed elsewhere, no UDP
// listener); send then uses the transaction.
func (s *Server) sendRemembered(r *request, res *sipmsg.Response) bool {
	if r.retransKey == nil || res.IsProvisional() {
		return false
	}
	dst, err := netip.ParseAddrPort(res.Destination())
	if err != nil || netip.AddrPortFrom(dst.Addr().Unmap(), dst.Port()) != r.source {
		return false
	}
	uc := s.udpConn()
	if uc == nil {
		return false
	}
	buf := s.retrans.bufs.Get().(*bytes.Buffer)
	defer s.retrans.bufs.Put(buf)
	buf.Reset()
	res.StringWrite(buf)
	if buf.Len() > retransMaxResponse {
		return false
	}
	if _, err := uc.WriteToUDPAddrPort(buf.Bytes(), r.source); err != nil {
		s.log.Debug("respond failed", "method", string(r.req.Method), "error", err)
		return true
	}
	s.retrans.store(r.retransKey, r.source, buf.Bytes())

	return true
}

// udpConn returns the UDP listening socket, nil when there is none.
func (s *Server) udpConn() *net.UDPConn {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, l := range s.listeners {
		if l.transport == "udp" {
			uc, _ := l.closer.(*net.UDPConn)
			return uc
		}
	}

	return nil
}
