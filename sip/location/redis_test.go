package location

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/patchbay/patchbay/sip/location/redistest"
)

// prefixSeq makes each store's keys distinct on a shared server.
var prefixSeq atomic.Int64

func newTestRedis(t testing.TB, url string) *Redis {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	prefix := fmt.Sprintf("patchbay-test:%d:%d:", time.Now().UnixNano(), prefixSeq.Add(1))
	r, err := NewRedis(ctx, url, prefix)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })

	return r
}

func TestRedisContract(t *testing.T) {
	url := redistest.URL(t)
	runContract(t, contractEnv{
		unit: 250 * time.Millisecond,
		newStore: func(t *testing.T) (Store, testClock) {
			return newTestRedis(t, url), realClock{}
		},
	})
}

func TestRedisBadURL(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := NewRedis(ctx, "http://nope", "p:"); err == nil {
		t.Error("NewRedis accepted an http URL")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	start := time.Now()
	_, err = NewRedis(ctx, "redis://"+addr, "p:")
	if !errors.Is(err, ErrUnavailable) {
		t.Errorf("NewRedis to a closed port: %v, want ErrUnavailable", err)
	}
	if d := time.Since(start); d > 4*time.Second {
		t.Errorf("NewRedis to a closed port took %v", d)
	}
}

// TestRedisRestart stops the server under a live Store: calls fail fast
// with ErrUnavailable, then work again once the server is back.
func TestRedisRestart(t *testing.T) {
	srv := redistest.Start(t)
	r := newTestRedis(t, srv.URL())
	u := Update{AOR: alice, AccountSID: acct, CallID: "c1", CSeq: 1,
		Set: []Binding{{Contact: "sip:a@192.0.2.1", Expires: time.Now().Add(time.Minute)}}}
	ctx := context.Background()
	if _, err := r.Apply(ctx, u); err != nil {
		t.Fatal(err)
	}

	srv.Stop()
	for _, op := range []struct {
		name string
		call func(ctx context.Context) error
	}{
		{"apply", func(ctx context.Context) error { _, err := r.Apply(ctx, u); return err }},
		{"lookup", func(ctx context.Context) error { _, err := r.Lookup(ctx, alice); return err }},
		{"count", func(ctx context.Context) error {
			_, err := r.CountAccount(ctx, acct)
			return err
		}},
	} {
		ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		start := time.Now()
		err := op.call(ctx)
		cancel()
		if !errors.Is(err, ErrUnavailable) {
			t.Errorf("%s with the server down: %v, want ErrUnavailable", op.name, err)
		}
		if d := time.Since(start); d > 3500*time.Millisecond {
			t.Errorf("%s with the server down took %v", op.name, d)
		}
	}

	srv.Restart()
	var err error
	for range 20 {
		u.CSeq++
		if _, err = r.Apply(ctx, u); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("Apply after the restart: %v", err)
	}
	got, err := r.Lookup(ctx, alice)
	if err != nil || len(got) != 1 {
		t.Fatalf("Lookup after the restart: %v, %v", got, err)
	}
}
