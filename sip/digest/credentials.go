package digest

import (
	"fmt"
	"strings"
)

// maxHeaderLen bounds the Authorization value ParseCredentials accepts.
const maxHeaderLen = 4096

// Credentials is a parsed Authorization or Proxy-Authorization header
// value (RFC 3261 section 25.1, RFC 7616 section 3.4). Values are unquoted;
// unknown parameters are ignored.
type Credentials struct {
	Username  string
	Realm     string
	Nonce     string
	URI       string
	Response  string
	Algorithm string // as sent; empty means MD5
	CNonce    string
	QOP       string
	NC        string // nonce-count, 8 hex digits
	Opaque    string
}

// ParseCredentials parses a "Digest ..." header value. It returns an error
// wrapping ErrMalformed that names the problem when the syntax is broken,
// a parameter repeats, or one of username, realm, nonce, uri and response
// is missing; when the scheme is not Digest the error wraps ErrScheme as
// well. It never panics.
func ParseCredentials(header string) (*Credentials, error) {
	if len(header) > maxHeaderLen {
		return nil, fmt.Errorf("%w: header longer than %d bytes", ErrMalformed, maxHeaderLen)
	}
	rest, ok := cutScheme(header)
	if !ok {
		return nil, fmt.Errorf("%w (%w)", ErrScheme, ErrMalformed)
	}
	c := &Credentials{}
	seen := 0
	p := paramParser{s: rest}
	for {
		name, value, more, err := p.next()
		if err != nil {
			return nil, err
		}
		if !more {
			break
		}
		bit, dst := c.field(name)
		if dst == nil {
			continue
		}
		if seen&bit != 0 {
			return nil, fmt.Errorf("%w: parameter %q repeated", ErrMalformed, name)
		}
		seen |= bit
		*dst = value
	}

	return c, c.checkRequired(seen)
}

// cutScheme strips a leading case-insensitive "Digest" and the whitespace
// after it.
func cutScheme(h string) (string, bool) {
	h = strings.TrimLeft(h, " \t")
	const scheme = "Digest"
	if len(h) <= len(scheme) || !strings.EqualFold(h[:len(scheme)], scheme) {
		return "", false
	}
	rest := h[len(scheme):]
	if rest[0] != ' ' && rest[0] != '\t' {
		return "", false
	}

	return rest, true
}

// paramNames lists the parameters Credentials keeps, in field order.
var paramNames = [...]string{
	"username", "realm", "nonce", "uri", "response",
	"algorithm", "cnonce", "qop", "nc", "opaque",
}

// field returns the bit and destination of the parameter name, or nil for
// a parameter that Credentials does not keep.
func (c *Credentials) field(name string) (int, *string) {
	dsts := [...]*string{
		&c.Username, &c.Realm, &c.Nonce, &c.URI, &c.Response,
		&c.Algorithm, &c.CNonce, &c.QOP, &c.NC, &c.Opaque,
	}
	for i, n := range paramNames {
		if strings.EqualFold(name, n) {
			return 1 << i, dsts[i]
		}
	}

	return 0, nil
}

// checkRequired reports the first mandatory parameter missing from seen.
func (c *Credentials) checkRequired(seen int) error {
	for i, n := range paramNames[:5] {
		if seen&(1<<i) == 0 {
			return fmt.Errorf("%w: missing %s", ErrMalformed, n)
		}
	}

	return nil
}

// paramParser walks a comma-separated list of auth-params (RFC 3261
// section 25.1: token "=" (token / quoted-string), with linear whitespace
// around "=" and ",").
type paramParser struct {
	s     string
	i     int
	first bool
}

// next returns the next parameter. more is false at the end of the list.
func (p *paramParser) next() (name, value string, more bool, err error) {
	p.skipSpace()
	if p.i == len(p.s) {
		return "", "", false, nil
	}
	if p.first {
		if p.s[p.i] != ',' {
			return "", "", false, fmt.Errorf("%w: expected ',' at byte %d", ErrMalformed, p.i)
		}
		p.i++
		p.skipSpace()
	}
	p.first = true
	name = p.token()
	if name == "" {
		return "", "", false, fmt.Errorf("%w: expected a parameter name at byte %d",
			ErrMalformed, p.i)
	}
	p.skipSpace()
	if p.i == len(p.s) || p.s[p.i] != '=' {
		return "", "", false, fmt.Errorf("%w: parameter %q has no value", ErrMalformed, name)
	}
	p.i++
	p.skipSpace()
	value, err = p.value(name)

	return name, value, err == nil, err
}

// value reads a token or a quoted-string with backslash escapes.
func (p *paramParser) value(name string) (string, error) {
	if p.i < len(p.s) && p.s[p.i] == '"' {
		return p.quoted(name)
	}
	v := p.token()
	if v == "" {
		return "", fmt.Errorf("%w: parameter %q has an empty value", ErrMalformed, name)
	}

	return v, nil
}

func (p *paramParser) quoted(name string) (string, error) {
	p.i++
	start := p.i
	var b strings.Builder
	escaped := false
	for ; p.i < len(p.s); p.i++ {
		ch := p.s[p.i]
		switch {
		case ch == '\\' && p.i+1 < len(p.s):
			if next := p.s[p.i+1]; next == '\r' || next == '\n' {
				return "", fmt.Errorf("%w: escaped line break in parameter %q",
					ErrMalformed, name)
			}
			if !escaped {
				b.WriteString(p.s[start:p.i])
				escaped = true
			}
			p.i++
			b.WriteByte(p.s[p.i])
		case ch == '"':
			p.i++
			if !escaped {
				return p.s[start : p.i-1], nil
			}

			return b.String(), nil
		case ch < 0x20 && ch != '\t' || ch == 0x7f:
			return "", fmt.Errorf("%w: control character in parameter %q", ErrMalformed, name)
		case escaped:
			b.WriteByte(ch)
		}
	}

	return "", fmt.Errorf("%w: unterminated quoted value of %q", ErrMalformed, name)
}

// token reads a run of token characters (RFC 3261 section 25.1).
func (p *paramParser) token() string {
	start := p.i
	for p.i < len(p.s) && isTokenChar(p.s[p.i]) {
		p.i++
	}

	return p.s[start:p.i]
}

func (p *paramParser) skipSpace() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t' ||
		p.s[p.i] == '\r' || p.s[p.i] == '\n') {
		p.i++
	}
}

// isTokenChar reports whether ch may appear in an RFC 3261 token.
func isTokenChar(ch byte) bool {
	switch {
	case ch >= 'a' && ch <= 'z', ch >= 'A' && ch <= 'Z', ch >= '0' && ch <= '9':
		return true
	}

	return strings.IndexByte("-.!%*_+`'~", ch) >= 0
}
