package keyedmac

import (
	"crypto/hmac"
	"crypto/sha256"
	"sync"
	"testing"
)

func TestSumMatchesHMAC(t *testing.T) {
	secret := []byte("0123456789abcdef")
	k := New(secret)
	for _, msg := range []string{"", "udp 127.0.0.1:5060 udp 127.0.0.1:5070", "x"} {
		want := hmac.New(sha256.New, secret)
		want.Write([]byte(msg))
		// Twice: the second Sum reuses a pooled state, which must start reset.
		for range 2 {
			got := k.Sum([]byte(msg))
			if !hmac.Equal(got[:], want.Sum(nil)) {
				t.Fatalf("Sum(%q) = %x, want %x", msg, got, want.Sum(nil))
			}
		}
	}
}

func TestKeysDiffer(t *testing.T) {
	a, b := New([]byte("key a")), New([]byte("key b"))
	if a.Sum([]byte("m")) == b.Sum([]byte("m")) {
		t.Fatal("two keys gave the same tag")
	}
}

func TestConcurrentSums(t *testing.T) {
	k := New([]byte("shared"))
	want := k.Sum([]byte("message"))
	var wg sync.WaitGroup
	errs := make(chan [Size]byte, 64)
	for range 8 {
		wg.Go(func() {
			for range 1000 {
				if got := k.Sum([]byte("message")); got != want {
					errs <- got
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for got := range errs {
		t.Fatalf("concurrent Sum = %x, want %x", got, want)
	}
}
