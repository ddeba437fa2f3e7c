package sip

import (
	"context"
	"time"

	"github.com/patchbay/patchbay/tenancy"
)

// CallDirectoryCache is a CallDirectory that answers the lookups call
// control makes on every call (account, service settings, limits, trunks,
// applications) from memory. An answer is reused for at most its TTL, and
// not at all once the wrapped directory reports a write: when it has a
// Generation method (*tenancy.Store does), every change made through it,
// such as an API request suspending an account, disabling a service or
// lowering a limit, takes effect on the next call. Changes the wrapped
// directory does not report (another node's writes to a shared database)
// take effect within the TTL. ListDomains is not cached. Returned values
// are shared: callers must not modify them. It is safe for concurrent use.
type CallDirectoryCache struct {
	next     CallDirectory
	accounts *ttlCache[*tenancy.Account]
	services *ttlCache[*tenancy.Service]
	limits   *ttlCache[*tenancy.Limits]
	trunks   *ttlCache[[]*tenancy.Trunk]
	apps     *ttlCache[*tenancy.Application]
}

var _ CallDirectory = (*CallDirectoryCache)(nil)

// NewCallDirectoryCache returns a cache over next keeping answers for ttl
// (DefaultCacheTTL when zero or negative).
func NewCallDirectoryCache(next CallDirectory, ttl time.Duration) *CallDirectoryCache {
	if ttl <= 0 {
		ttl = DefaultCacheTTL
	}
	gen := generationOf(next)

	return &CallDirectoryCache{next: next,
		accounts: newTTLCache[*tenancy.Account](ttl, gen),
		services: newTTLCache[*tenancy.Service](ttl, gen),
		limits:   newTTLCache[*tenancy.Limits](ttl, gen),
		trunks:   newTTLCache[[]*tenancy.Trunk](ttl, gen),
		apps:     newTTLCache[*tenancy.Application](ttl, gen)}
}

// Generation passes on the wrapped directory's write counter, so that a
// cache stacked on this one stays exact; 0 when it has none.
func (d *CallDirectoryCache) Generation() uint64 {
	if g := generationOf(d.next); g != nil {
		return g()
	}

	return 0
}

// AccountBySID implements CallDirectory.
func (d *CallDirectoryCache) AccountBySID(ctx context.Context, sid string) (
	*tenancy.Account, error) {
	return d.accounts.get(sid, func() (*tenancy.Account, error) {
		return d.next.AccountBySID(ctx, sid)
	})
}

// AuthToken returns the account's auth token, for signing its status
// callbacks (webhook.TokenFunc).
func (d *CallDirectoryCache) AuthToken(ctx context.Context, accountSID string) (string, error) {
	a, err := d.AccountBySID(ctx, accountSID)
	if err != nil {
		return "", err
	}

	return a.AuthToken, nil
}

// ServiceSetting implements CallDirectory.
func (d *CallDirectoryCache) ServiceSetting(ctx context.Context, sid string,
	name tenancy.ServiceName) (*tenancy.Service, error) {
	return d.services.get(sid+"\x00"+string(name), func() (*tenancy.Service, error) {
		return d.next.ServiceSetting(ctx, sid, name)
	})
}

// AccountLimits implements CallDirectory.
func (d *CallDirectoryCache) AccountLimits(ctx context.Context, sid string) (
	*tenancy.Limits, error) {
	return d.limits.get(sid, func() (*tenancy.Limits, error) {
		return d.next.AccountLimits(ctx, sid)
	})
}

// AccountTrunks implements CallDirectory.
func (d *CallDirectoryCache) AccountTrunks(ctx context.Context, sid string) (
	[]*tenancy.Trunk, error) {
	return d.trunks.get(sid, func() ([]*tenancy.Trunk, error) {
		return d.next.AccountTrunks(ctx, sid)
	})
}

// ApplicationBySID implements CallDirectory.
func (d *CallDirectoryCache) ApplicationBySID(ctx context.Context, accountSID, sid string) (
	*tenancy.Application, error) {
	return d.apps.get(accountSID+"\x00"+sid, func() (*tenancy.Application, error) {
		return d.next.ApplicationBySID(ctx, accountSID, sid)
	})
}

// ListDomains implements CallDirectory; it is not cached.
func (d *CallDirectoryCache) ListDomains(ctx context.Context, accountSID string,
	p tenancy.Page) ([]*tenancy.Domain, bool, error) {
	return d.next.ListDomains(ctx, accountSID, p)
}
