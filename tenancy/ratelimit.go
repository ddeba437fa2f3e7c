package tenancy

import (
	"sync"
	"time"
)

// rateLimiter keeps one token bucket per account. A nil *rateLimiter allows
// everything. It is safe for concurrent use. Buckets of accounts idle long
// enough to be full again are dropped when the map grows, so memory stays
// bounded by the accounts active within one refill period.
type rateLimiter struct {
	rate  float64 // tokens per second
	burst float64

	// mu guards buckets.
	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

// maxIdleBuckets is the bucket count above which full buckets are swept.
const maxIdleBuckets = 10_000

func newRateLimiter(rate float64, burst int) *rateLimiter {
	if rate <= 0 {
		return nil
	}
	b := float64(burst)
	if burst <= 0 {
		b = max(1, rate)
	}

	return &rateLimiter{rate: rate, burst: b, buckets: map[string]*bucket{}}
}

// allow takes one token from key's bucket at time now. When the bucket is
// empty it reports false and how long until a token is due.
func (l *rateLimiter) allow(key string, now time.Time) (time.Duration, bool) {
	if l == nil {
		return 0, true
	}
	l.mu.Lock()
	defer l.mu.Unlock()

	b, ok := l.buckets[key]
	if !ok {
		if len(l.buckets) >= maxIdleBuckets {
			l.sweepLocked(now)
		}
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[key] = b
	}
	b.tokens = min(l.burst, b.tokens+now.Sub(b.last).Seconds()*l.rate)
	b.last = now
	if b.tokens < 1 {
		return time.Duration((1 - b.tokens) / l.rate * float64(time.Second)), false
	}
	b.tokens--

	return 0, true
}

// sweepLocked drops buckets that have refilled completely.
func (l *rateLimiter) sweepLocked(now time.Time) {
	for k, b := range l.buckets {
		if b.tokens+now.Sub(b.last).Seconds()*l.rate >= l.burst {
			delete(l.buckets, k)
		}
	}
}
