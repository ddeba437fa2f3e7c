package location

import (
	"context"
	"fmt"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/patchbay/patchbay/sip/location/redistest"
)

// benchUpdate is a realistic REGISTER of device i: one contact, a UUID-sized
// Call-ID, a shared User-Agent, 100 accounts.
func benchUpdate(i int, cseq uint32, now time.Time) Update {
	aor := fmt.Sprintf("user%06d@acme%02d.sip.example.com", i, i%100)

	return Update{
		AOR: aor, AccountSID: fmt.Sprintf("AC%032d", i%100),
		CallID: fmt.Sprintf("%08x-4f2a-4c3b-9d1e-%012x", i, i), CSeq: cseq,
		Set: []Binding{{
			Contact: fmt.Sprintf("sip:user%06d@10.%d.%d.%d:5062;transport=tcp;ob",
				i, i>>16&255, i>>8&255, i&255),
			Received: netip.AddrPortFrom(
				netip.AddrFrom4([4]byte{198, 51, byte(i >> 8), byte(i)}), 40000),
			Transport: "tcp", UserAgent: "Yealink SIP-T46S 66.86.0.15", Node: "node-a",
			Expires: now.Add(time.Hour),
		}},
	}
}

func benchStores(b *testing.B) map[string]func(b *testing.B) Store {
	return map[string]func(b *testing.B) Store{
		"memory": func(b *testing.B) Store {
			m := NewMemory(nil)
			b.Cleanup(func() { m.Close() })
			return m
		},
		"redis": func(b *testing.B) Store { return newTestRedis(b, redistest.URL(b)) },
	}
}

func BenchmarkApply(b *testing.B) {
	for _, name := range []string{"memory", "redis"} {
		b.Run(name, func(b *testing.B) {
			s := benchStores(b)[name](b)
			ctx := context.Background()
			now := time.Now()
			const devices = 10000
			updates := make([]Update, devices)
			for i := range updates {
				updates[i] = benchUpdate(i, 1, now)
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				u := updates[i%devices]
				u.CSeq = uint32(i/devices + 1)
				if _, err := s.Apply(ctx, u); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

func BenchmarkLookup(b *testing.B) {
	for _, name := range []string{"memory", "redis"} {
		b.Run(name, func(b *testing.B) {
			s := benchStores(b)[name](b)
			ctx := context.Background()
			const devices = 10000
			aors := make([]string, devices)
			for i := range aors {
				u := benchUpdate(i, 1, time.Now())
				aors[i] = u.AOR
				if _, err := s.Apply(ctx, u); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				got, err := s.Lookup(ctx, aors[i%devices])
				if err != nil || len(got) != 1 {
					b.Fatalf("lookup: %v, %v", got, err)
				}
				i++
			}
		})
	}
}

// BenchmarkMemoryFootprint100k stores 100,000 devices in a Memory and
// reports the live heap they take per binding.
func BenchmarkMemoryFootprint100k(b *testing.B) {
	const devices = 100000
	now := time.Now()
	updates := make([]Update, devices)
	for i := range updates {
		updates[i] = benchUpdate(i, 1, now)
	}
	ctx := context.Background()
	for b.Loop() {
		before := heapInUse()
		m := NewMemory(nil)
		for _, u := range updates {
			if _, err := m.Apply(ctx, u); err != nil {
				b.Fatal(err)
			}
		}
		after := heapInUse()
		b.ReportMetric(float64(after-before)/devices, "bytes/binding")
		runtime.KeepAlive(updates)
		m.Close()
	}
}

func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)

	return ms.HeapAlloc
}
