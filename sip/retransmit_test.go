package sip

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	sipmsg "github.com/emiago/sipgo/sip"

	"github.com/patchbay/patchbay/tenancy"
)

// fakeClock is a settable monotonic clock for the cache.
type fakeClock struct {
	mu  sync.Mutex
	now time.Duration
}

func (f *fakeClock) get() time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()

	return f.now
}

func (f *fakeClock) add(d time.Duration) {
	f.mu.Lock()
	f.now += d
	f.mu.Unlock()
}

func newTestRetransCache(t *testing.T, ttl time.Duration, entries, bytes int) (
	*retransCache, *fakeClock) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	c := newRetransCache(ctx, ttl, entries, bytes)
	clk := &fakeClock{}
	c.clock = clk.get

	return c, clk
}

// TestRetransCache covers lookup, expiry, the source check and both bounds.
func TestRetransCache(t *testing.T) {
	src := netip.MustParseAddrPort("127.0.0.1:5070")
	other := netip.MustParseAddrPort("127.0.0.1:5071")
	res := func(i int) []byte { return []byte("SIP/2.0 200 OK #" + strconv.Itoa(i)) }
	key := func(i int) string { return "z9hG4bK" + strconv.Itoa(i) + "\x00h\x005060\x00REGISTER" }
	type step struct {
		put     int           // store key(put) with res(put); -1: none
		advance time.Duration // clock advance before the lookups
	}
	cases := []struct {
		name       string
		entries    int
		bytes      int
		steps      []step
		src        netip.AddrPort
		wantHit    []int // keys that must hit, with their own response
		wantMiss   []int
		wantLen    int
		wantMaxLen int
	}{
		{name: "hit", entries: 10, bytes: 1 << 20, steps: []step{{put: 1}}, src: src,
			wantHit: []int{1}, wantMiss: []int{2}, wantLen: 1},
		{name: "other source is a miss", entries: 10, bytes: 1 << 20,
			steps: []step{{put: 1}}, src: other, wantMiss: []int{1}, wantLen: 1},
		{name: "expired", entries: 10, bytes: 1 << 20,
			steps: []step{{put: 1}, {put: -1, advance: 32 * time.Second}}, src: src,
			wantMiss: []int{1}, wantLen: 1},
		{name: "alive just before expiry", entries: 10, bytes: 1 << 20,
			steps: []step{{put: 1}, {put: -1, advance: 31 * time.Second}}, src: src,
			wantHit: []int{1}, wantLen: 1},
		{name: "expired entries evicted by a later put", entries: 10, bytes: 1 << 20,
			steps: []step{{put: 1}, {put: 2}, {put: 3, advance: 40 * time.Second}}, src: src,
			wantHit: []int{3}, wantMiss: []int{1, 2}, wantLen: 1},
		{name: "entry bound evicts oldest", entries: 2, bytes: 1 << 20,
			steps: []step{{put: 1}, {put: 2}, {put: 3}}, src: src,
			wantHit: []int{2, 3}, wantMiss: []int{1}, wantLen: 2},
		{name: "byte bound evicts oldest", entries: 100,
			bytes: 2 * entrySize(key(1), res(1)), steps: []step{{put: 1}, {put: 2}, {put: 3}},
			src: src, wantHit: []int{2, 3}, wantMiss: []int{1}, wantLen: 2},
		{name: "larger than the budget is not kept", entries: 100, bytes: 10,
			steps: []step{{put: 1}}, src: src, wantMiss: []int{1}, wantLen: 0},
		{name: "same key stored again replaces", entries: 2, bytes: 1 << 20,
			steps: []step{{put: 1}, {put: 1}, {put: 2}}, src: src,
			wantHit: []int{1, 2}, wantLen: 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, clk := newTestRetransCache(t, 32*time.Second, tc.entries, tc.bytes)
			for _, s := range tc.steps {
				clk.add(s.advance)
				if s.put >= 0 {
					c.put(key(s.put), src, res(s.put))
				}
			}
			for _, i := range tc.wantHit {
				got, ok := c.lookup([]byte(key(i)), tc.src)
				if !ok || !bytes.Equal(got, res(i)) {
					t.Errorf("key %d: %q %v, want %q", i, got, ok, res(i))
				}
			}
			for _, i := range tc.wantMiss {
				if got, ok := c.lookup([]byte(key(i)), tc.src); ok {
					t.Errorf("key %d: hit %q, want miss", i, got)
				}
			}
			n, b := c.size()
			if n != tc.wantLen {
				t.Errorf("entries %d, want %d", n, tc.wantLen)
			}
			if b > tc.bytes {
				t.Errorf("bytes %d above the bound %d", b, tc.bytes)
			}
		})
	}
}

// TestRetransCacheSweep: the timer drops expired entries without traffic,
// and a done context empties the cache for good.
func TestRetransCacheSweep(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	c := newRetransCache(ctx, 20*time.Millisecond, 10, 1<<20)
	src := netip.MustParseAddrPort("127.0.0.1:5070")
	c.put("a", src, []byte("x"))
	waitSize(t, c, 0)
	c.mu.Lock()
	timer := c.timer
	c.mu.Unlock()
	if timer != nil {
		t.Fatal("sweep timer still set on an empty cache")
	}

	c.put("b", src, []byte("y"))
	cancel()
	c.put("c", src, []byte("z"))
	waitSize(t, c, 0)
	if _, ok := c.lookup([]byte("c"), src); ok {
		t.Fatal("stored after the context was done")
	}
}

func waitSize(t *testing.T, c *retransCache, want int) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for {
		n, b := c.size()
		if n == want && (want != 0 || b == 0) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("cache holds %d entries (%d bytes), want %d", n, b, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestRetransCacheConcurrent runs puts and lookups from many goroutines
// (for -race) and checks the bounds hold afterwards.
func TestRetransCacheConcurrent(t *testing.T) {
	c, _ := newTestRetransCache(t, time.Minute, 500, 64<<10)
	src := netip.MustParseAddrPort("127.0.0.1:5070")
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 2000 {
				k := fmt.Sprintf("k%d-%d", g, i%700)
				c.put(k, src, []byte(k))
				if got, ok := c.lookup([]byte(k), src); ok && string(got) != k {
					t.Errorf("key %s: got %q", k, got)
					return
				}
			}
		}()
	}
	wg.Wait()
	n, b := c.size()
	if n == 0 || n > 500 || b > 64<<10 {
		t.Fatalf("entries %d, bytes %d: outside the bounds", n, b)
	}
}

// TestAppendRetransKey pins the RFC 3261 17.2.3 key.
func TestAppendRetransKey(t *testing.T) {
	cases := []struct {
		name   string
		via    string
		method string
		want   string
		ok     bool
	}{
		{name: "branch, sent-by, method", via: "SIP/2.0/UDP 10.0.0.1:5070;branch=z9hG4bKabc",
			method: "REGISTER", want: "z9hG4bKabc\x0010.0.0.1\x005070\x00REGISTER", ok: true},
		{name: "default port", via: "SIP/2.0/UDP Phone.Example;branch=z9hG4bKabc",
			method: "OPTIONS", want: "z9hG4bKabc\x00phone.example\x005060\x00OPTIONS", ok: true},
		{name: "RFC 2543 branch", via: "SIP/2.0/UDP 10.0.0.1:5070;branch=abc",
			method: "REGISTER"},
		{name: "cookie only", via: "SIP/2.0/UDP 10.0.0.1:5070;branch=z9hG4bK",
			method: "REGISTER"},
		{name: "no branch", via: "SIP/2.0/UDP 10.0.0.1:5070", method: "REGISTER"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			raw := tc.method + " sip:acme.test SIP/2.0\r\nVia: " + tc.via + "\r\n" +
				"From: <sip:a@acme.test>;tag=1\r\nTo: <sip:a@acme.test>\r\n" +
				"Call-ID: k\r\nCSeq: 1 " + tc.method + "\r\nContent-Length: 0\r\n\r\n"
			msg, err := sipmsg.ParseMessage([]byte(raw))
			if err != nil {
				t.Fatal(err)
			}
			got, ok := appendRetransKey(nil, msg.(*sipmsg.Request))
			if ok != tc.ok || string(got) != tc.want {
				t.Fatalf("got %q %v, want %q %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}

// udpClient is a raw UDP socket talking to the env's server.
type udpClient struct {
	t *testing.T
	c *net.UDPConn
}

func newUDPClient(t *testing.T, e *testEnv) *udpClient {
	t.Helper()
	c, err := net.DialUDP("udp", nil, e.srv.Addr("udp").(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })

	return &udpClient{t: t, c: c}
}

// exchange sends raw and returns the first datagram back.
func (u *udpClient) exchange(raw []byte) []byte {
	u.t.Helper()
	// A request resent within microseconds of the answer may meet sipgo's
	// transaction while dropTx ends it, and go unanswered; real clients
	// wait at least T1. Let the transaction end so the cache answers.
	time.Sleep(20 * time.Millisecond)
	if _, err := u.c.Write(raw); err != nil {
		u.t.Fatal(err)
	}
	buf := make([]byte, 4096)
	u.c.SetReadDeadline(time.Now().Add(3 * time.Second))
	n, err := u.c.Read(buf)
	if err != nil {
		u.t.Fatalf("no answer: %v", err)
	}

	return buf[:n]
}

func statusOfRaw(t *testing.T, raw []byte) int {
	t.Helper()
	if len(raw) < 12 || !bytes.HasPrefix(raw, []byte("SIP/2.0 ")) {
		t.Fatalf("not a response: %q", raw)
	}
	code, err := strconv.Atoi(string(raw[8:11]))
	if err != nil {
		t.Fatal(err)
	}

	return code
}

// TestRetransmittedRegisterAbsorbed: over real UDP, a REGISTER sent again
// with the same bytes gets the same 200 bytes, without a second binding
// change or a replay challenge; a new branch is processed anew.
func TestRetransmittedRegisterAbsorbed(t *testing.T) {
	e := newEnv(t)
	u := newUDPClient(t, e)
	chal := e.srv.auth.Challenges(tenancy.Realm, false)[1]
	nonce, opaque := param(chal, "nonce"), param(chal, "opaque")

	first := digestRegister("alice", nonce, opaque, 1, 1)
	res1 := u.exchange(first)
	if code := statusOfRaw(t, res1); code != 200 {
		t.Fatalf("first REGISTER: %d\n%s", code, res1)
	}
	b1, err := e.srv.Contacts(t.Context(), "alice@acme.test")
	if err != nil || len(b1) != 1 {
		t.Fatalf("bindings %v %v", b1, err)
	}
	for i := range 3 {
		again := u.exchange(first)
		if !bytes.Equal(again, res1) {
			t.Fatalf("retransmission %d answered\n%s\nwant the same bytes as\n%s", i, again, res1)
		}
	}
	b2, _ := e.srv.Contacts(t.Context(), "alice@acme.test")
	if len(b2) != 1 || !b2[0].Expires.Equal(b1[0].Expires) {
		t.Fatalf("binding changed by a retransmission: %+v, was %+v", b2, b1)
	}
	checks := []struct {
		name string
		m    float64
		want float64
	}{
		{"absorbed", metricValue(t, e.srv.m.absorbed.WithLabelValues("REGISTER")), 3},
		{"bound", metricValue(t, e.srv.m.registrations.WithLabelValues("bound")), 1},
		{"replay", metricValue(t, e.srv.m.authFailures.WithLabelValues("replay")), 0},
		{"2xx", metricValue(t, e.srv.m.requests.WithLabelValues("REGISTER", "2xx")), 1},
	}
	for _, c := range checks {
		if c.m != c.want {
			t.Errorf("%s: %v, want %v", c.name, c.m, c.want)
		}
	}

	// Another branch is a new transaction: nc=1 again is a replay.
	code := statusOfRaw(t, u.exchange(digestRegister("alice", nonce, opaque, 2, 1)))
	if code != 401 {
		t.Fatalf("new branch with a used nonce-count: %d, want 401", code)
	}
	code = statusOfRaw(t, u.exchange(digestRegister("alice", nonce, opaque, 3, 2)))
	if code != 200 {
		t.Fatalf("next nonce-count: %d, want 200", code)
	}
}

// TestRetransmissionAbsorbedOnlyFromSameSource: the same bytes from
// another address are processed, not answered from the cache.
func TestRetransmissionAbsorbedOnlyFromSameSource(t *testing.T) {
	e := newEnv(t)
	chal := e.srv.auth.Challenges(tenancy.Realm, false)[1]
	nonce, opaque := param(chal, "nonce"), param(chal, "opaque")
	raw := digestRegister("alice", nonce, opaque, 1, 1)
	if code := statusOfRaw(t, newUDPClient(t, e).exchange(raw)); code != 200 {
		t.Fatalf("first: %d", code)
	}
	if code := statusOfRaw(t, newUDPClient(t, e).exchange(raw)); code != 401 {
		t.Fatalf("same bytes from another port: %d, want a replay 401", code)
	}
	if v := metricValue(t, e.srv.m.absorbed.WithLabelValues("REGISTER")); v != 0 {
		t.Fatalf("absorbed %v, want 0", v)
	}
}

// TestRetransmittedChallengeAndOptions: the 401 to an unauthenticated
// REGISTER and the 200 to an OPTIONS come back byte for byte.
func TestRetransmittedChallengeAndOptions(t *testing.T) {
	cases := []struct {
		name   string
		raw    string
		method string
		code   int
	}{
		{name: "challenge", method: "REGISTER", code: 401,
			raw: "REGISTER sip:acme.test SIP/2.0\r\n" +
				"Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKchal;rport\r\n" +
				"From: <sip:alice@acme.test>;tag=1\r\nTo: <sip:alice@acme.test>\r\n" +
				"Call-ID: chal-1\r\nCSeq: 1 REGISTER\r\n" +
				"Contact: <sip:alice@127.0.0.1:5070>\r\nContent-Length: 0\r\n\r\n"},
		{name: "options", method: "OPTIONS", code: 200, raw: "OPTIONS sip:acme.test SIP/2.0\r\n" +
			"Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKopt;rport\r\n" +
			"From: <sip:alice@acme.test>;tag=1\r\nTo: <sip:acme.test>\r\n" +
			"Call-ID: opt-1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			u := newUDPClient(t, e)
			first := u.exchange([]byte(tc.raw))
			if code := statusOfRaw(t, first); code != tc.code {
				t.Fatalf("answer %d, want %d", code, tc.code)
			}
			if again := u.exchange([]byte(tc.raw)); !bytes.Equal(again, first) {
				t.Fatalf("retransmission answered\n%s\nwant\n%s", again, first)
			}
			if v := metricValue(t, e.srv.m.absorbed.WithLabelValues(tc.method)); v != 1 {
				t.Fatalf("absorbed %v, want 1", v)
			}
		})
	}
}

// BenchmarkRetransCache measures the work added to every REGISTER: the
// key, a missed lookup and keeping the serialized final response (the
// benchmark's own branch formatting included).
func BenchmarkRetransCache(b *testing.B) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := newRetransCache(ctx, retransTTL, retransMaxEntries, retransMaxBytes)
	msg, err := sipmsg.ParseMessage(digestRegister("alice", "n", "o", 1, 1))
	if err != nil {
		b.Fatal(err)
	}
	req := msg.(*sipmsg.Request)
	res := sipmsg.NewResponseFromRequest(req, 200, "OK", nil)
	res.AppendHeader(sipmsg.NewHeader("Contact", "<sip:alice@127.0.0.1:5070>;expires=300"))
	src := netip.MustParseAddrPort("127.0.0.1:5070")
	var buf [96]byte
	var out bytes.Buffer
	res.StringWrite(&out)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		via := req.Via()
		via.Params.Add("branch", "z9hG4bK"+strconv.Itoa(i))
		key, _ := appendRetransKey(buf[:0], req)
		if _, ok := c.lookup(key, src); ok {
			b.Fatal("unexpected hit")
		}
		c.store(key, src, out.Bytes())
	}
}

// TestRetransmissionNotCached: requests that cannot be matched as RFC 3261
// transactions (RFC 2543 branch) and requests over TCP, where clients do
// not retransmit, are processed each time and leave the cache empty.
func TestRetransmissionNotCached(t *testing.T) {
	options := func(branch string) []byte {
		return []byte("OPTIONS sip:acme.test SIP/2.0\r\n" +
			"Via: SIP/2.0/UDP 127.0.0.1:5070;branch=" + branch + ";rport\r\n" +
			"From: <sip:alice@acme.test>;tag=1\r\nTo: <sip:acme.test>\r\n" +
			"Call-ID: opt-2\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n")
	}
	cases := []struct {
		name      string
		transport string
		raw       []byte
	}{
		{name: "RFC 2543 branch over udp", transport: "udp", raw: options("rfc2543-1")},
		{name: "tcp", transport: "tcp", raw: options("z9hG4bKtcp")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			var answers [2][]byte
			if tc.transport == "udp" {
				u := newUDPClient(t, e)
				answers[0], answers[1] = u.exchange(tc.raw), u.exchange(tc.raw)
			} else {
				answers[0], answers[1] = tcpExchange(t, e, tc.raw)
			}
			for i, a := range answers {
				if code := statusOfRaw(t, a); code != 200 {
					t.Fatalf("answer %d: %d", i, code)
				}
			}
			if bytes.Equal(answers[0], answers[1]) {
				t.Fatal("second answer is the cached first one (same To tag)")
			}
			if v := metricValue(t, e.srv.m.absorbed.WithLabelValues("OPTIONS")); v != 0 {
				t.Fatalf("absorbed %v, want 0", v)
			}
			if n, _ := e.srv.retrans.size(); n != 0 {
				t.Fatalf("%d entries cached, want none", n)
			}
		})
	}
}

// tcpExchange sends raw twice over one TCP connection and returns both
// answers (each ends with an empty body).
func tcpExchange(t *testing.T, e *testEnv, raw []byte) ([]byte, []byte) {
	t.Helper()
	c, err := net.Dial("tcp", e.srv.Addr("tcp").String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(3 * time.Second))
	var got [][]byte
	r := bufio.NewReader(c)
	for range 2 {
		if _, err := c.Write(raw); err != nil {
			t.Fatal(err)
		}
		var msg []byte
		for {
			line, err := r.ReadBytes('\n')
			if err != nil {
				t.Fatalf("reading answer: %v", err)
			}
			msg = append(msg, line...)
			if bytes.Equal(line, []byte("\r\n")) {
				break
			}
		}
		got = append(got, msg)
	}

	return got[0], got[1]
}

// BenchmarkRetransCacheFootprint fills a cache with the default bounds
// with realistic answers (a 200 to REGISTER, ~520 bytes) until the byte
// bound evicts, and reports the heap it holds against what it accounts.
func BenchmarkRetransCacheFootprint(b *testing.B) {
	msg, err := sipmsg.ParseMessage(digestRegister("alice", "n", "o", 1, 1))
	if err != nil {
		b.Fatal(err)
	}
	req := msg.(*sipmsg.Request)
	res := sipmsg.NewResponseFromRequest(req, 200, "OK", nil)
	res.AppendHeader(sipmsg.NewHeader("Contact", "<sip:alice@127.0.0.1:5070>;expires=300"))
	res.AppendHeader(sipmsg.NewHeader("Date", "Thu, 03 Dec 2026 19:20:00 GMT"))
	var out bytes.Buffer
	res.StringWrite(&out)
	src := netip.MustParseAddrPort("127.0.0.1:5070")
	b.ReportAllocs()
	for range b.N {
		ctx, cancel := context.WithCancel(context.Background())
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		c := newRetransCache(ctx, retransTTL, retransMaxEntries, retransMaxBytes)
		var buf [96]byte
		for i := range 100_000 {
			key := append(append(buf[:0], "z9hG4bK-4711-"...), strconv.Itoa(i)...)
			key = append(key, "\x00127.0.0.1\x005070\x00REGISTER"...)
			c.store(key, src, out.Bytes())
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		n, acc := c.size()
		b.ReportMetric(float64(n), "entries")
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(1<<20), "MiB-heap")
		b.ReportMetric(float64(acc)/(1<<20), "MiB-accounted")
		b.ReportMetric(float64(out.Len()), "B-response")
		runtime.KeepAlive(c)
		cancel()
	}
}
