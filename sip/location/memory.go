package location

import (
	"context"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"
	"unique"
)

// sweepInterval is how often Memory's goroutine removes expired bindings.
const sweepInterval = time.Second

// Memory is the in-process Store. It is safe for concurrent use. A
// goroutine removes expired bindings once a second (writes also remove the
// ones due) until Close, which stops it and waits for it. Bindings do not
// survive a restart and are not shared between nodes.
type Memory struct {
	now  func() time.Time
	stop chan struct{}
	done chan struct{}
	once sync.Once

	// mu guards the fields below.
	mu       sync.RWMutex
	closed   bool
	aors     map[string]*aorEntry
	accounts map[string]int // unexpired bindings per account
	expiry   expiryHeap     // every stored record, soonest expiry first
}

// aorEntry holds one AOR's records, ordered by contact.
type aorEntry struct {
	aor     string
	account unique.Handle[string]
	recs    []*record
}

// record is the compact stored form of a Binding: AOR and account live in
// the entry, repeated strings are interned, the transport is a code.
// Strings are cloned on the way in so that a record never pins the buffer
// of the SIP message it came from.
type record struct {
	entry     *aorEntry
	contact   string
	callID    string
	userAgent unique.Handle[string]
	node      unique.Handle[string]
	received  netip.AddrPort
	expires   int64 // Unix nanoseconds
	cseq      uint32
	heapIdx   int32
	transport uint8
}

var _ Store = (*Memory)(nil)

// NewMemory returns an empty Memory reading the clock now (time.Now when
// nil) and starts its sweeping goroutine.
func NewMemory(now func() time.Time) *Memory {
	if now == nil {
		now = time.Now
	}
	m := &Memory{
		now:      now,
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
		aors:     make(map[string]*aorEntry),
		accounts: make(map[string]int),
	}
	go m.sweepLoop()

	return m
}

func (m *Memory) sweepLoop() {
	defer close(m.done)
	t := time.NewTicker(sweepInterval)
	defer t.Stop()
	for {
		select {
		case <-m.stop:
			return
		case <-t.C:
			m.mu.Lock()
			m.sweepLocked(m.now().UnixNano())
			m.mu.Unlock()
		}
	}
}

// Close stops the sweeping goroutine and drops every binding. It is
// idempotent.
func (m *Memory) Close() error {
	m.once.Do(func() {
		close(m.stop)
		<-m.done
		m.mu.Lock()
		m.closed = true
		m.aors, m.accounts, m.expiry = nil, nil, nil
		m.mu.Unlock()
	})

	return nil
}

// Lookup returns the unexpired bindings of aor.
func (m *Memory) Lookup(_ context.Context, aor string) ([]Binding, error) {
	now := m.now().UnixNano()
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return nil, ErrClosed
	}

	return m.aors[aor].bindings(now), nil
}

// CountAccount returns the number of unexpired bindings of accountSID.
func (m *Memory) CountAccount(_ context.Context, accountSID string) (int, error) {
	now := m.now().UnixNano()
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return 0, ErrClosed
	}
	m.sweepLocked(now)

	return m.accounts[accountSID], nil
}

// Apply applies u atomically; see Store.
func (m *Memory) Apply(_ context.Context, u Update) ([]Binding, error) {
	if err := u.validate(); err != nil {
		return nil, err
	}
	nowT := m.now()
	now := nowT.UnixNano()
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, ErrClosed
	}
	m.sweepLocked(now)

	e := m.aors[u.AOR]
	if e != nil && e.account.Value() != u.AccountSID {
		m.dropEntryLocked(e)
		e = nil
	}
	var err error
	if u.RemoveAll {
		err = m.removeAllLocked(e, &u)
	} else {
		e, err = m.applyLocked(e, &u, nowT)
	}
	if err != nil {
		return nil, err
	}

	return e.bindings(now), nil
}

// removeAllLocked handles "Contact: *" (RFC 3261 section 10.3 step 6).
func (m *Memory) removeAllLocked(e *aorEntry, u *Update) error {
	if e == nil {
		return nil
	}
	for _, r := range e.recs {
		if u.conflicts(r.callID, r.cseq) {
			return ErrOutOfOrder
		}
	}
	m.dropEntryLocked(e)

	return nil
}

// applyLocked checks ordering and the limit, then sets and removes.
func (m *Memory) applyLocked(e *aorEntry, u *Update, now time.Time) (*aorEntry, error) {
	touched := u.touched(now)
	added, removed := 0, 0
	for contact, idx := range touched {
		r := e.find(contact)
		switch {
		case r != nil && u.conflicts(r.callID, r.cseq):
			return e, ErrOutOfOrder
		case r == nil && idx >= 0:
			added++
		case r != nil && idx < 0:
			removed++
		}
	}
	before := m.accounts[u.AccountSID]
	if overLimit(u.AccountLimit, before, before+added-removed) {
		return e, ErrLimit
	}

	if e == nil && added > 0 {
		e = &aorEntry{aor: strings.Clone(u.AOR), account: unique.Make(u.AccountSID)}
		m.aors[e.aor] = e
	}
	// Sets first: an entry that keeps a binding is never unlinked.
	for _, idx := range touched {
		if idx >= 0 {
			m.setLocked(e, u, &u.Set[idx])
		}
	}
	for contact, idx := range touched {
		if r := e.find(contact); idx < 0 && r != nil {
			m.removeLocked(r)
		}
	}

	return e, nil
}

// setLocked adds or refreshes the record for b in e.
func (m *Memory) setLocked(e *aorEntry, u *Update, b *Binding) {
	r := e.find(b.Contact)
	isNew := r == nil
	if isNew {
		r = &record{entry: e, contact: strings.Clone(b.Contact), heapIdx: -1}
		i, _ := e.search(b.Contact)
		e.recs = slices.Insert(e.recs, i, r)
		m.accounts[e.account.Value()]++
	}
	tc, _ := transportCode(b.Transport)
	if r.callID != u.CallID {
		r.callID = strings.Clone(u.CallID)
	}
	r.cseq = u.CSeq
	r.userAgent = unique.Make(b.UserAgent)
	r.node = unique.Make(b.Node)
	r.received = b.Received
	r.transport = tc
	r.expires = b.Expires.UnixNano()
	if isNew {
		m.expiry.push(r)
	} else {
		m.expiry.fix(r)
	}
}

// removeLocked removes r from its entry, the heap and the account count.
func (m *Memory) removeLocked(r *record) {
	e := r.entry
	if i, ok := e.search(r.contact); ok {
		e.recs = slices.Delete(e.recs, i, i+1)
	}
	m.expiry.remove(r)
	m.decAccountLocked(e.account.Value())
	if len(e.recs) == 0 {
		delete(m.aors, e.aor)
	}
}

// dropEntryLocked removes every record of e.
func (m *Memory) dropEntryLocked(e *aorEntry) {
	for _, r := range e.recs {
		m.expiry.remove(r)
		m.decAccountLocked(e.account.Value())
	}
	e.recs = nil
	delete(m.aors, e.aor)
}

func (m *Memory) decAccountLocked(account string) {
	if m.accounts[account] <= 1 {
		delete(m.accounts, account)
		return
	}
	m.accounts[account]--
}

// sweepLocked removes every record expired at now (Unix ns).
func (m *Memory) sweepLocked(now int64) {
	for len(m.expiry) > 0 && m.expiry[0].expires <= now {
		m.removeLocked(m.expiry[0])
	}
}

// search finds contact's position in e.recs.
func (e *aorEntry) search(contact string) (int, bool) {
	return slices.BinarySearchFunc(e.recs, contact, func(r *record, c string) int {
		return strings.Compare(r.contact, c)
	})
}

// find returns the record of contact, nil when e is nil or has none.
func (e *aorEntry) find(contact string) *record {
	if e == nil {
		return nil
	}
	if i, ok := e.search(contact); ok {
		return e.recs[i]
	}

	return nil
}

// bindings expands e's records unexpired at now (Unix ns).
func (e *aorEntry) bindings(now int64) []Binding {
	if e == nil {
		return nil
	}
	out := make([]Binding, 0, len(e.recs))
	for _, r := range e.recs {
		if r.expires <= now {
			continue
		}
		out = append(out, Binding{
			AOR: e.aor, AccountSID: e.account.Value(), Contact: r.contact,
			Received: r.received, Transport: transports[r.transport],
			CallID: r.callID, CSeq: r.cseq, Expires: time.Unix(0, r.expires),
			UserAgent: r.userAgent.Value(), Node: r.node.Value(),
		})
	}

	return out
}
