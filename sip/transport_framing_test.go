package sip

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestStreamFramer feeds streams to a streamFramer whole and split at
// every byte: conflicting Content-Length values are found wherever the
// reads split them; bodies that look like headers, equal repeated values,
// keepalives and pipelined messages are not conflicts.
func TestStreamFramer(t *testing.T) {
	msg := func(headers, body string) string {
		return "OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\n" + headers +
			"\r\n" + body
	}
	mcl01 := string(readFile(t, filepath.Join(tortureDir, "rfc4475", "mcl01.sip")))
	tests := []struct {
		name     string
		stream   string
		conflict bool
	}{
		{"one message", msg("Content-Length: 0\r\n", ""), false},
		{"body that looks like headers", msg("Content-Length: 40\r\n",
			"Content-Length: 9\r\nl: 3\r\n\r\nabcdefghijk") + msg("l: 0\r\n", ""), false},
		{"pipelined with keepalives", "\r\n\r\n" + msg("Content-Length: 2\r\n", "hi") +
			"\r\n" + msg("Content-Length:   0  \r\n", ""), false},
		{"equal values repeated", msg("Content-Length: 2\r\nl: 02\r\n", "hi"), false},
		{"mcl01", mcl01, true},
		{"compact form conflicts", msg("l: 2\r\nContent-Length: 3\r\n", "abc"), true},
		{"conflict in a later message", msg("Content-Length: 1\r\n", "x") +
			msg("content-length: 1\r\nCONTENT-LENGTH : 7\r\n", "x"), true},
		{"smuggled request", msg("Content-Length: 0\r\nContent-Length: 60\r\n",
			msg("Content-Length: 0\r\n", "")), true},
		{"no Content-Length: left to sipgo", msg("", "") + msg("l: 1\r\nl: 2\r\n", "x"),
			false},
		{"value not a number: left to sipgo", msg("l: five\r\nl: 2\r\n", "x"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for split := 0; split <= len(tt.stream); split++ {
				var f streamFramer
				err := f.feed([]byte(tt.stream[:split]))
				if err == nil {
					err = f.feed([]byte(tt.stream[split:]))
				}
				if got := errors.Is(err, errFramingConflict); got != tt.conflict {
					t.Fatalf("split at %d: conflict %v (%v), want %v", split, got, err,
						tt.conflict)
				}
			}
		})
	}
}

// TestStreamFramerByteByByte: a long valid stream fed one byte at a time
// is never taken for a conflict, and the framer keeps no more than a line.
func TestStreamFramerByteByByte(t *testing.T) {
	var f streamFramer
	stream := strings.Repeat("INVITE sip:a@b SIP/2.0\r\nContent-Length: 5\r\nX: "+
		strings.Repeat("y", 1000)+"\r\n\r\nhello", 20)
	for i := range len(stream) {
		if err := f.feed([]byte{stream[i]}); err != nil {
			t.Fatalf("byte %d: %v", i, err)
		}
		if len(f.line) > maxFramedLine {
			t.Fatalf("line buffer grew to %d", len(f.line))
		}
	}
	if f.off || f.inHead || f.body != 0 {
		t.Errorf("framer state after whole messages: %+v", f)
	}
}

// FuzzStreamFramer: any stream, split anywhere, gives the same verdict.
func FuzzStreamFramer(f *testing.F) {
	f.Add([]byte(string(readFile(f, filepath.Join(tortureDir, "rfc4475", "mcl01.sip")))), 10)
	f.Add([]byte("OPTIONS x SIP/2.0\r\nl: 1\r\n\r\nx\r\n"), 3)
	f.Fuzz(func(t *testing.T, stream []byte, split int) {
		var whole streamFramer
		want := whole.feed(stream)
		if split < 0 || split > len(stream) {
			return
		}
		var parts streamFramer
		got := parts.feed(stream[:split])
		if got == nil {
			got = parts.feed(stream[split:])
		}
		if (got == nil) != (want == nil) {
			t.Fatalf("whole: %v, split at %d: %v", want, split, got)
		}
	})
}

// TestStreamSmuggling: over TCP and TLS, a request whose two
// Content-Length values would let a second request ride in its body
// (sipgo frames by the last value, 0, and would then parse the body as a
// request of its own) draws no answer at all, neither for itself nor for
// the hidden request, and the connection is closed; the server goes on
// serving.
func TestStreamSmuggling(t *testing.T) {
	cert, key := selfSigned(t, t.TempDir())
	e := newEnv(t, func(c *Config) {
		c.TLSListen, c.TLSCertFile, c.TLSKeyFile = "127.0.0.1:0", cert, key
	})
	dial := map[string]func() (net.Conn, error){
		"tcp": func() (net.Conn, error) { return net.Dial("tcp", e.addr) },
		"tls": func() (net.Conn, error) {
			return tls.Dial("tcp", e.srv.Addr("tls").String(),
				&tls.Config{InsecureSkipVerify: true})
		},
	}
	for _, transport := range []string{"tcp", "tls"} {
		t.Run(transport, func(t *testing.T) {
			c, err := dial[transport]()
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			via, local := strings.ToUpper(transport), c.LocalAddr().String()
			hidden := optionsRequest(e.addr, local, via, "hidden@smuggle")
			outer := strings.Replace(string(optionsRequest(e.addr, local, via, "outer@smuggle")),
				"Content-Length: 0\r\n", "Content-Length: "+strconv.Itoa(len(hidden))+
					"\r\nContent-Length: 0\r\n", 1)
			if _, err := c.Write(append([]byte(outer), hidden...)); err != nil {
				t.Fatal(err)
			}
			c.SetReadDeadline(time.Now().Add(2 * time.Second))
			got, err := io.ReadAll(c)
			var ne net.Error
			if len(got) > 0 || errors.As(err, &ne) && ne.Timeout() {
				t.Fatalf("answered %q (read error %v), want the connection closed unanswered",
					got, err)
			}
		})
	}
	if !optionsAnswered(e.addr, "tcp") {
		t.Error("the server no longer answers OPTIONS over TCP")
	}
}

// BenchmarkStreamFramer measures the framing check on TCP reads: a stream
// of INVITEs with SDP bodies, fed in reads of 4 KiB.
func BenchmarkStreamFramer(b *testing.B) {
	body := strings.Repeat("a=rtpmap:0 PCMU/8000\r\n", 20)
	one := "INVITE sip:bob@example.com SIP/2.0\r\n" +
		"Via: SIP/2.0/TCP 192.0.2.1:5060;branch=z9hG4bK776asdhds\r\n" +
		"Max-Forwards: 70\r\nTo: Bob <sip:bob@example.com>\r\n" +
		"From: Alice <sip:alice@example.com>;tag=1928301774\r\n" +
		"Call-ID: a84b4c76e66710@pc33.example.com\r\nCSeq: 314159 INVITE\r\n" +
		"Contact: <sip:alice@192.0.2.1;transport=tcp>\r\nContent-Type: application/sdp\r\n" +
		"Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body
	stream := []byte(strings.Repeat(one, 64))
	b.SetBytes(int64(len(stream)))
	b.ReportAllocs()
	for b.Loop() {
		var f streamFramer
		for p := stream; len(p) > 0; {
			n := min(4096, len(p))
			if err := f.feed(p[:n]); err != nil {
				b.Fatal(err)
			}
			p = p[n:]
		}
	}
}
