package main

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"math"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/pion/srtp/v3"
)

// ngClient sends ng control requests and waits for the matching reply.
type ngClient struct {
	conn *net.UDPConn
	// run makes cookies unique across runs: rtpengine answers a
	// repeated cookie from its reply cache.
	run string
	seq int
}

func dialNG(addr string) (*ngClient, error) {
	ua, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, err
	}
	c, err := net.DialUDP("udp", nil, ua)
	if err != nil {
		return nil, err
	}

	return &ngClient{conn: c, run: strconv.FormatInt(time.Now().UnixNano(), 36)}, nil
}

func (c *ngClient) do(req map[string]any) (map[string]any, error) {
	c.seq++
	cookie := c.run + "-" + strconv.Itoa(c.seq)
	msg := append([]byte(cookie+" "), encodeBencode(nil, req)...)
	buf := make([]byte, 65536)
	for range 3 {
		if _, err := c.conn.Write(msg); err != nil {
			return nil, err
		}
		_ = c.conn.SetReadDeadline(time.Now().Add(2 * time.Second))
		for {
			n, err := c.conn.Read(buf)
			if err != nil {
				break
			}
			ck, body, _ := strings.Cut(string(buf[:n]), " ")
			if ck != cookie {
				continue
			}
			v, _, err := decodeBencode([]byte(body))
			if err != nil {
				return nil, err
			}
			rep, _ := v.(map[string]any)
			if rep["result"] != "ok" && rep["result"] != "pong" {
				return nil, fmt.Errorf("ng %v: %v", req["command"], rep["error-reason"])
			}

			return rep, nil
		}
	}

	return nil, fmt.Errorf("ng %v: no reply", req["command"])
}

// call is one relayed call: endpoint sockets A and B and the relay
// addresses each sends to.
type call struct {
	id       string
	a, b     *net.UDPConn
	toA, toB netip.AddrPort
	bEnc     *srtp.Context
	bDec     *srtp.Context
}

func endpointSDP(port int, crypto string) string {
	proto := "RTP/AVP"
	if crypto != "" {
		proto = "RTP/SAVP"
	}
	s := fmt.Sprintf("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"+
		"m=audio %d %s 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n", port, proto)
	if crypto != "" {
		s += "a=crypto:" + crypto + "\r\n"
	}

	return s
}

// sdpTarget returns the address of the first m= line and its first
// AES_CM_128_HMAC_SHA1_80 a=crypto value.
func sdpTarget(sdp string) (netip.AddrPort, string, error) {
	var addr netip.Addr
	port, crypto := -1, ""
	for _, line := range strings.Split(sdp, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "c=IN IP4 "):
			addr, _ = netip.ParseAddr(strings.TrimPrefix(line, "c=IN IP4 "))
		case strings.HasPrefix(line, "m=audio ") && port < 0:
			port, _ = strconv.Atoi(strings.Fields(line)[1])
		case strings.HasPrefix(line, "a=crypto:") &&
			strings.Contains(line, " AES_CM_128_HMAC_SHA1_80 ") && crypto == "":
			crypto = strings.TrimPrefix(line, "a=crypto:")
		}
	}
	if !addr.IsValid() || port <= 0 {
		return netip.AddrPort{}, "", fmt.Errorf("no media address in sdp")
	}

	return netip.AddrPortFrom(addr, uint16(port)), crypto, nil
}

// endpointSockets is the generator's side: a few sockets per side that
// every call shares (calls are told apart by SSRC), so receiving costs
// one read per packet without a goroutine wake-up per call.
type endpointSockets struct {
	a, b []*net.UDPConn
}

func newEndpointSockets(n int) (*endpointSockets, error) {
	es := &endpointSockets{}
	for range n {
		a, err := listenLocal()
		if err != nil {
			return nil, err
		}
		b, err := listenLocal()
		if err != nil {
			return nil, err
		}
		es.a, es.b = append(es.a, a), append(es.b, b)
	}

	return es, nil
}

func (es *endpointSockets) close() {
	for i := range es.a {
		_ = es.a[i].Close()
		_ = es.b[i].Close()
	}
}

// listenLocal binds 127.0.0.1:0 with an 8 MiB receive buffer
// (SO_RCVBUFFORCE when permitted, else whatever the kernel allows).
func listenLocal() (*net.UDPConn, error) {
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return nil, err
	}
	_ = c.SetReadBuffer(8 << 20)
	if rc, err := c.SyscallConn(); err == nil {
		_ = rc.Control(func(fd uintptr) {
			_ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUFFORCE, 8<<20)
		})
	}

	return c, nil
}

// setupCall creates the call on the relay with an offer from A and an
// answer from B; with secure, leg B is SRTP and A plain.
func setupCall(ng *ngClient, id string, a, b *net.UDPConn, secure bool) (*call, error) {
	c := &call{id: id, a: a, b: b}
	var err error
	req := map[string]any{"command": "offer", "call-id": id, "from-tag": "a",
		"sdp": endpointSDP(c.a.LocalAddr().(*net.UDPAddr).Port, "")}
	if secure {
		req["transport-protocol"] = "RTP/SAVP"
	}
	rep, err := ng.do(req)
	if err != nil {
		return nil, err
	}
	sdp, _ := rep["sdp"].(string)
	var offered string
	if c.toB, offered, err = sdpTarget(sdp); err != nil {
		return nil, err
	}
	bCrypto := ""
	if secure {
		if c.bDec, c.bEnc, bCrypto, err = bKeys(offered); err != nil {
			return nil, err
		}
	}
	rep, err = ng.do(map[string]any{"command": "answer", "call-id": id, "from-tag": "a",
		"to-tag": "b", "sdp": endpointSDP(c.b.LocalAddr().(*net.UDPAddr).Port, bCrypto)})
	if err != nil {
		return nil, err
	}
	sdp, _ = rep["sdp"].(string)
	c.toA, _, err = sdpTarget(sdp)

	return c, err
}

// bKeys builds B's decrypt context from the relay's offered key and a
// fresh key of B's own for the answer.
func bKeys(offered string) (*srtp.Context, *srtp.Context, string, error) {
	f := strings.Fields(offered)
	if len(f) < 3 || f[1] != "AES_CM_128_HMAC_SHA1_80" {
		return nil, nil, "", fmt.Errorf("relay offered %q", offered)
	}
	key, err := base64.StdEncoding.DecodeString(strings.Split(strings.TrimPrefix(f[2],
		"inline:"), "|")[0])
	if err != nil || len(key) != 30 {
		return nil, nil, "", fmt.Errorf("relay key: %v", err)
	}
	dec, err := srtp.CreateContext(key[:16], key[16:], srtp.ProtectionProfileAes128CmHmacSha1_80)
	if err != nil {
		return nil, nil, "", err
	}
	own := make([]byte, 30)
	for i := range own {
		own[i] = byte(i*7 + 1)
	}
	enc, err := srtp.CreateContext(own[:16], own[16:], srtp.ProtectionProfileAes128CmHmacSha1_80)
	if err != nil {
		return nil, nil, "", err
	}

	return dec, enc, f[0] + " AES_CM_128_HMAC_SHA1_80 inline:" +
		base64.StdEncoding.EncodeToString(own), nil
}

// histogram counts latencies on a log scale: 100 buckets per decade
// from 1 µs to 100 s (2.3% resolution).
type histogram struct {
	buckets [801]atomic.Uint64
}

func (h *histogram) add(d time.Duration) {
	i := 0
	if d > time.Microsecond {
		i = int(100 * math.Log10(float64(d)/float64(time.Microsecond)))
	}
	h.buckets[min(i, len(h.buckets)-1)].Add(1)
}

func (h *histogram) quantile(q float64) time.Duration {
	var total uint64
	for i := range h.buckets {
		total += h.buckets[i].Load()
	}
	want := uint64(q * float64(total))
	var seen uint64
	for i := range h.buckets {
		seen += h.buckets[i].Load()
		if seen > want {
			return bucketTop(i)
		}
	}

	return bucketTop(len(h.buckets) - 1)
}

// bucketTop is the upper bound of bucket i, rounded for printing.
func bucketTop(i int) time.Duration {
	d := time.Duration(math.Pow(10, float64(i+1)/100) * float64(time.Microsecond))

	return d.Round(d / 100)
}

// result is one load run.
type result struct {
	sent, recv uint64
	// recvDir counts packets received by A (index 0) and by B (1).
	recvDir [2]uint64
	hist    histogram
}

// blast sends 50 packets per second each way on every call for d,
// spreading calls over the 20 ms cycle, and measures what comes back.
func blast(calls []*call, es *endpointSockets, d time.Duration) *result {
	res := &result{}
	t0 := time.Now()
	var wg sync.WaitGroup
	for i := range es.a {
		wg.Add(2)
		go receive(&wg, es.a[i], nil, t0, res, &res.recvDir[0])
		go receive(&wg, es.b[i], calls, t0, res, &res.recvDir[1])
	}
	var swg sync.WaitGroup
	const groups = 20
	for g := range groups {
		swg.Add(1)
		go func() {
			defer swg.Done()
			sendGroup(calls, g, groups, t0, d, res)
		}()
	}
	swg.Wait()
	// Late packets still count as received (with their latency) for a
	// second after the last send; later ones count as lost.
	time.Sleep(time.Second)
	for i := range es.a {
		_ = es.a[i].SetReadDeadline(time.Now())
		_ = es.b[i].SetReadDeadline(time.Now())
	}
	wg.Wait()

	return res
}

func sendGroup(calls []*call, g, groups int, t0 time.Time, d time.Duration, res *result) {
	pkt := make([]byte, 12+160)
	enc := make([]byte, 0, 256)
	offset := time.Duration(g) * 20 * time.Millisecond / time.Duration(groups)
	for n := 0; ; n++ {
		at := offset + time.Duration(n)*20*time.Millisecond
		if at >= d {
			return
		}
		time.Sleep(time.Until(t0.Add(at)))
		for i := g; i < len(calls); i += groups {
			c := calls[i]
			fill(pkt, uint16(n), uint32(n*160), uint32(i), t0)
			if _, err := c.a.WriteToUDPAddrPort(pkt, c.toA); err == nil {
				atomic.AddUint64(&res.sent, 1)
			}
			fill(pkt, uint16(n), uint32(n*160), uint32(i)|1<<31, t0)
			out := pkt
			if c.bEnc != nil {
				out, _ = c.bEnc.EncryptRTP(enc[:0], pkt, nil)
			}
			if _, err := c.b.WriteToUDPAddrPort(out, c.toB); err == nil {
				atomic.AddUint64(&res.sent, 1)
			}
		}
	}
}

func stamp(pkt []byte, t0 time.Time) []byte {
	binary.BigEndian.PutUint64(pkt[12:], uint64(time.Since(t0)))

	return pkt
}

func fill(pkt []byte, seq uint16, ts, ssrc uint32, t0 time.Time) {
	pkt[0], pkt[1] = 0x80, 0
	binary.BigEndian.PutUint16(pkt[2:], seq)
	binary.BigEndian.PutUint32(pkt[4:], ts)
	binary.BigEndian.PutUint32(pkt[8:], ssrc)
	stamp(pkt, t0)
}

// receive reads one shared socket; with calls non-nil the packets are
// SRTP and are decrypted with the context of the call their SSRC (the
// sender's call index) names.
func receive(wg *sync.WaitGroup, c *net.UDPConn, calls []*call, t0 time.Time,
	res *result, dir *uint64) {
	defer wg.Done()
	buf := make([]byte, 2048)
	plain := make([]byte, 2048)
	for {
		n, err := c.Read(buf)
		if err != nil {
			return
		}
		p := buf[:n]
		if len(p) < 12 || (p[1] >= 192 && p[1] <= 223) {
			// Too short, or RTCP the relay generated itself.
			continue
		}
		if idx := int(binary.BigEndian.Uint32(p[8:]) &^ (1 << 31)); calls != nil &&
			idx < len(calls) && calls[idx].bDec != nil {
			if p, err = calls[idx].bDec.DecryptRTP(plain, p, nil); err != nil {
				continue
			}
		}
		if len(p) < 20 {
			continue
		}
		sent := time.Duration(binary.BigEndian.Uint64(p[12:]))
		atomic.AddUint64(&res.recv, 1)
		atomic.AddUint64(dir, 1)
		res.hist.add(time.Since(t0) - sent)
	}
}

// cpuTicks reads utime+stime of pid from /proc (clock ticks, 100 Hz).
func cpuTicks(pid int) uint64 {
	if pid <= 0 {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	u, _ := strconv.ParseUint(f[11], 10, 64)
	st, _ := strconv.ParseUint(f[12], 10, 64)

	return u + st
}
