package digest

import (
	"fmt"
	"testing"
)

func BenchmarkChallenges(b *testing.B) {
	s := NewServer(Options{})
	b.ReportAllocs()
	for b.Loop() {
		s.Challenges("acme.example", false)
	}
}

// BenchmarkChallengeVerify measures one full exchange: a challenge, the
// parse of the answer and its verification.
func BenchmarkChallengeVerify(b *testing.B) {
	for _, alg := range []Algorithm{MD5, SHA256} {
		b.Run(string(alg), func(b *testing.B) {
			s := NewServer(Options{})
			ha1, _ := HA1(alg, "alice", "acme.example", "s3cret")
			idx := map[Algorithm]int{SHA256: 0, MD5: 1}[alg]
			b.ReportAllocs()
			for b.Loop() {
				ch := s.Challenges("acme.example", false)[idx]
				c := answer(b, ch, "alice", "s3cret", "00000001")
				header := format(c)
				parsed, err := ParseCredentials(header)
				if err != nil {
					b.Fatal(err)
				}
				if err := s.Verify("REGISTER", parsed, ha1); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkVerify measures Verify alone, each iteration with a higher
// nonce-count on one nonce.
func BenchmarkVerify(b *testing.B) {
	for _, alg := range []Algorithm{MD5, SHA256} {
		b.Run(string(alg), func(b *testing.B) {
			s := NewServer(Options{})
			ha1, _ := HA1(alg, "alice", "acme.example", "s3cret")
			idx := map[Algorithm]int{SHA256: 0, MD5: 1}[alg]
			ch := s.Challenges("acme.example", false)[idx]
			creds := make([]*Credentials, 0, 1<<16)
			for i := 1; i <= cap(creds); i++ {
				creds = append(creds, answer(b, ch, "alice", "s3cret", fmt.Sprintf("%08x", i)))
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if i == len(creds) {
					b.StopTimer()
					s = NewServer(Options{Secret: s.secret})
					i = 0
					b.StartTimer()
				}
				if err := s.Verify("REGISTER", creds[i], ha1); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

func BenchmarkParseCredentials(b *testing.B) {
	h := readSeed(b, "md5.txt")
	b.ReportAllocs()
	b.SetBytes(int64(len(h)))
	for b.Loop() {
		if _, err := ParseCredentials(h); err != nil {
			b.Fatal(err)
		}
	}
}
