package location

import (
	"context"
	"fmt"
	"testing"
	"time"
)

func TestMemoryContract(t *testing.T) {
	runContract(t, contractEnv{
		unit: time.Second,
		newStore: func(t *testing.T) (Store, testClock) {
			clock := newFakeClock()
			m := NewMemory(clock.Now)
			t.Cleanup(func() { m.Close() })

			return m, clock
		},
	})
}

func TestMemorySweepFreesEverything(t *testing.T) {
	clock := newFakeClock()
	m := NewMemory(clock.Now)
	t.Cleanup(func() { m.Close() })
	ctx := context.Background()
	for i := range 500 {
		aor := fmt.Sprintf("u%d@acme.example", i%50)
		_, err := m.Apply(ctx, Update{AOR: aor, AccountSID: fmt.Sprintf("AC%d", i%7),
			CallID: fmt.Sprintf("c%d", i), CSeq: 1, Set: []Binding{{
				Contact: fmt.Sprintf("sip:d%d@192.0.2.1", i),
				Expires: clock.Now().Add(time.Duration(1+i%30) * time.Second),
			}}})
		if err != nil {
			t.Fatal(err)
		}
	}
	clock.Advance(31 * time.Second)
	if n, _ := m.CountAccount(ctx, "AC0"); n != 0 {
		t.Fatalf("CountAccount after expiry = %d", n)
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	if len(m.aors) != 0 || len(m.accounts) != 0 || len(m.expiry) != 0 {
		t.Errorf("left %d aors, %d accounts, %d heap entries", len(m.aors), len(m.accounts),
			len(m.expiry))
	}
}

// TestMemorySweeper checks that the background goroutine removes expired
// bindings without any call into the store.
func TestMemorySweeper(t *testing.T) {
	clock := newFakeClock()
	m := NewMemory(clock.Now)
	t.Cleanup(func() { m.Close() })
	_, err := m.Apply(context.Background(), Update{AOR: alice, AccountSID: acct,
		CallID: "c", CSeq: 1, Set: []Binding{{Contact: "sip:a@192.0.2.1",
			Expires: clock.Now().Add(time.Second)}}})
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(2 * time.Second)
	deadline := time.Now().Add(3 * sweepInterval)
	for time.Now().Before(deadline) {
		m.mu.RLock()
		n := len(m.expiry)
		m.mu.RUnlock()
		if n == 0 {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Error("the sweeper left an expired binding")
}
