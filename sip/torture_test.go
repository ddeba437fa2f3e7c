package sip

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	sipmsg "github.com/emiago/sipgo/sip"

	"github.com/patchbay/patchbay/tenancy"
)

// tortureDir holds the RFC 4475 and RFC 5118 torture messages with their
// index.tsv files (copied from the shared set; see its README.md).
const tortureDir = "../testdata/sip-torture"

// tortureCase is one message and what the index expects of it.
type tortureCase struct {
	name     string // "rfc4475/wsinv.sip"
	class    string // valid, invalid, application, ...; "-response" for responses
	expect   []string
	forbid   []string
	stream   []string // stream_expect: outcomes allowed on TCP, when it differs
	response bool
	data     []byte
}

// loadTorture reads both indexes and the messages they name, plus the
// variants, which take the expectations of the message they vary.
func loadTorture(t testing.TB) []tortureCase {
	t.Helper()
	var out []tortureCase
	for _, rfc := range []string{"rfc4475", "rfc5118"} {
		rows := readIndex(t, filepath.Join(tortureDir, rfc, "index.tsv"))
		byFile := map[string]tortureCase{}
		for _, row := range rows {
			c := tortureCase{
				name: rfc + "/" + row["file"], class: row["class"],
				expect: splitList(row["expect"]), forbid: splitList(row["forbid"]),
				stream:   splitList(row["stream_expect"]),
				response: strings.HasSuffix(row["class"], "-response"),
				data:     readFile(t, filepath.Join(tortureDir, rfc, row["file"])),
			}
			byFile[strings.TrimSuffix(row["file"], ".sip")] = c
			out = append(out, c)
		}
		variants, _ := filepath.Glob(filepath.Join(tortureDir, rfc, "variants", "*.sip"))
		for _, v := range variants {
			base, _, _ := strings.Cut(filepath.Base(v), ".")
			c, ok := byFile[base]
			if !ok {
				t.Fatalf("variant %s has no indexed original", v)
			}
			c.name = rfc + "/variants/" + filepath.Base(v)
			c.data = readFile(t, v)
			c.stream = nil // the variants are complete messages
			if rfc == "rfc5118" {
				// The archived Content-Length is wrong: a framing test of
				// its own. Any answer or none, no 5xx, no crash; on TCP
				// the rest of the stream is the next message's problem.
				c.class, c.expect, c.stream = "variant", []string{"any"}, []string{"any"}
			}
			out = append(out, c)
		}
	}

	return out
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}

	return b
}

// readIndex parses a tab-separated index into rows keyed by column name.
func readIndex(t testing.TB, path string) []map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.Comma, r.LazyQuotes, r.FieldsPerRecord = '\t', true, -1
	recs, err := r.ReadAll()
	if err != nil || len(recs) < 2 {
		t.Fatalf("index %s: %v", path, err)
	}
	var rows []map[string]string
	for _, rec := range recs[1:] {
		row := map[string]string{}
		for i, col := range recs[0] {
			if i < len(rec) {
				row[col] = rec[i]
			}
		}
		rows = append(rows, row)
	}

	return rows
}

func splitList(s string) []string {
	if s == "" {
		return nil
	}

	return strings.Split(s, ",")
}

// codeMatches reports whether code matches a pattern: "400" or "4xx".
func codeMatches(code int, pattern string) bool {
	if strings.HasSuffix(pattern, "xx") {
		return strconv.Itoa(code/100) == pattern[:1]
	}

	return strconv.Itoa(code) == pattern
}

// judge checks the final codes a message drew against its index row. On
// a stream, closed reports that the server closed the connection.
func (c tortureCase) judge(codes []int, closed, stream bool) error {
	for _, code := range codes {
		for _, f := range c.forbid {
			if codeMatches(code, f) {
				return fmt.Errorf("answered %d, which the index forbids (%v)", code, c.forbid)
			}
		}
	}
	allowed := c.expect
	if stream && len(c.stream) > 0 {
		allowed = c.stream
	}
	if slicesContains(allowed, "any") {
		if !c.response && len(codes) == 0 && !closed && c.mustAnswer() {
			return fmt.Errorf("a well-formed request got no answer")
		}
		return nil
	}
	switch {
	case len(codes) == 0 && closed && slicesContains(allowed, "closed"):
		return nil
	case len(codes) == 0 && slicesContains(allowed, "none"):
		return nil
	case len(codes) == 0:
		return fmt.Errorf("no answer (closed=%v), want one of %v", closed, allowed)
	}
	for _, a := range allowed {
		if codeMatches(codes[0], a) {
			return nil
		}
	}

	return fmt.Errorf("answered %v, want one of %v", codes, allowed)
}

// mustAnswer reports whether a request of c's class must draw an answer:
// the RFC calls it well-formed.
func (c tortureCase) mustAnswer() bool {
	switch c.class {
	case "valid", "application", "compat":
		return true
	}

	return false
}

func slicesContains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}

	return false
}

// tortureDirectory is the test directory plus a tenant for example.com
// (the torture messages' domain) with user "user".
func tortureDirectory() *fakeDirectory {
	d := newDirectory()
	sid := "SD" + strings.Repeat("f", 32)
	d.addDomain(tenancy.Domain{SID: sid, AccountSID: acctA, DomainName: "example.com",
		SIPRegistration: true})
	d.addUser(sid, acctA, "user", "user-pw")

	return d
}

// streamUnscored lists messages whose bytes mean something else on a
// stream (dblreq: over TCP, two pipelined requests); on TCP only the
// forbidden codes and the stream's health are checked.
var streamUnscored = map[string]bool{"rfc4475/dblreq.sip": true}

// tortureOutcome is what one message did to a fresh server.
type tortureOutcome struct {
	codes  []int // status codes of the answers to the message
	closed bool  // TCP: the server closed the connection
	probed bool  // TCP: the OPTIONS written after the message was answered
	alive  bool  // the server answered OPTIONS over UDP and TCP afterwards
	err    error // the harness failed
}

// TestTorture sends every torture message, each to a fresh server (many
// share a branch and sent-by, so one server would take later ones for
// retransmissions, RFC 3261 17.2.3), over UDP (one datagram) and over TCP
// (one write, then an OPTIONS on the same connection). It checks the
// answers against the index, that the TCP stream stays in step, and that
// the server still answers OPTIONS afterwards.
func TestTorture(t *testing.T) {
	cases := loadTorture(t)
	if len(cases) < 60 {
		t.Fatalf("loaded %d torture messages, want the whole set", len(cases))
	}
	for _, transport := range []string{"udp", "tcp"} {
		outcomes := runTorture(cases, transport)
		t.Run(transport, func(t *testing.T) {
			for i, c := range cases {
				t.Run(c.name, func(t *testing.T) { checkTorture(t, c, transport, outcomes[i]) })
			}
		})
	}
}

func checkTorture(t *testing.T, c tortureCase, transport string, o tortureOutcome) {
	t.Helper()
	if errors.Is(o.err, errPortBusy) {
		t.Logf("%v: the answer could not be observed", o.err)
		o.err, o.codes, c.expect, c.forbid, c.class = nil, nil, []string{"any"}, nil, "unobserved"
	}
	if o.err != nil {
		t.Fatal(o.err)
	}
	if !o.alive {
		t.Errorf("the server no longer answers OPTIONS")
	}
	stream := transport == "tcp"
	if stream && streamUnscored[c.name] {
		c.expect, c.stream = []string{"any"}, nil
	}
	err := c.judge(finals(o.codes), o.closed, stream)
	dev, known := knownDeviation(transport, c.name)
	switch {
	case err != nil && known && dev.got == o.summary():
		t.Logf("known deviation (%s): %s", dev.owner, dev.why)
	case err != nil && known:
		t.Errorf("%s: %v; the known deviation was %q, now %q", transport, err, dev.got,
			o.summary())
	case err != nil:
		t.Errorf("%s: %v", transport, err)
	case known:
		t.Logf("the known deviation (%s) of %s over %s no longer occurs: remove it",
			dev.owner, c.name, transport)
	}
	// Closing the connection keeps the stream safe; reading the probe as
	// part of the message, or answering nothing on an open connection,
	// means the framing went astray.
	inStep := len(c.stream) == 0 && !streamUnscored[c.name]
	if stream && inStep && !o.probed && !o.closed {
		t.Errorf("tcp: the OPTIONS after the message got no answer on an open connection "+
			"(codes %v): the stream is out of step", o.codes)
	}
}

// summary is the outcome as the deviation table writes it: the final
// codes ("400", "403,200"), "closed" or "none".
func (o tortureOutcome) summary() string {
	var parts []string
	for _, c := range finals(o.codes) {
		parts = append(parts, strconv.Itoa(c))
	}
	switch {
	case len(parts) > 0:
		return strings.Join(parts, ",")
	case o.closed:
		return "closed"
	}

	return "none"
}

// runTorture runs every case against a fresh server, several at a time
// (the waits are idle time).
func runTorture(cases []tortureCase, transport string) []tortureOutcome {
	out := make([]tortureOutcome, len(cases))
	sem := make(chan struct{}, 12)
	base := [4]byte{127, byte(100 + os.Getpid()%100), byte(os.Getpid() / 100 % 250), 0}
	if transport == "tcp" {
		base[1]++
	}
	var wg sync.WaitGroup
	for i, c := range cases {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			local := base
			local[3] = byte(1 + i)
			out[i] = tortureOne(c, transport, netip.AddrFrom4(local), i)
		})
	}
	wg.Wait()

	return out
}

// tortureOne sends c to a fresh server and probes the server afterwards.
func tortureOne(c tortureCase, transport string, local netip.Addr, seq int) tortureOutcome {
	e, stop, err := startSippEnv(tortureDirectory(), nil)
	if err != nil {
		return tortureOutcome{err: err}
	}
	defer stop()
	var o tortureOutcome
	if transport == "udp" {
		o.codes, o.err = sendUDP(e.addr, c.data, local, 500*time.Millisecond)
	} else {
		o, o.err = sendTCP(e.addr, c.data, seq)
	}
	o.alive = optionsAnswered(e.addr, "udp") && optionsAnswered(e.addr, "tcp")

	return o
}

// TestTortureOneServer sends every message over UDP and TCP to one server
// without waiting for answers, then checks that it still answers OPTIONS.
func TestTortureOneServer(t *testing.T) {
	e := newSippEnvDir(t, tortureDirectory())
	for _, c := range loadTorture(t) {
		for _, network := range []string{"udp", "tcp"} {
			conn, err := net.Dial(network, e.addr)
			if err != nil {
				t.Fatal(err)
			}
			conn.Write(c.data)
			conn.Close()
		}
	}
	for _, transport := range []string{"udp", "tcp"} {
		if !optionsAnswered(e.addr, transport) {
			t.Errorf("after the torture messages the server does not answer OPTIONS over %s",
				transport)
		}
	}
}

// finals keeps the final status codes.
func finals(codes []int) []int {
	var out []int
	for _, c := range codes {
		if c >= 200 {
			out = append(out, c)
		}
	}

	return out
}

// statusCode returns the status code of a response start line of any
// SIP version ("SIP/2.0 404 ..."), or 0 for anything else.
func statusCode(msg []byte) int {
	if !bytes.HasPrefix(msg, []byte("SIP/")) {
		return 0
	}
	_, rest, ok := bytes.Cut(msg, []byte(" "))
	if !ok || len(rest) < 3 {
		return 0
	}
	code, err := strconv.Atoi(string(rest[:3]))
	if err != nil {
		return 0
	}

	return code
}

// sendUDP sends data as one datagram and collects the status codes of
// what comes back until idle for wait.
//
// Over UDP a response goes to the request's source address and the port
// of its top Via (RFC 3261 18.2.2; the source port only with rport), and
// the torture messages name ports of their own (5060 mostly). So each
// message is sent from a socket of its own loopback address, 127.x.y.z
// (never used by anything else), bound to the port its Via names, where
// the answer comes back. The bytes go out unchanged.
func sendUDP(addr string, data []byte, local netip.Addr, wait time.Duration) ([]int, error) {
	port := 5060
	if msg, err := sipmsg.NewParser().ParseSIP(data); err == nil {
		if via := msg.Via(); via != nil && via.Port > 0 {
			port = via.Port
		}
	}
	raddr, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, err
	}
	laddr := &net.UDPAddr{IP: local.AsSlice(), Port: port}
	c, err := listenBusy(laddr)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	if _, err := c.WriteToUDP(data, raddr); err != nil {
		return nil, err
	}
	var codes []int
	buf := make([]byte, 65536)
	for {
		c.SetReadDeadline(time.Now().Add(wait))
		n, err := c.Read(buf)
		if err != nil {
			return codes, nil
		}
		if code := statusCode(buf[:n]); code != 0 {
			codes = append(codes, code)
			if code >= 200 {
				wait = 150 * time.Millisecond
			}
		}
	}
}

// errPortBusy means another process holds the port a message's Via names
// on all addresses (a sipp of another test, say), so the answer cannot be
// observed.
var errPortBusy = errors.New("the Via port is busy")

// listenBusy binds laddr, waiting up to two seconds for a busy port.
func listenBusy(laddr *net.UDPAddr) (*net.UDPConn, error) {
	for range 20 {
		c, err := net.ListenUDP("udp", laddr)
		if err == nil {
			return c, nil
		}
		if !errors.Is(err, syscall.EADDRINUSE) {
			return nil, fmt.Errorf("bind %v (the port the message's Via names): %w", laddr, err)
		}
		time.Sleep(100 * time.Millisecond)
	}

	return nil, fmt.Errorf("%w: %v", errPortBusy, laddr)
}

// sendTCP writes data on a fresh connection, then an OPTIONS probe, and
// reads responses until 300ms after the probe's answer, the server
// closes, or 1.5s pass.
func sendTCP(addr string, data []byte, seq int) (tortureOutcome, error) {
	var res tortureOutcome
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return res, err
	}
	defer c.Close()
	probeID := fmt.Sprintf("probe-%d@torture", seq)
	if _, err := c.Write(data); err != nil {
		return res, err
	}
	c.Write(optionsRequest(addr, c.LocalAddr().String(), "TCP", probeID))
	c.SetReadDeadline(time.Now().Add(1500 * time.Millisecond))
	r := bufio.NewReader(c)
	for {
		head, _, err := readStreamMessage(r)
		if err != nil {
			var ne net.Error
			res.closed = !(errors.As(err, &ne) && ne.Timeout())
			return res, nil
		}
		if strings.Contains(head, "\r\nCall-ID: "+probeID+"\r\n") {
			// Requests run concurrently: the message's own answer may
			// still come after the probe's.
			res.probed = true
			c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
			continue
		}
		if code := statusCode([]byte(head)); code != 0 {
			res.codes = append(res.codes, code)
		}
	}
}

// readStreamMessage reads one message framed by Content-Length.
func readStreamMessage(r *bufio.Reader) (string, []byte, error) {
	var head strings.Builder
	length := 0
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return "", nil, err
		}
		if head.Len() == 0 && strings.TrimSpace(line) == "" {
			continue // keepalive CRLF
		}
		head.WriteString(line)
		if line == "\r\n" {
			break
		}
		name, value, ok := strings.Cut(line, ":")
		if ok && (strings.EqualFold(strings.TrimSpace(name), "Content-Length") ||
			strings.TrimSpace(name) == "l") {
			length, _ = strconv.Atoi(strings.TrimSpace(value))
		}
	}
	body := make([]byte, max(length, 0))
	_, err := io.ReadFull(r, body)

	return head.String(), body, err
}

// optionsRequest builds an OPTIONS to the server at addr from local.
func optionsRequest(addr, local, transport, callID string) []byte {
	return []byte("OPTIONS sip:" + addr + " SIP/2.0\r\n" +
		"Via: SIP/2.0/" + transport + " " + local + ";branch=z9hG4bK-" + callID + ";rport\r\n" +
		"Max-Forwards: 70\r\n" +
		"From: <sip:probe@127.0.0.1>;tag=probe\r\n" +
		"To: <sip:" + addr + ">\r\n" +
		"Call-ID: " + callID + "\r\n" +
		"CSeq: 1 OPTIONS\r\n" +
		"Content-Length: 0\r\n\r\n")
}

// optionsAnswered sends an OPTIONS over transport from a fresh socket and
// reports whether a 200 came back within two seconds.
func optionsAnswered(addr, transport string) bool {
	c, err := net.Dial(transport, addr)
	if err != nil {
		return false
	}
	defer c.Close()
	id := fmt.Sprintf("alive-%s-%s@torture", transport, c.LocalAddr())
	c.Write(optionsRequest(addr, c.LocalAddr().String(), strings.ToUpper(transport), id))
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	if transport == "udp" {
		buf := make([]byte, 65536)
		n, err := c.Read(buf)
		return err == nil && statusCode(buf[:n]) == 200
	}
	head, _, err := readStreamMessage(bufio.NewReader(c))

	return err == nil && statusCode([]byte(head)) == 200
}

// TestTortureStreamFraming checks Content-Length framing on TCP: several
// requests in one write, a request with a body followed by another, and
// requests dribbled a few bytes per write each get their answer.
func TestTortureStreamFraming(t *testing.T) {
	e := newSippEnvDir(t, tortureDirectory())
	mpart := readFile(t, filepath.Join(tortureDir, "rfc4475", "mpart01.sip"))
	tests := []struct {
		name   string
		writes func(local string) [][]byte
		want   []string // Call-IDs answered; "" for a message's own Call-ID
	}{
		{"three in one write", func(local string) [][]byte {
			var all []byte
			for _, id := range []string{"f1", "f2", "f3"} {
				all = append(all, optionsRequest(e.addr, local, "TCP", id)...)
			}
			return [][]byte{all}
		}, []string{"f1", "f2", "f3"}},
		{"body then request", func(local string) [][]byte {
			return [][]byte{append(append([]byte{}, mpart...),
				optionsRequest(e.addr, local, "TCP", "after-body")...)}
		}, []string{"", "after-body"}},
		{"dribbled", func(local string) [][]byte {
			msg := append(optionsRequest(e.addr, local, "TCP", "d1"),
				optionsRequest(e.addr, local, "TCP", "d2")...)
			var parts [][]byte
			for len(msg) > 0 {
				n := min(7, len(msg))
				parts = append(parts, msg[:n])
				msg = msg[n:]
			}
			return parts
		}, []string{"d1", "d2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := net.Dial("tcp", e.addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			for _, w := range tt.writes(c.LocalAddr().String()) {
				if _, err := c.Write(w); err != nil {
					t.Fatal(err)
				}
				time.Sleep(time.Millisecond)
			}
			c.SetReadDeadline(time.Now().Add(3 * time.Second))
			r := bufio.NewReader(c)
			var got []string
			for len(got) < len(tt.want) {
				head, _, err := readStreamMessage(r)
				if err != nil {
					t.Fatalf("after answers for %v: %v", got, err)
				}
				if statusCode([]byte(head)) < 200 {
					continue
				}
				got = append(got, answeredCallID(head))
			}
			// Requests run concurrently, so answers may come in any order;
			// each must come once.
			for _, want := range tt.want {
				if want != "" && !slicesContains(got, want) {
					t.Errorf("no answer for Call-ID %q (answers: %v)", want, got)
				}
			}
		})
	}
}

// answeredCallID returns the Call-ID of a response head.
func answeredCallID(head string) string {
	for _, line := range strings.Split(head, "\r\n") {
		if v, ok := strings.CutPrefix(line, "Call-ID: "); ok {
			return v
		}
	}

	return ""
}
