package accounting

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"
)

// planCacheTTL bounds how long a resolved plan is reused; plan changes
// through the ledger clear the cache at once, this catches moves in the
// account tree.
const planCacheTTL = 30 * time.Second

// maxTreeDepth bounds the walk up the account tree.
const maxTreeDepth = 32

// planCache resolves and remembers each account's effective price plan.
type planCache struct {
	l *Ledger
	// mu guards byAccount.
	mu        sync.Mutex
	byAccount map[string]cachedPlan
}

type cachedPlan struct {
	plan *PricePlan // nil: no plan
	from string     // the account the plan is assigned to
	at   time.Time
}

func (c *planCache) init(l *Ledger) {
	c.l = l
	c.byAccount = make(map[string]cachedPlan)
}

func (c *planCache) invalidate() {
	c.mu.Lock()
	clear(c.byAccount)
	c.mu.Unlock()
}

// effective returns the account's plan or nil. When the plan cannot be
// resolved, it logs and returns nil, so that a leg is never lost for want
// of a price; the leg is then metered at zero price.
func (c *planCache) effective(ctx context.Context, account string) *PricePlan {
	p, _, err := c.resolve(ctx, account)
	if err != nil {
		c.l.log.Error("price plan unresolved, metering at zero price",
			"account_sid", account, "error", err)

		return nil
	}

	return p
}

// resolve returns the account's effective plan and the account it is
// assigned to.
func (c *planCache) resolve(ctx context.Context, account string) (*PricePlan, string, error) {
	now := time.Now()
	c.mu.Lock()
	hit, ok := c.byAccount[account]
	c.mu.Unlock()
	if ok && now.Sub(hit.at) < planCacheTTL {
		return hit.plan, hit.from, nil
	}
	plan, from, err := c.walk(ctx, account)
	if err != nil {
		return nil, "", err
	}
	c.mu.Lock()
	c.byAccount[account] = cachedPlan{plan: plan, from: from, at: now}
	c.mu.Unlock()

	return plan, from, nil
}

func (c *planCache) walk(ctx context.Context, account string) (*PricePlan, string, error) {
	sid := account
	for range maxTreeDepth {
		var planSID string
		err := c.l.db.QueryRowContext(ctx,
			`SELECT plan_sid FROM accounting_plan_assignments WHERE account_sid = ?`, sid).
			Scan(&planSID)
		switch {
		case err == nil:
			p, err := c.l.PricePlan(ctx, planSID)
			if err != nil {
				return nil, "", err
			}

			return p, sid, nil
		case !errors.Is(err, sql.ErrNoRows):
			return nil, "", fmt.Errorf("accounting: plan of %s: %w", sid, err)
		}
		parent, err := c.l.parentOf(ctx, sid)
		if err != nil {
			return nil, "", err
		}
		if parent == "" {
			return nil, "", nil
		}
		sid = parent
	}

	return nil, "", fmt.Errorf("accounting: account tree of %s deeper than %d", account,
		maxTreeDepth)
}
