package digest

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Defaults of Options.
const (
	DefaultNonceTTL         = 30 * time.Second
	DefaultMaxTrackedNonces = 100000
)

// Options configures a Server. The zero value is usable.
type Options struct {
	// NonceTTL is how long a nonce is accepted after it was issued
	// (30s). Past it Verify returns ErrStale.
	NonceTTL time.Duration

	// Secret keys the nonce HMAC. Servers on several nodes that share a
	// Secret accept each other's nonces (each tracks nonce-counts on its
	// own). Random per Server when empty.
	Secret []byte

	// Now is the clock (time.Now).
	Now func() time.Time

	// MaxTrackedNonces bounds the nonce-count table (100000). When it is
	// full the nonce first seen longest ago is forgotten; a forgotten
	// nonce is then refused with ErrStale, never accepted again.
	MaxTrackedNonces int

	// Algorithms lists the algorithms offered, one challenge each, most
	// preferred first (SHA-256, MD5: RFC 8760 section 2.4). Verify
	// refuses credentials of any other algorithm with ErrUnsupported.
	// Some user agents read only the first challenge and give up when
	// they do not know its algorithm (sipp 3.6 with SHA-256); offering
	// MD5 first serves them, at the price of the weaker hash.
	Algorithms []Algorithm
}

// Server issues digest challenges and verifies credentials. It is safe for
// concurrent use and holds no goroutines; it needs no Close.
type Server struct {
	algs   []Algorithm
	ttl    time.Duration
	secret []byte
	key    *nonceKey
	now    func() time.Time
	opaque string
	counts *countTable
}

// NewServer returns a Server with opts, defaults filled in. Unsupported
// and repeated entries of opts.Algorithms are left out.
func NewServer(opts Options) *Server {
	s := &Server{ttl: opts.NonceTTL, secret: opts.Secret, now: opts.Now}
	for _, a := range opts.Algorithms {
		if p, err := ParseAlgorithm(string(a)); err == nil && !slices.Contains(s.algs, p) {
			s.algs = append(s.algs, p)
		}
	}
	if len(s.algs) == 0 {
		s.algs = []Algorithm{SHA256, MD5}
	}
	if s.ttl <= 0 {
		s.ttl = DefaultNonceTTL
	}
	if len(s.secret) == 0 {
		s.secret = make([]byte, 32)
		rand.Read(s.secret)
	}
	if s.now == nil {
		s.now = time.Now
	}
	limit := opts.MaxTrackedNonces
	if limit <= 0 {
		limit = DefaultMaxTrackedNonces
	}
	s.counts = newCountTable(limit)
	s.key = newNonceKey(s.secret)
	m := hmac.New(sha256.New, s.secret)
	m.Write([]byte("patchbay digest opaque"))
	s.opaque = hex.EncodeToString(m.Sum(nil)[:8])

	return s
}

// Challenges returns the values of the WWW-Authenticate (or
// Proxy-Authenticate) headers of a 401 (407) for realm: one per algorithm
// of Options.Algorithms in order (by default SHA-256, then MD5), all with
// the same fresh nonce, qop="auth" and the opaque value, and stale=true
// when stale is set (RFC 8760 section 2.4: the preferred algorithm first).
func (s *Server) Challenges(realm string, stale bool) []string {
	var rnd [8]byte
	rand.Read(rnd[:])
	nonce := s.key.mint(realm, s.now(), rnd)
	out := make([]string, 0, len(s.algs))
	for _, alg := range s.algs {
		var b strings.Builder
		b.Grow(96 + len(realm) + len(nonce))
		b.WriteString(`Digest realm="`)
		writeQuoted(&b, realm)
		b.WriteString(`", nonce="`)
		b.WriteString(nonce)
		b.WriteString(`", opaque="`)
		b.WriteString(s.opaque)
		b.WriteString(`", algorithm=`)
		b.WriteString(string(alg))
		b.WriteString(`, qop="auth"`)
		if stale {
			b.WriteString(`, stale=true`)
		}
		out = append(out, b.String())
	}

	return out
}

// writeQuoted writes v with '"', '\' and control characters escaped as
// quoted-pairs (RFC 3261 section 25.1). CR and LF cannot be escaped and
// are written as they are; callers never pass them.
func writeQuoted(b *strings.Builder, v string) {
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == '"' || c == '\\' || c == 0x7f || c < 0x20 && c != '\r' && c != '\n' {
			b.WriteByte('\\')
		}
		b.WriteByte(c)
	}
}

// Verify checks credentials c of a request with method against ha1, the
// hex HA1 (see HA1) for c's user and realm under c's algorithm. It checks,
// in order: the parameters (ErrMalformed, ErrUnsupported), the nonce and
// opaque (ErrBadNonce), the response in constant time (ErrBadResponse), the
// nonce's age (ErrStale) and the nonce-count (ErrReplay). Only a nil result
// advances the nonce-count. A caller that keeps no user for c.Username
// should still call Verify with a decoy ha1, so that existing and missing
// users take the same path.
func (s *Server) Verify(method string, c *Credentials, ha1 string) error {
	alg, nc, err := checkParams(c)
	if err != nil {
		return err
	}
	if !slices.Contains(s.algs, alg) {
		return fmt.Errorf("%w: algorithm %s not offered", ErrUnsupported, alg)
	}
	id, ok := s.key.open(c.Realm, c.Nonce)
	if !ok || (c.Opaque != "" && !hmac.Equal([]byte(c.Opaque), []byte(s.opaque))) {
		return ErrBadNonce
	}
	want := expectedResponse(alg, ha1, method, c)
	if !hmac.Equal([]byte(want), []byte(strings.ToLower(c.Response))) {
		return ErrBadResponse
	}
	expiredBefore := s.now().Add(-s.ttl).UnixNano()
	if id.issued() < expiredBefore {
		return ErrStale
	}
	switch s.counts.advance(id, nc, expiredBefore) {
	case countReplay:
		return fmt.Errorf("%w: nc %08x", ErrReplay, nc)
	case countForgotten:
		return ErrStale
	}

	return nil
}

// checkParams validates what qop=auth requires and returns the algorithm
// and the nonce-count.
func checkParams(c *Credentials) (Algorithm, uint32, error) {
	alg, err := ParseAlgorithm(c.Algorithm)
	if err != nil {
		return "", 0, err
	}
	if !strings.EqualFold(c.QOP, "auth") {
		if c.QOP == "" {
			return "", 0, fmt.Errorf("%w: missing qop", ErrUnsupported)
		}

		return "", 0, fmt.Errorf("%w: qop %q", ErrUnsupported, c.QOP)
	}
	if c.CNonce == "" {
		return "", 0, fmt.Errorf("%w: missing cnonce", ErrMalformed)
	}
	if len(c.NC) != 8 {
		return "", 0, fmt.Errorf("%w: nc %q is not 8 hex digits", ErrMalformed, c.NC)
	}
	nc, err := strconv.ParseUint(c.NC, 16, 32)
	if err != nil || nc == 0 {
		return "", 0, fmt.Errorf("%w: nc %q is not a positive hex count", ErrMalformed, c.NC)
	}

	return alg, uint32(nc), nil
}

// expectedResponse computes the qop=auth response (RFC 7616 section
// 3.4.1): H(HA1:nonce:nc:cnonce:qop:H(method:uri)).
func expectedResponse(alg Algorithm, ha1, method string, c *Credentials) string {
	ha2 := hexHash(alg, method, ":", c.URI)

	return hexHash(alg, strings.ToLower(ha1), ":", c.Nonce, ":", c.NC, ":", c.CNonce, ":",
		c.QOP, ":", ha2)
}
