package accounting

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// maxPrice bounds any single price (a million units) so that rating never
// overflows int64.
const maxPrice = 1_000_000 * MicroPerUnit

// planBody is the stored form of a plan's price tables.
type planBody struct {
	Rates       []Rate             `json:"rates"`
	UnitPrices  map[Category]int64 `json:"unit_prices"`
	UsagePrices map[Category]int64 `json:"usage_prices"`
}

// Validate checks every field of the plan and names the first bad one.
func (p *PricePlan) Validate() error {
	if len(p.PriceUnit) != 3 || strings.ToUpper(p.PriceUnit) != p.PriceUnit ||
		!isLetters(p.PriceUnit) {
		return fmt.Errorf("%w: price_unit %q, want an ISO 4217 code like USD", ErrInvalid,
			p.PriceUnit)
	}
	if p.MonthlyFee < 0 || p.MonthlyFee > maxPrice {
		return fmt.Errorf("%w: monthly_fee out of range", ErrInvalid)
	}
	if len(p.FriendlyName) > 256 {
		return fmt.Errorf("%w: friendly_name longer than 256", ErrInvalid)
	}
	seen := make(map[string]bool)
	for i, r := range p.Rates {
		if err := r.validate(); err != nil {
			return fmt.Errorf("%w (rates[%d])", err, i)
		}
		key := string(r.Category) + "|" + strings.TrimPrefix(r.Prefix, "+")
		if seen[key] {
			return fmt.Errorf("%w: rates[%d]: second rate for %s prefix %q", ErrInvalid, i,
				r.Category, r.Prefix)
		}
		seen[key] = true
	}
	for c, v := range p.UnitPrices {
		if !categories[c].metered || v < 0 || v > maxPrice {
			return fmt.Errorf("%w: unit_prices[%s]", ErrInvalid, c)
		}
	}
	for c, v := range p.UsagePrices {
		if !categories[c].metered || categories[c].usageSeconds == 0 || v < 0 || v > maxPrice {
			return fmt.Errorf("%w: usage_prices[%s]", ErrInvalid, c)
		}
	}

	return nil
}

func (r Rate) validate() error {
	switch r.Category {
	case CatCallsInbound, CatCallsOutboundAPI, CatCallsOutboundDial, CatCallsTrunking,
		CatMinutesRelayed, CatMinutesP2P, CatMinutesSRTP:
	default:
		return fmt.Errorf("%w: category %q has no per-minute rate", ErrInvalid, r.Category)
	}
	pre := strings.TrimPrefix(r.Prefix, "+")
	switch {
	case len(pre) > 16 || !allDigits(pre):
		return fmt.Errorf("%w: prefix %q, want digits", ErrInvalid, r.Prefix)
	case r.PerMinute < 0 || r.PerMinute > maxPrice:
		return fmt.Errorf("%w: price_per_minute out of range", ErrInvalid)
	case r.Initial < 0 || r.Initial > 86400 || r.Increment < 0 || r.Increment > 86400:
		return fmt.Errorf("%w: billing_increment out of range", ErrInvalid)
	case r.Minimum < 0 || r.Minimum > 86400:
		return fmt.Errorf("%w: minimum_seconds out of range", ErrInvalid)
	}

	return nil
}

func isLetters(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}

	return true
}

func newSID(prefix string) string {
	var b [16]byte
	_, _ = rand.Read(b[:])

	return prefix + hex.EncodeToString(b[:])
}

// CreatePricePlan validates and stores a new plan owned by p.AccountSID,
// assigning its SID and times, and returns it.
func (l *Ledger) CreatePricePlan(ctx context.Context, p PricePlan) (*PricePlan, error) {
	if p.AccountSID == "" {
		return nil, fmt.Errorf("%w: account_sid is empty", ErrInvalid)
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	p.SID = newSID("PL")
	p.Created = l.now().UTC().Truncate(1e6)
	p.Updated = p.Created
	body, err := json.Marshal(planBody{p.Rates, p.UnitPrices, p.UsagePrices})
	if err != nil {
		return nil, fmt.Errorf("accounting: encode plan: %w", err)
	}
	_, err = l.db.ExecContext(ctx, `INSERT INTO accounting_price_plans (sid, account_sid,
		friendly_name, price_unit, monthly_fee, body, created, updated, operator)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, p.SID, p.AccountSID, p.FriendlyName, p.PriceUnit,
		p.MonthlyFee, string(body), ms(p.Created), ms(p.Updated), p.OperatorOwned)
	if err != nil {
		return nil, fmt.Errorf("accounting: create plan: %w", err)
	}

	return &p, nil
}

// UpdatePricePlan replaces the price tables, name, unit and fee of an
// existing plan. Legs and meters already rated keep their prices; later ones
// use the new tables.
func (l *Ledger) UpdatePricePlan(ctx context.Context, p PricePlan) (*PricePlan, error) {
	old, err := l.PricePlan(ctx, p.SID)
	if err != nil {
		return nil, err
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	p.AccountSID, p.Created, p.OperatorOwned = old.AccountSID, old.Created, old.OperatorOwned
	p.Updated = l.now().UTC().Truncate(1e6)
	body, err := json.Marshal(planBody{p.Rates, p.UnitPrices, p.UsagePrices})
	if err != nil {
		return nil, fmt.Errorf("accounting: encode plan: %w", err)
	}
	_, err = l.db.ExecContext(ctx, `UPDATE accounting_price_plans SET friendly_name = ?,
		price_unit = ?, monthly_fee = ?, body = ?, updated = ? WHERE sid = ?`,
		p.FriendlyName, p.PriceUnit, p.MonthlyFee, string(body), ms(p.Updated), p.SID)
	if err != nil {
		return nil, fmt.Errorf("accounting: update plan %s: %w", p.SID, err)
	}
	l.plans.invalidate()

	return &p, nil
}

// DeletePricePlan removes a plan that no account is assigned to.
func (l *Ledger) DeletePricePlan(ctx context.Context, sid string) error {
	var n int
	err := l.db.QueryRowContext(ctx,
		`SELECT count(*) FROM accounting_plan_assignments WHERE plan_sid = ?`, sid).Scan(&n)
	if err != nil {
		return fmt.Errorf("accounting: delete plan %s: %w", sid, err)
	}
	if n > 0 {
		return fmt.Errorf("%w: plan %s is assigned to %d accounts", ErrInvalid, sid, n)
	}
	res, err := l.db.ExecContext(ctx, `DELETE FROM accounting_price_plans WHERE sid = ?`, sid)
	if err != nil {
		return fmt.Errorf("accounting: delete plan %s: %w", sid, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("%w: price plan %s", ErrNotFound, sid)
	}
	l.plans.invalidate()

	return nil
}

// PricePlan returns one plan or an error wrapping ErrNotFound.
func (l *Ledger) PricePlan(ctx context.Context, sid string) (*PricePlan, error) {
	list, err := l.queryPlans(ctx, `WHERE sid = ?`, sid)
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, fmt.Errorf("%w: price plan %s", ErrNotFound, sid)
	}

	return &list[0], nil
}

// PricePlans lists the plans an account owns, oldest first.
func (l *Ledger) PricePlans(ctx context.Context, accountSID string) ([]PricePlan, error) {
	return l.queryPlans(ctx, `WHERE account_sid = ? ORDER BY created, sid`, accountSID)
}

func (l *Ledger) queryPlans(ctx context.Context, tail string, args ...any) ([]PricePlan,
	error) {
	rows, err := l.db.QueryContext(ctx, `SELECT sid, account_sid, friendly_name, price_unit,
		monthly_fee, body, created, updated, operator FROM accounting_price_plans `+tail,
		args...)
	if err != nil {
		return nil, fmt.Errorf("accounting: read plans: %w", err)
	}
	defer rows.Close()
	var out []PricePlan
	for rows.Next() {
		var p PricePlan
		var body string
		var created, updated sql.NullInt64
		err := rows.Scan(&p.SID, &p.AccountSID, &p.FriendlyName, &p.PriceUnit,
			&p.MonthlyFee, &body, &created, &updated, &p.OperatorOwned)
		if err != nil {
			return nil, fmt.Errorf("accounting: read plans: %w", err)
		}
		var b planBody
		if err := json.Unmarshal([]byte(body), &b); err != nil {
			return nil, fmt.Errorf("accounting: plan %s: %w", p.SID, err)
		}
		p.Rates, p.UnitPrices, p.UsagePrices = b.Rates, b.UnitPrices, b.UsagePrices
		p.Created, p.Updated = fromMS(created), fromMS(updated)
		p.prepare()
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("accounting: read plans: %w", err)
	}

	return out, nil
}

// AssignPricePlan makes planSID the plan of accountSID and, through
// inheritance, of its descendants without a plan of their own. The plan
// must be owned by a strict ancestor of the account, or be an operator plan
// owned by the account itself; otherwise the error wraps ErrNotFound. An
// empty planSID removes the account's own plan, so that it inherits again.
// Who may assign is the API's concern (see Routes).
func (l *Ledger) AssignPricePlan(ctx context.Context, accountSID, planSID string) error {
	if planSID == "" {
		_, err := l.db.ExecContext(ctx,
			`DELETE FROM accounting_plan_assignments WHERE account_sid = ?`, accountSID)
		if err != nil {
			return fmt.Errorf("accounting: unassign plan of %s: %w", accountSID, err)
		}
		l.plans.invalidate()

		return nil
	}
	p, err := l.PricePlan(ctx, planSID)
	if err != nil {
		return err
	}
	ok, err := l.isSelfOrAncestor(ctx, p.AccountSID, accountSID)
	if err != nil {
		return err
	}
	if !ok || (p.AccountSID == accountSID && !p.OperatorOwned) {
		return fmt.Errorf("%w: price plan %s", ErrNotFound, planSID)
	}
	_, err = l.db.ExecContext(ctx, `INSERT INTO accounting_plan_assignments
		(account_sid, plan_sid, updated) VALUES (?, ?, ?)
		ON CONFLICT (account_sid) DO UPDATE SET plan_sid = excluded.plan_sid,
		updated = excluded.updated`, accountSID, planSID, ms(l.now()))
	if err != nil {
		return fmt.Errorf("accounting: assign plan to %s: %w", accountSID, err)
	}
	l.plans.invalidate()

	return nil
}

// EffectivePricePlan returns the plan that rates the account's use and the
// account it is assigned to (the account itself or an ancestor), or a nil
// plan when none applies.
func (l *Ledger) EffectivePricePlan(ctx context.Context, accountSID string) (*PricePlan,
	string, error) {
	return l.plans.resolve(ctx, accountSID)
}

// isSelfOrAncestor reports whether owner is account or one of its
// ancestors.
func (l *Ledger) isSelfOrAncestor(ctx context.Context, owner, account string) (bool, error) {
	sid := account
	for range maxTreeDepth {
		if sid == owner {
			return true, nil
		}
		parent, err := l.parentOf(ctx, sid)
		if err != nil {
			return false, err
		}
		if parent == "" {
			return false, nil
		}
		sid = parent
	}

	return false, errors.New("accounting: account tree too deep")
}
