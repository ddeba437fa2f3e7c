package accounting

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Statement is the billing information of an account for a period: its
// rated use and that of all its sub-accounts, rolled up, and the monthly
// fees of their plans. Lines sum exactly to Totals.
type Statement struct {
	AccountSID string
	Start, End string // UTC days, inclusive
	Lines      []StatementLine
	Accounts   []AccountTotal // per account of the tree with any charge
	Totals     []Money        // per price unit; one entry in a single-currency tree
	// CDRTotal is the sum of the prices of the tree's CDRs that ended in
	// the period, read from the CDRs themselves: equal to the call and
	// media lines, plus the recording-minutes of legs, which lets anyone
	// reconcile the two.
	CDRTotal  []Money
	Generated time.Time
}

// StatementLine is one rated category, or one monthly fee, of a statement.
type StatementLine struct {
	Category  Category // "" for a monthly fee line
	Kind      string   // "usage" or "monthly-fee"
	Count     int64
	CountUnit string
	Usage     int64
	UsageUnit string
	Price     int64
	PriceUnit string
}

// AccountTotal is what one account of the tree contributes to a statement.
type AccountTotal struct {
	AccountSID string
	Money
}

// Money is an amount in micro-units of a price unit.
type Money struct {
	Amount int64
	Unit   string
}

// Statement builds the statement of account (with its sub-accounts) for
// the days start to end, inclusive. It reads the daily usage records, not
// the CDRs one by one, so its cost grows with accounts and days, not calls.
// A monthly fee is charged for each account that has a plan assigned to it
// directly (as assigned now, not as it was during the period), once for
// every calendar month whose first day is in the period.
func (l *Ledger) Statement(ctx context.Context, account, start, end string) (*Statement,
	error) {
	if !validDay(start) || !validDay(end) || end < start {
		return nil, fmt.Errorf("%w: StartDate %q, EndDate %q", ErrInvalid, start, end)
	}
	accounts, err := l.accountsOf(ctx, account, true)
	if err != nil {
		return nil, err
	}
	st := &Statement{AccountSID: account, Start: start, End: end, Generated: l.now().UTC()}
	perAccount := make(map[string]map[string]int64)
	if err := l.statementUsage(ctx, st, accounts, perAccount); err != nil {
		return nil, err
	}
	if err := l.statementFees(ctx, st, accounts, perAccount); err != nil {
		return nil, err
	}
	if st.CDRTotal, err = l.cdrTotal(ctx, accounts, start, end); err != nil {
		return nil, err
	}
	st.finish(perAccount)

	return st, nil
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}

func (l *Ledger) statementUsage(ctx context.Context, st *Statement, accounts []string,
	perAccount map[string]map[string]int64) error {
	args := []any{st.Start, st.End}
	for _, a := range accounts {
		args = append(args, a)
	}
	rows, err := l.db.QueryContext(ctx, `SELECT account_sid, category, price_unit,
		sum(count), sum(usage), sum(price_micro) FROM accounting_usage
		WHERE day >= ? AND day <= ? AND account_sid IN (`+placeholders(len(accounts))+`)
		GROUP BY 1, 2, 3`, args...)
	if err != nil {
		return fmt.Errorf("accounting: statement: %w", err)
	}
	defer rows.Close()
	lines := make(map[[2]string]*StatementLine)
	for rows.Next() {
		var acct, cat, unit string
		var count, usage, price int64
		if err := rows.Scan(&acct, &cat, &unit, &count, &usage, &price); err != nil {
			return fmt.Errorf("accounting: statement: %w", err)
		}
		key := [2]string{cat, unit}
		ln := lines[key]
		if ln == nil {
			info := categories[Category(cat)]
			ln = &StatementLine{Category: Category(cat), Kind: "usage",
				CountUnit: info.countUnit, UsageUnit: info.usageUnit, PriceUnit: unit}
			lines[key] = ln
		}
		ln.Count += count
		ln.Usage += usage
		ln.Price += price
		addTo(perAccount, acct, unit, price)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("accounting: statement: %w", err)
	}
	for _, ln := range lines {
		st.Lines = append(st.Lines, *ln)
	}

	return nil
}

func addTo(m map[string]map[string]int64, acct, unit string, v int64) {
	if m[acct] == nil {
		m[acct] = make(map[string]int64)
	}
	m[acct][unit] += v
}

// statementFees adds one monthly-fee line per price unit.
func (l *Ledger) statementFees(ctx context.Context, st *Statement, accounts []string,
	perAccount map[string]map[string]int64) error {
	months := monthsStarting(st.Start, st.End)
	if months == 0 {
		return nil
	}
	args := make([]any, len(accounts))
	for i, a := range accounts {
		args[i] = a
	}
	rows, err := l.db.QueryContext(ctx, `SELECT a.account_sid, p.monthly_fee, p.price_unit
		FROM accounting_plan_assignments a JOIN accounting_price_plans p ON p.sid = a.plan_sid
		WHERE p.monthly_fee > 0 AND a.account_sid IN (`+placeholders(len(accounts))+`)`,
		args...)
	if err != nil {
		return fmt.Errorf("accounting: statement fees: %w", err)
	}
	defer rows.Close()
	fees := make(map[string]*StatementLine)
	for rows.Next() {
		var acct, unit string
		var fee int64
		if err := rows.Scan(&acct, &fee, &unit); err != nil {
			return fmt.Errorf("accounting: statement fees: %w", err)
		}
		ln := fees[unit]
		if ln == nil {
			ln = &StatementLine{Kind: "monthly-fee", CountUnit: "months", PriceUnit: unit}
			fees[unit] = ln
		}
		ln.Count += int64(months)
		ln.Price += fee * int64(months)
		addTo(perAccount, acct, unit, fee*int64(months))
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("accounting: statement fees: %w", err)
	}
	for _, ln := range fees {
		st.Lines = append(st.Lines, *ln)
	}

	return nil
}

// monthsStarting counts the months whose first day lies in [start, end].
func monthsStarting(start, end string) int {
	s, _ := time.Parse(time.DateOnly, start)
	e, _ := time.Parse(time.DateOnly, end)
	m := time.Date(s.Year(), s.Month(), 1, 0, 0, 0, 0, time.UTC)
	if m.Before(s) {
		m = m.AddDate(0, 1, 0)
	}
	n := 0
	for ; !m.After(e); m = m.AddDate(0, 1, 0) {
		n++
	}

	return n
}

// cdrTotal sums the prices of the CDRs that ended in the period.
func (l *Ledger) cdrTotal(ctx context.Context, accounts []string, start, end string) (
	[]Money, error) {
	from, _ := time.Parse(time.DateOnly, start)
	to, _ := time.Parse(time.DateOnly, end)
	var out []Money
	byUnit := make(map[string]int64)
	for _, a := range accounts {
		rows, err := l.db.QueryContext(ctx, `SELECT price_unit, sum(price_micro)
			FROM accounting_cdrs WHERE account_sid = ? AND ended >= ? AND ended < ?
			AND price_micro <> 0 GROUP BY 1`, a, from.UnixMilli(), to.AddDate(0, 0, 1).UnixMilli())
		if err != nil {
			return nil, fmt.Errorf("accounting: statement cdrs: %w", err)
		}
		for rows.Next() {
			var unit string
			var sum int64
			if err := rows.Scan(&unit, &sum); err != nil {
				rows.Close()

				return nil, fmt.Errorf("accounting: statement cdrs: %w", err)
			}
			byUnit[unit] += sum
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("accounting: statement cdrs: %w", err)
		}
	}
	for unit, sum := range byUnit {
		out = append(out, Money{Amount: sum, Unit: unit})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Unit < out[j].Unit })

	return out, nil
}

// finish orders the lines and sums the totals from them.
func (st *Statement) finish(perAccount map[string]map[string]int64) {
	sort.Slice(st.Lines, func(i, j int) bool {
		a, b := st.Lines[i], st.Lines[j]
		if a.Kind != b.Kind {
			return a.Kind == "monthly-fee"
		}
		if a.Category != b.Category {
			return a.Category < b.Category
		}

		return a.PriceUnit < b.PriceUnit
	})
	totals := make(map[string]int64)
	for _, ln := range st.Lines {
		totals[ln.PriceUnit] += ln.Price
	}
	for unit, v := range totals {
		st.Totals = append(st.Totals, Money{Amount: v, Unit: unit})
	}
	sort.Slice(st.Totals, func(i, j int) bool { return st.Totals[i].Unit < st.Totals[j].Unit })
	for acct, units := range perAccount {
		for unit, v := range units {
			st.Accounts = append(st.Accounts, AccountTotal{AccountSID: acct,
				Money: Money{Amount: v, Unit: unit}})
		}
	}
	sort.Slice(st.Accounts, func(i, j int) bool {
		return st.Accounts[i].AccountSID < st.Accounts[j].AccountSID
	})
}
