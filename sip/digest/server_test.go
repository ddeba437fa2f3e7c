package digest

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeClock is a manually advanced clock, safe for concurrent use.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()

	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// challengeParams parses a challenge value built by Challenges.
func challengeParams(t testing.TB, challenge string) map[string]string {
	t.Helper()
	rest, ok := cutScheme(challenge)
	if !ok {
		t.Fatalf("challenge %q does not start with Digest", challenge)
	}
	out := map[string]string{}
	p := paramParser{s: rest}
	for {
		name, value, more, err := p.next()
		if err != nil {
			t.Fatalf("challenge %q: %v", challenge, err)
		}
		if !more {
			return out
		}
		out[name] = value
	}
}

// answer builds credentials as a UA would, for a challenge.
func answer(t testing.TB, challenge, user, password, nc string) *Credentials {
	t.Helper()
	p := challengeParams(t, challenge)
	c := &Credentials{
		Username: user, Realm: p["realm"], Nonce: p["nonce"], URI: "sip:example.com",
		Algorithm: p["algorithm"], CNonce: "0a4f113b", QOP: "auth", NC: nc,
		Opaque: p["opaque"],
	}
	alg, err := ParseAlgorithm(c.Algorithm)
	if err != nil {
		t.Fatal(err)
	}
	ha1, _ := HA1(alg, user, c.Realm, password)
	c.Response = expectedResponse(alg, ha1, "REGISTER", c)

	return c
}

func mustHA1(t *testing.T, alg Algorithm, user, realm, password string) string {
	t.Helper()
	ha1, err := HA1(alg, user, realm, password)
	if err != nil {
		t.Fatal(err)
	}

	return ha1
}

func TestChallengesFormat(t *testing.T) {
	s := NewServer(Options{})
	for _, stale := range []bool{false, true} {
		t.Run(fmt.Sprintf("stale=%v", stale), func(t *testing.T) {
			ch := s.Challenges(`we"ird\realm`, stale)
			if len(ch) != 2 {
				t.Fatalf("got %d challenges, want 2", len(ch))
			}
			first, second := challengeParams(t, ch[0]), challengeParams(t, ch[1])
			if first["algorithm"] != "SHA-256" || second["algorithm"] != "MD5" {
				t.Errorf("algorithms %q, %q; want SHA-256 then MD5",
					first["algorithm"], second["algorithm"])
			}
			for _, p := range []map[string]string{first, second} {
				if p["realm"] != `we"ird\realm` || p["qop"] != "auth" || p["opaque"] == "" {
					t.Errorf("params %v", p)
				}
				if _, ok := p["stale"]; ok != stale {
					t.Errorf("stale present = %v, want %v", ok, stale)
				}
			}
			if first["nonce"] != second["nonce"] || len(first["nonce"]) != nonceLen {
				t.Errorf("nonces %q, %q", first["nonce"], second["nonce"])
			}
		})
	}
	a, b := s.Challenges("r", false), s.Challenges("r", false)
	if challengeParams(t, a[0])["nonce"] == challengeParams(t, b[0])["nonce"] {
		t.Error("two challenges share a nonce")
	}
}

func TestVerify(t *testing.T) {
	for _, alg := range []Algorithm{SHA256, MD5} {
		t.Run(string(alg), func(t *testing.T) {
			s := NewServer(Options{})
			ch := s.Challenges("acme.example", false)
			i := 0
			if alg == MD5 {
				i = 1
			}
			c := answer(t, ch[i], "alice", "s3cret", "00000001")
			ha1 := mustHA1(t, alg, "alice", "acme.example", "s3cret")
			if err := s.Verify("REGISTER", c, ha1); err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if err := s.Verify("INVITE", c, ha1); !errors.Is(err, ErrBadResponse) {
				t.Errorf("other method: %v, want ErrBadResponse", err)
			}
			upper := *answer(t, ch[i], "alice", "s3cret", "00000002")
			upper.Response = strings.ToUpper(upper.Response)
			if err := s.Verify("REGISTER", &upper, strings.ToUpper(ha1)); err != nil {
				t.Errorf("upper-case hex: %v", err)
			}
		})
	}
}

func TestVerifyErrors(t *testing.T) {
	clock := newFakeClock()
	s := NewServer(Options{Now: clock.Now, NonceTTL: 10 * time.Second})
	other := NewServer(Options{Now: clock.Now})
	ha1 := mustHA1(t, MD5, "alice", "acme.example", "s3cret")
	fresh := func() string { return s.Challenges("acme.example", false)[1] }
	tests := []struct {
		name   string
		mangle func(c *Credentials)
		want   error
	}{
		{"wrong password", func(c *Credentials) {
			*c = *answer(t, fresh(), "alice", "guess", "00000001")
		}, ErrBadResponse},
		{"forged nonce", func(c *Credentials) {
			c.Nonce = base64.RawURLEncoding.EncodeToString(make([]byte, nonceRawSize))
		}, ErrBadNonce},
		{"flipped nonce byte", func(c *Credentials) {
			b := []byte(c.Nonce)
			b[20] ^= 1
			c.Nonce = string(b)
		}, ErrBadNonce},
		{"nonce of another realm", func(c *Credentials) {
			c.Nonce = challengeParams(t, s.Challenges("other.example", false)[1])["nonce"]
		}, ErrBadNonce},
		{"nonce of another secret", func(c *Credentials) {
			c.Nonce = challengeParams(t, other.Challenges("acme.example", false)[1])["nonce"]
		}, ErrBadNonce},
		{"short nonce", func(c *Credentials) { c.Nonce = "abc" }, ErrBadNonce},
		{"wrong opaque", func(c *Credentials) { c.Opaque = "00" }, ErrBadNonce},
		{"no qop", func(c *Credentials) { c.QOP = "" }, ErrUnsupported},
		{"auth-int", func(c *Credentials) { c.QOP = "auth-int" }, ErrUnsupported},
		{"sess algorithm", func(c *Credentials) { c.Algorithm = "MD5-sess" }, ErrUnsupported},
		{"no cnonce", func(c *Credentials) { c.CNonce = "" }, ErrMalformed},
		{"short nc", func(c *Credentials) { c.NC = "1" }, ErrMalformed},
		{"zero nc", func(c *Credentials) { c.NC = "00000000" }, ErrMalformed},
		{"non-hex nc", func(c *Credentials) { c.NC = "0000000g" }, ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := answer(t, fresh(), "alice", "s3cret", "00000001")
			tt.mangle(c)
			if err := s.Verify("REGISTER", c, ha1); !errors.Is(err, tt.want) {
				t.Errorf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestVerifyStale(t *testing.T) {
	clock := newFakeClock()
	s := NewServer(Options{Now: clock.Now, NonceTTL: 10 * time.Second})
	ha1 := mustHA1(t, MD5, "alice", "acme.example", "s3cret")
	ch := s.Challenges("acme.example", false)[1]
	clock.Advance(10 * time.Second)
	if err := s.Verify("REGISTER", answer(t, ch, "alice", "s3cret", "00000001"), ha1); err != nil {
		t.Fatalf("at exactly the TTL: %v", err)
	}
	clock.Advance(time.Nanosecond)
	if err := s.Verify("REGISTER", answer(t, ch, "alice", "s3cret", "00000002"),
		ha1); !errors.Is(err, ErrStale) {
		t.Errorf("past the TTL: %v, want ErrStale", err)
	}
	wrong := answer(t, ch, "alice", "guess", "00000003")
	if err := s.Verify("REGISTER", wrong, ha1); !errors.Is(err, ErrBadResponse) {
		t.Errorf("expired nonce with wrong password: %v, want ErrBadResponse", err)
	}
}

func TestVerifyReplay(t *testing.T) {
	s := NewServer(Options{})
	ha1 := mustHA1(t, SHA256, "alice", "acme.example", "s3cret")
	ch := s.Challenges("acme.example", false)[0]
	steps := []struct {
		nc   string
		want error
	}{
		{"00000001", nil},
		{"00000001", ErrReplay},
		{"00000003", nil},
		{"00000002", ErrReplay},
		{"00000003", ErrReplay},
		{"0000000a", nil},
	}
	for _, st := range steps {
		err := s.Verify("REGISTER", answer(t, ch, "alice", "s3cret", st.nc), ha1)
		if !errors.Is(err, st.want) || (st.want == nil && err != nil) {
			t.Errorf("nc %s: %v, want %v", st.nc, err, st.want)
		}
	}
	bad := answer(t, ch, "alice", "guess", "00000020")
	if err := s.Verify("REGISTER", bad, ha1); !errors.Is(err, ErrBadResponse) {
		t.Fatalf("wrong password: %v", err)
	}
	good := answer(t, ch, "alice", "s3cret", "0000000b")
	if err := s.Verify("REGISTER", good, ha1); err != nil {
		t.Errorf("a failed attempt advanced the count: %v", err)
	}
}

func TestVerifySharedSecret(t *testing.T) {
	secret := []byte("cluster secret")
	a, b := NewServer(Options{Secret: secret}), NewServer(Options{Secret: secret})
	ha1 := mustHA1(t, MD5, "bob", "acme.example", "pw")
	c := answer(t, a.Challenges("acme.example", false)[1], "bob", "pw", "00000001")
	if err := b.Verify("REGISTER", c, ha1); err != nil {
		t.Errorf("nonce of a peer with the same secret: %v", err)
	}
}

// TestEmptySecretIsRandom: an empty (not only nil) secret draws a random
// key, so that nobody can mint nonces for a server configured without one.
func TestEmptySecretIsRandom(t *testing.T) {
	a, b := NewServer(Options{Secret: []byte{}}), NewServer(Options{Secret: []byte{}})
	ha1 := mustHA1(t, MD5, "bob", "acme.example", "pw")
	c := answer(t, a.Challenges("acme.example", false)[1], "bob", "pw", "00000001")
	if err := b.Verify("REGISTER", c, ha1); !errors.Is(err, ErrBadNonce) {
		t.Errorf("nonce of another server with an empty secret: %v, want ErrBadNonce", err)
	}
}

func TestTrackedNoncesBound(t *testing.T) {
	clock := newFakeClock()
	s := NewServer(Options{Now: clock.Now, MaxTrackedNonces: 3})
	ha1 := mustHA1(t, MD5, "alice", "acme.example", "s3cret")
	var challenges []string
	for range 5 {
		challenges = append(challenges, s.Challenges("acme.example", false)[1])
		clock.Advance(time.Millisecond)
	}
	for i, ch := range challenges {
		if err := s.Verify("REGISTER", answer(t, ch, "alice", "s3cret", "00000001"),
			ha1); err != nil {
			t.Fatalf("nonce %d: %v", i, err)
		}
		if n := s.counts.len(); n > 3 {
			t.Fatalf("tracking %d nonces, bound is 3", n)
		}
	}
	forgotten := answer(t, challenges[0], "alice", "s3cret", "00000001")
	if err := s.Verify("REGISTER", forgotten, ha1); !errors.Is(err, ErrStale) {
		t.Errorf("replay of a forgotten nonce: %v, want ErrStale", err)
	}
	kept := answer(t, challenges[4], "alice", "s3cret", "00000001")
	if err := s.Verify("REGISTER", kept, ha1); !errors.Is(err, ErrReplay) {
		t.Errorf("replay of a tracked nonce: %v, want ErrReplay", err)
	}
}

func TestTrackedNoncesExpire(t *testing.T) {
	clock := newFakeClock()
	s := NewServer(Options{Now: clock.Now, NonceTTL: time.Second})
	ha1 := mustHA1(t, MD5, "alice", "acme.example", "s3cret")
	for range 100 {
		ch := s.Challenges("acme.example", false)[1]
		if err := s.Verify("REGISTER", answer(t, ch, "alice", "s3cret", "00000001"),
			ha1); err != nil {
			t.Fatal(err)
		}
	}
	clock.Advance(2 * time.Second)
	ch := s.Challenges("acme.example", false)[1]
	if err := s.Verify("REGISTER", answer(t, ch, "alice", "s3cret", "00000001"),
		ha1); err != nil {
		t.Fatal(err)
	}
	if n := s.counts.len(); n != 1 {
		t.Errorf("tracking %d nonces after expiry, want 1", n)
	}
}

func TestVerifyConcurrent(t *testing.T) {
	s := NewServer(Options{})
	ha1 := mustHA1(t, MD5, "alice", "acme.example", "s3cret")
	ch := s.Challenges("acme.example", false)[1]
	const workers, per = 8, 50
	creds := make([][]*Credentials, workers)
	for w := range creds {
		for range per {
			creds[w] = append(creds[w], answer(t, ch, "alice", "s3cret", "00000001"))
		}
	}
	var mu sync.Mutex
	accepted := 0
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for _, c := range creds[w] {
				if s.Verify("REGISTER", c, ha1) == nil {
					mu.Lock()
					accepted++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if accepted != 1 {
		t.Errorf("nc 00000001 accepted %d times, want once", accepted)
	}
}

func TestAlgorithmsOption(t *testing.T) {
	tests := []struct {
		name  string
		algs  []Algorithm
		want  []string // algorithm of each challenge
		md5OK bool
	}{
		{"default", nil, []string{"SHA-256", "MD5"}, true},
		{"md5 first", []Algorithm{MD5, SHA256}, []string{"MD5", "SHA-256"}, true},
		{"sha-256 only", []Algorithm{SHA256}, []string{"SHA-256"}, false},
		{"junk left out", []Algorithm{"SHA-512-256", "md5", MD5}, []string{"MD5"}, true},
		{"all junk", []Algorithm{"bogus"}, []string{"SHA-256", "MD5"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewServer(Options{Algorithms: tt.algs})
			ch := s.Challenges("acme.example", false)
			var got []string
			for _, c := range ch {
				got = append(got, challengeParams(t, c)["algorithm"])
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Fatalf("challenge algorithms %v, want %v", got, tt.want)
			}
			c := answer(t, ch[0], "alice", "pw", "00000001")
			c.Algorithm = "MD5"
			ha1 := mustHA1(t, MD5, "alice", "acme.example", "pw")
			c.Response = expectedResponse(MD5, ha1, "REGISTER", c)
			err := s.Verify("REGISTER", c, ha1)
			if tt.md5OK && err != nil {
				t.Errorf("MD5 credentials: %v", err)
			}
			if !tt.md5OK && !errors.Is(err, ErrUnsupported) {
				t.Errorf("MD5 credentials when not offered: %v, want ErrUnsupported", err)
			}
		})
	}
}

// TestUnusedNonceBelowWatermark checks that a nonce never used, issued
// before one the full table forgot, is refused as stale: the table cannot
// tell it from a forgotten one.
func TestUnusedNonceBelowWatermark(t *testing.T) {
	clock := newFakeClock()
	s := NewServer(Options{Now: clock.Now, MaxTrackedNonces: 2})
	ha1 := mustHA1(t, MD5, "alice", "acme.example", "s3cret")
	unused := s.Challenges("acme.example", false)[1]
	for range 3 {
		clock.Advance(time.Millisecond)
		ch := s.Challenges("acme.example", false)[1]
		if err := s.Verify("REGISTER", answer(t, ch, "alice", "s3cret", "00000001"),
			ha1); err != nil {
			t.Fatal(err)
		}
	}
	late := answer(t, unused, "alice", "s3cret", "00000001")
	if err := s.Verify("REGISTER", late, ha1); !errors.Is(err, ErrStale) {
		t.Errorf("unused nonce below the watermark: %v, want ErrStale", err)
	}
	fresh := answer(t, s.Challenges("acme.example", false)[1], "alice", "s3cret", "00000001")
	if err := s.Verify("REGISTER", fresh, ha1); err != nil {
		t.Errorf("a fresh nonce after eviction: %v", err)
	}
}
