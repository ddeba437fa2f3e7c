package digest

import "sync"

// countTable remembers the highest nonce-count seen per nonce, for at most
// max nonces. When full it forgets the nonce first seen longest ago and
// raises its watermark to that nonce's issue time: a nonce issued at or
// before the watermark and not in the table may have been forgotten, so it
// is treated as stale rather than fresh, and a forgotten nonce can never be
// replayed. Entries whose nonce has expired are dropped as they reach the
// front of the queue. A countTable is safe for concurrent use.
type countTable struct {
	max int

	// mu guards the fields below.
	mu        sync.Mutex
	counts    map[nonceID]uint32
	queue     []nonceID // ring buffer in first-seen order
	head, n   int       // start and length of the ring
	watermark int64     // highest issue time (Unix ns) of a forgotten nonce
}

// countResult is what countTable.advance decided.
type countResult int

const (
	countOK        countResult = iota
	countReplay                // nc not above the highest seen
	countForgotten             // nonce may have been evicted: treat as stale
)

func newCountTable(limit int) *countTable {
	return &countTable{max: limit, counts: make(map[nonceID]uint32)}
}

// advance records nc for id when it is higher than any count seen for id.
// expiredBefore is the issue time (Unix ns) below which nonces are expired;
// such entries are dropped from the front of the queue first.
func (t *countTable) advance(id nonceID, nc uint32, expiredBefore int64) countResult {
	t.mu.Lock()
	defer t.mu.Unlock()

	t.dropExpiredLocked(expiredBefore)
	if last, ok := t.counts[id]; ok {
		if nc <= last {
			return countReplay
		}
		t.counts[id] = nc

		return countOK
	}
	if id.issued() <= t.watermark {
		return countForgotten
	}
	if t.n == t.max {
		t.evictLocked()
	}
	t.counts[id] = nc
	t.pushLocked(id)

	return countOK
}

// dropExpiredLocked forgets front entries issued before expiredBefore. An
// expired nonce is refused as stale anyway, so forgetting it is safe.
func (t *countTable) dropExpiredLocked(expiredBefore int64) {
	for t.n > 0 && t.queue[t.head].issued() < expiredBefore {
		t.popLocked()
	}
}

// evictLocked forgets the oldest entry and raises the watermark.
func (t *countTable) evictLocked() {
	id := t.popLocked()
	if iss := id.issued(); iss > t.watermark {
		t.watermark = iss
	}
}

func (t *countTable) popLocked() nonceID {
	id := t.queue[t.head]
	delete(t.counts, id)
	t.head = (t.head + 1) % len(t.queue)
	t.n--

	return id
}

// pushLocked appends id, growing the ring up to max entries.
func (t *countTable) pushLocked(id nonceID) {
	if t.n == len(t.queue) {
		size := min(max(2*len(t.queue), 64), t.max)
		grown := make([]nonceID, size)
		for i := range t.n {
			grown[i] = t.queue[(t.head+i)%len(t.queue)]
		}
		t.queue, t.head = grown, 0
	}
	t.queue[(t.head+t.n)%len(t.queue)] = id
	t.n++
}

// len reports the number of tracked nonces.
func (t *countTable) len() int {
	t.mu.Lock()
	defer t.mu.Unlock()

	return t.n
}
