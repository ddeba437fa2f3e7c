package sip

import (
	"bytes"
	"errors"
	"net"
	"strconv"
)

// errFramingConflict ends a stream connection whose message head carries
// two different Content-Length values.
var errFramingConflict = errors.New("sip: conflicting Content-Length values on a stream " +
	"(RFC 3261 18.3)")

// maxFramedLine is the most of one header line a streamFramer keeps; a
// longer Content-Length line is not understood and stops the check.
const maxFramedLine = 256

// streamFramer follows the Content-Length framing of the SIP messages on
// one TCP connection (RFC 3261 18.3), from the raw bytes in the order
// they are read, to find a message head with two different Content-Length
// values (RFC 4475 3.3.9, mcl01). sipgo's stream parser frames such a
// message by the last value and carries on with whatever follows: a
// request smuggled in the body the other value covers would be processed,
// and whether the edge's 400 for the message or the close for the bytes
// after it comes first depends on goroutine timing. The framer lets the
// connection's Read fail before the head's last byte reaches sipgo, so the
// message is never parsed and the connection closes without an answer.
//
// It frames the way sipgo does for every message sipgo can parse (one
// Content-Length per head, CRLF or LF line ends, empty lines before a
// start line skipped); on anything it does not understand (no
// Content-Length, a value that is not a number, a Content-Length line
// longer than maxFramedLine) it stops checking the connection, which
// sipgo then frames or closes by itself. The zero value is ready; it is
// not safe for concurrent use (one reader per connection).
type streamFramer struct {
	off    bool   // stopped checking
	inHead bool   // within a message head (after its start line began)
	body   int    // body bytes still to skip
	length int    // the head's Content-Length; -1 while none seen
	line   []byte // the current header line so far, up to maxFramedLine
	long   bool   // the current line is longer than line holds
}

// feed takes the next bytes of the stream and reports a conflict.
func (f *streamFramer) feed(p []byte) error {
	for len(p) > 0 && !f.off {
		if f.body > 0 {
			n := min(f.body, len(p))
			f.body -= n
			p = p[n:]
			continue
		}
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			f.keep(p)
			return nil
		}
		f.keep(p[:i])
		p = p[i+1:]
		if err := f.endLine(); err != nil {
			return err
		}
	}

	return nil
}

// keep appends part of the current line.
func (f *streamFramer) keep(p []byte) {
	room := maxFramedLine - len(f.line)
	if len(p) > room {
		p, f.long = p[:room], true
	}
	f.line = append(f.line, p...)
}

// endLine handles a whole line (without its LF).
func (f *streamFramer) endLine() error {
	line := bytes.TrimSuffix(f.line, []byte("\r"))
	long := f.long
	f.line, f.long = f.line[:0], false
	switch {
	case !f.inHead && len(line) == 0 && !long:
		return nil // CRLF before a start line, or a keepalive
	case !f.inHead:
		f.inHead, f.length = true, -1
		return nil
	case len(line) == 0 && !long:
		return f.endHead()
	}
	name, value, ok := bytes.Cut(line, []byte(":"))
	if !ok || line[0] == ' ' || line[0] == '\t' {
		return nil // a folded continuation, or not a header sipgo accepts
	}
	name = bytes.TrimRight(name, " \t")
	if !bytes.EqualFold(name, []byte("Content-Length")) && !bytes.EqualFold(name, []byte("l")) {
		return nil
	}
	n, err := strconv.Atoi(string(bytes.Trim(value, " \t")))
	if err != nil || n < 0 || long {
		f.off = true
		return nil
	}
	if f.length >= 0 && f.length != n {
		f.off = true
		return errFramingConflict
	}
	f.length = n

	return nil
}

// endHead starts skipping the body of the head that ended.
func (f *streamFramer) endHead() error {
	f.inHead = false
	if f.length < 0 {
		f.off = true // sipgo refuses a stream message without Content-Length
		return nil
	}
	f.body = f.length

	return nil
}

// framedListener hands out connections whose reads are checked by a
// streamFramer: TCP, and TLS after decryption.
type framedListener struct {
	net.Listener
}

// Accept returns the next connection, checked.
func (l framedListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}

	return &framedConn{Conn: c}, nil
}

// framedConn fails the Read that would complete a message head with
// conflicting Content-Length values; its reader (sipgo) then closes it.
type framedConn struct {
	net.Conn
	framer streamFramer
}

// Read reads and checks the bytes read; on a conflict it returns none of
// them and errFramingConflict.
func (c *framedConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if n > 0 {
		if ferr := c.framer.feed(b[:n]); ferr != nil {
			return 0, ferr
		}
	}

	return n, err
}
