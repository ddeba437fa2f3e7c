package sip

import (
	"context"
	"errors"
	"net/netip"
	"sync"
	"time"

	"github.com/patchbay/patchbay/tenancy"
)

// DefaultCacheTTL is how long directory answers are reused (Config.CacheTTL).
const DefaultCacheTTL = 2 * time.Second

// maxCacheEntries bounds each lookup cache; a full cache is emptied.
const maxCacheEntries = 200000

// ttlCache keeps the answers of one directory lookup for a short time,
// found and not-found alike, so that a burst of REGISTERs or a scanner does
// not turn into a burst of store queries. Store errors other than not-found
// are never kept. When gen is set (a store's write counter, see
// generationer), an answer is also dropped as soon as the counter moves
// on from the value it had before the answer was read. It is safe for
// concurrent use.
type ttlCache[V any] struct {
	ttl time.Duration
	gen func() uint64 // nil: entries live out their TTL

	// mu guards m and inserts.
	mu      sync.Mutex
	m       map[string]cacheEntry[V]
	inserts int
}

// sweepEvery is how many inserts pass between sweeps of expired entries.
const sweepEvery = 1024

// sweepLocked drops expired entries, so that the cache holds about what
// TTL's worth of traffic touched.
func (c *ttlCache[V]) sweepLocked(now time.Time) {
	for k, e := range c.m {
		if !now.Before(e.exp) {
			delete(c.m, k)
		}
	}
}

type cacheEntry[V any] struct {
	v   V
	err error
	exp time.Time
	gen uint64 // the store's generation before v was read
}

// generationer is met by a directory whose answers can be checked for
// staleness (*tenancy.Store: Generation changes after each write).
type generationer interface{ Generation() uint64 }

// generationOf returns dir's Generation method, or nil when it has none.
func generationOf(dir any) func() uint64 {
	if g, ok := dir.(generationer); ok {
		return g.Generation
	}

	return nil
}

func newTTLCache[V any](ttl time.Duration, gen func() uint64) *ttlCache[V] {
	return &ttlCache[V]{ttl: ttl, gen: gen, m: make(map[string]cacheEntry[V])}
}

// get returns the cached answer for key or loads and keeps it.
func (c *ttlCache[V]) get(key string, load func() (V, error)) (V, error) {
	now := time.Now()
	var gen uint64
	if c.gen != nil {
		gen = c.gen()
	}
	c.mu.Lock()
	e, ok := c.m[key]
	c.mu.Unlock()
	if ok && now.Before(e.exp) && e.gen == gen {
		return e.v, e.err
	}
	v, err := load()
	if err != nil && !errors.Is(err, tenancy.ErrNotFound) {
		return v, err
	}
	c.mu.Lock()
	c.inserts++
	if c.inserts%sweepEvery == 0 {
		c.sweepLocked(now)
	}
	if len(c.m) >= maxCacheEntries {
		clear(c.m)
	}
	c.m[key] = cacheEntry[V]{v: v, err: err, exp: now.Add(c.ttl), gen: gen}
	c.mu.Unlock()

	return v, err
}

// cachedDirectory is a Directory answering repeated lookups from memory
// for a short TTL. Changes in the store (a password, a suspension) take
// effect within the TTL, and at once when the directory reports its
// writes (generationer) and they were made through it. Returned values are
// shared: callers must not modify them.
type cachedDirectory struct {
	next     Directory
	accounts *ttlCache[*tenancy.Account]
	domains  *ttlCache[*tenancy.Domain]
	services *ttlCache[*tenancy.Service]
	limits   *ttlCache[*tenancy.Limits]
	creds    *ttlCache[*tenancy.Credential]
	allows   *ttlCache[bool]
	trunks   *ttlCache[*tenancy.Trunk]
}

var _ Directory = (*cachedDirectory)(nil)

func newCachedDirectory(next Directory, ttl time.Duration) *cachedDirectory {
	gen := generationOf(next)

	return &cachedDirectory{next: next,
		accounts: newTTLCache[*tenancy.Account](ttl, gen),
		domains:  newTTLCache[*tenancy.Domain](ttl, gen),
		services: newTTLCache[*tenancy.Service](ttl, gen),
		limits:   newTTLCache[*tenancy.Limits](ttl, gen),
		creds:    newTTLCache[*tenancy.Credential](ttl, gen),
		allows:   newTTLCache[bool](ttl, gen),
		trunks:   newTTLCache[*tenancy.Trunk](ttl, gen)}
}

// AccountBySID implements Directory.
func (d *cachedDirectory) AccountBySID(ctx context.Context, sid string) (*tenancy.Account, error) {
	return d.accounts.get(sid, func() (*tenancy.Account, error) {
		return d.next.AccountBySID(ctx, sid)
	})
}

// DomainByName implements Directory.
func (d *cachedDirectory) DomainByName(ctx context.Context, name string) (*tenancy.Domain, error) {
	return d.domains.get(name, func() (*tenancy.Domain, error) {
		return d.next.DomainByName(ctx, name)
	})
}

// ServiceSetting implements Directory.
func (d *cachedDirectory) ServiceSetting(ctx context.Context, sid string,
	name tenancy.ServiceName) (*tenancy.Service, error) {
	return d.services.get(sid+"\x00"+string(name), func() (*tenancy.Service, error) {
		return d.next.ServiceSetting(ctx, sid, name)
	})
}

// AccountLimits implements Directory.
func (d *cachedDirectory) AccountLimits(ctx context.Context, sid string) (*tenancy.Limits, error) {
	return d.limits.get(sid, func() (*tenancy.Limits, error) {
		return d.next.AccountLimits(ctx, sid)
	})
}

// DomainCredential implements Directory.
func (d *cachedDirectory) DomainCredential(ctx context.Context, domainSID string,
	kind tenancy.MappingKind, user string) (*tenancy.Credential, error) {
	key := "d\x00" + domainSID + "\x00" + string(kind) + "\x00" + user
	return d.creds.get(key, func() (*tenancy.Credential, error) {
		return d.next.DomainCredential(ctx, domainSID, kind, user)
	})
}

// DomainAllowsAddr implements Directory.
func (d *cachedDirectory) DomainAllowsAddr(ctx context.Context, domainSID string,
	kind tenancy.MappingKind, addr netip.Addr) (bool, error) {
	key := domainSID + "\x00" + string(kind) + "\x00" + addr.String()
	return d.allows.get(key, func() (bool, error) {
		return d.next.DomainAllowsAddr(ctx, domainSID, kind, addr)
	})
}

// TrunkBySourceAddr implements Directory.
func (d *cachedDirectory) TrunkBySourceAddr(ctx context.Context, addr netip.Addr) (
	*tenancy.Trunk, error) {
	return d.trunks.get("a\x00"+addr.String(), func() (*tenancy.Trunk, error) {
		return d.next.TrunkBySourceAddr(ctx, addr)
	})
}

// TrunkByDomainName implements Directory.
func (d *cachedDirectory) TrunkByDomainName(ctx context.Context, name string) (
	*tenancy.Trunk, error) {
	return d.trunks.get("d\x00"+name, func() (*tenancy.Trunk, error) {
		return d.next.TrunkByDomainName(ctx, name)
	})
}

// TrunkCredential implements Directory.
func (d *cachedDirectory) TrunkCredential(ctx context.Context, trunkSID, user string) (
	*tenancy.Credential, error) {
	return d.creds.get("t\x00"+trunkSID+"\x00"+user, func() (*tenancy.Credential, error) {
		return d.next.TrunkCredential(ctx, trunkSID, user)
	})
}

// NumberByPhone implements Directory; numbers are not cached.
func (d *cachedDirectory) NumberByPhone(ctx context.Context, e164 string) (
	*tenancy.IncomingNumber, error) {
	return d.next.NumberByPhone(ctx, e164)
}

// VoiceRouteForNumber implements Directory; routes are not cached.
func (d *cachedDirectory) VoiceRouteForNumber(ctx context.Context, n *tenancy.IncomingNumber) (
	*tenancy.VoiceRoute, error) {
	return d.next.VoiceRouteForNumber(ctx, n)
}

// VoiceRouteForDomain implements Directory; routes are not cached.
func (d *cachedDirectory) VoiceRouteForDomain(ctx context.Context, dom *tenancy.Domain) (
	*tenancy.VoiceRoute, error) {
	return d.next.VoiceRouteForDomain(ctx, dom)
}
