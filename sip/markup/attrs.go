package markup

import (
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Sizes of values the parser accepts.
const (
	maxTextLength       = 4096 // text content of one element, bytes
	maxURLLength        = 2048
	maxSIPURILength     = 1024
	maxIdentityLength   = 256
	maxCallerIDLength   = 128
	maxDigitsLength     = 256
	maxCredentialLength = 128
	maxPlayLoop         = 1000
)

// attrSet hands out a node's attributes one by one, validating each and
// keeping the first failure; what is never asked for is reported ignored.
type attrSet struct {
	b    *builder
	n    *node
	verb string
	vals map[string]string
	err  *Error
}

func (b *builder) attrs(n *node) *attrSet {
	a := &attrSet{b: b, n: n, verb: n.name, vals: make(map[string]string, len(n.attrs))}
	for _, at := range n.attrs {
		if at.Name.Space == "xmlns" || at.Name.Local == "xmlns" {
			continue
		}
		if _, dup := a.vals[at.Name.Local]; dup {
			a.fail(at.Name.Local, at.Value, "attribute given twice")
		}
		a.vals[at.Name.Local] = strings.TrimSpace(at.Value)
	}

	return a
}

// done records unused attributes as ignored and returns the first failure.
func (a *attrSet) done() error {
	for _, at := range a.n.attrs {
		if _, left := a.vals[at.Name.Local]; left {
			a.b.ignored = append(a.b.ignored, a.verb+"@"+at.Name.Local)
			delete(a.vals, at.Name.Local)
		}
	}
	if a.err != nil {
		return a.err
	}

	return nil
}

func (a *attrSet) fail(attr, value, reason string) {
	if a.err == nil {
		a.err = attrError(a.verb, attr, value, a.n.line, reason)
	}
}

func (a *attrSet) take(name string) (string, bool) {
	v, ok := a.vals[name]
	delete(a.vals, name)

	return v, ok
}

// url returns an optional absolute http(s) or relative URL.
func (a *attrSet) url(name string) string {
	v, ok := a.take(name)
	if !ok || v == "" {
		return ""
	}
	if reason := checkURL(v); reason != "" {
		a.fail(name, v, reason)
	}

	return v
}

func (a *attrSet) method(name string) string {
	v, ok := a.take(name)
	if !ok || v == "" {
		return MethodPOST
	}
	switch strings.ToUpper(v) {
	case MethodGET:
		return MethodGET
	case MethodPOST:
		return MethodPOST
	}
	a.fail(name, v, "must be GET or POST")

	return MethodPOST
}

// seconds reads a whole number of seconds in [lo, hi].
func (a *attrSet) seconds(name string, def time.Duration, lo, hi int) time.Duration {
	v, ok := a.take(name)
	if !ok {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		a.fail(name, v, "must be whole seconds from "+strconv.Itoa(lo)+" to "+strconv.Itoa(hi))

		return def
	}

	return time.Duration(n) * time.Second
}

func (a *attrSet) integer(name string, def, lo, hi int) int {
	v, ok := a.take(name)
	if !ok {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		a.fail(name, v, "must be a whole number from "+strconv.Itoa(lo)+" to "+strconv.Itoa(hi))

		return def
	}

	return n
}

func (a *attrSet) boolean(name string, def bool) bool {
	v, ok := a.take(name)
	if !ok {
		return def
	}
	switch strings.ToLower(v) {
	case "true":
		return true
	case "false":
		return false
	}
	a.fail(name, v, "must be true or false")

	return def
}

// keys reads DTMF keys from [0-9*#]; single allows at most one key.
func (a *attrSet) keys(name, def string, single bool) string {
	v, ok := a.take(name)
	if !ok {
		return def
	}
	if single && len(v) > 1 {
		a.fail(name, v, "must be one key of 0-9, * or #, or empty")

		return def
	}
	if !onlyChars(v, "0123456789*#") {
		a.fail(name, v, "keys must be 0-9, * or #")

		return def
	}

	return v
}

// text reads a bounded string attribute without control characters.
func (a *attrSet) text(name string, max int) string {
	v, _ := a.take(name)
	if len(v) > max || hasControl(v) {
		a.fail(name, v, "must be at most "+strconv.Itoa(max)+" printable characters")

		return ""
	}

	return v
}

// checkURL returns why v is not a usable URL, or "".
func checkURL(v string) string {
	if len(v) > maxURLLength {
		return "URL longer than " + strconv.Itoa(maxURLLength) + " bytes"
	}
	u, err := url.Parse(v)
	if err != nil {
		return "not a URL"
	}
	if u.IsAbs() {
		if u.Scheme != "http" && u.Scheme != "https" {
			return "URL scheme must be http or https"
		}
		if u.Host == "" {
			return "URL has no host"
		}
	}

	return ""
}

func onlyChars(s, allowed string) bool {
	for _, r := range s {
		if !strings.ContainsRune(allowed, r) {
			return false
		}
	}

	return true
}

func hasControl(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return true
		}
	}

	return false
}
