package location

import (
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
