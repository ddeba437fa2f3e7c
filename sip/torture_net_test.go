package sip

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	sipmsg "github.com/emiago/sipgo/sip"
)

// The network side of the torture tests: sending messages over UDP and TCP
// and reading what comes back, and the TCP framing test.

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
