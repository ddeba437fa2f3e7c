package accounting

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// Granularity says how usage records are grouped in time.
type Granularity string

// The granularities of usage records.
const (
	GranularityAll     Granularity = ""        // one record per category for the range
	GranularityDaily   Granularity = "daily"   // one per category and day with use
	GranularityMonthly Granularity = "monthly" // one per category and month with use
	GranularityYearly  Granularity = "yearly"  // one per category and year with use
)

// UsageQuery selects usage records. Start and End are UTC days
// ("2006-01-02"), both inclusive.
type UsageQuery struct {
	AccountSID string
	// IncludeSubaccounts adds the use of every descendant account to the
	// account's records (the CPaaS API's default is true).
	IncludeSubaccounts bool
	Category           Category // "" for every category
	Start, End         string
	Granularity        Granularity
	// Trunk limits call categories to one trunk's legs (Patchbay only).
	Trunk string
}

// UsageRecord is one account's use of one category in one period.
type UsageRecord struct {
	AccountSID string
	Category   Category
	StartDate  string // UTC day, inclusive
	EndDate    string // UTC day, inclusive
	Count      int64
	CountUnit  string
	Usage      int64  // in the category's base unit: seconds for minutes and hours
	UsageUnit  string // the unit UsageString is in
	Price      int64  // micro-units
	PriceUnit  string
}

// UsageString renders Usage in UsageUnit, e.g. "12.5" minutes.
func (r *UsageRecord) UsageString() string { return formatUsage(r.Category, r.Usage) }

// accountsOf returns the account and, when asked, its descendants.
func (l *Ledger) accountsOf(ctx context.Context, sid string, subs bool) ([]string, error) {
	out := []string{sid}
	if !subs || l.cfg.Accounts == nil {
		return out, nil
	}
	more, err := l.cfg.Accounts.SubAccountSIDs(ctx, sid)
	if err != nil {
		return nil, fmt.Errorf("accounting: sub-accounts of %s: %w", sid, err)
	}

	return append(out, more...), nil
}

func validDay(s string) bool {
	_, err := time.Parse(time.DateOnly, s)

	return err == nil
}

// UsageRecords returns the account's usage records for the query, ordered
// by period and then category. Leaf categories with use appear once per
// period, the calls and totalprice aggregates whenever any of their parts
// do; with GranularityAll every category appears, used or not.
func (l *Ledger) UsageRecords(ctx context.Context, q UsageQuery) ([]UsageRecord, error) {
	if q.Category != "" && !q.Category.Known() {
		return nil, fmt.Errorf("%w: Category %q", ErrInvalid, q.Category)
	}
	if !validDay(q.Start) || !validDay(q.End) || q.End < q.Start {
		return nil, fmt.Errorf("%w: StartDate %q, EndDate %q", ErrInvalid, q.Start, q.End)
	}
	accounts, err := l.accountsOf(ctx, q.AccountSID, q.IncludeSubaccounts)
	if err != nil {
		return nil, err
	}
	rows, err := l.sumUsage(ctx, accounts, q)
	if err != nil {
		return nil, err
	}
	records := l.withAggregates(rows, q)
	if q.Category != "" {
		kept := records[:0]
		for _, r := range records {
			if r.Category == q.Category {
				kept = append(kept, r)
			}
		}
		records = kept
	}

	return records, nil
}

// periodKey groups days by the granularity.
func periodKey(g Granularity) string {
	switch g {
	case GranularityDaily:
		return "day"
	case GranularityMonthly:
		return "substr(day, 1, 7)"
	case GranularityYearly:
		return "substr(day, 1, 4)"
	}

	return "''"
}

type usageRow struct {
	period   string
	category Category
	count    int64
	usage    int64
	price    int64
	unit     string
}

func (l *Ledger) sumUsage(ctx context.Context, accounts []string, q UsageQuery) ([]usageRow,
	error) {
	args := []any{q.Start, q.End}
	marks := make([]string, len(accounts))
	for i, a := range accounts {
		marks[i] = "?"
		args = append(args, a)
	}
	cond := ""
	if q.Trunk != "" {
		cond = " AND subject = ?"
		args = append(args, q.Trunk)
	}
	key := periodKey(q.Granularity)
	rows, err := l.db.QueryContext(ctx, `SELECT `+key+`, category, price_unit, sum(count),
		sum(usage), sum(price_micro) FROM accounting_usage
		WHERE day >= ? AND day <= ? AND account_sid IN (`+strings.Join(marks, ",")+`)`+cond+`
		GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`, args...)
	if err != nil {
		return nil, fmt.Errorf("accounting: usage: %w", err)
	}
	defer rows.Close()
	var out []usageRow
	for rows.Next() {
		var r usageRow
		var cat string
		if err := rows.Scan(&r.period, &cat, &r.unit, &r.count, &r.usage, &r.price); err != nil {
			return nil, fmt.Errorf("accounting: usage: %w", err)
		}
		r.category = Category(cat)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("accounting: usage: %w", err)
	}

	return out, nil
}

// recordSet collects records by period, category and price unit.
type recordSet struct {
	q        UsageQuery
	byPeriod map[string]map[recordKey]*UsageRecord
	periods  []string
}

type recordKey struct {
	category Category
	unit     string
}

// get returns the record of category c in unit in period, creating it
// empty.
func (rs *recordSet) get(period string, c Category, unit string) *UsageRecord {
	m := rs.byPeriod[period]
	if m == nil {
		m = make(map[recordKey]*UsageRecord)
		rs.byPeriod[period] = m
		rs.periods = append(rs.periods, period)
	}
	k := recordKey{c, unit}
	r := m[k]
	if r == nil {
		info := categories[c]
		from, to := periodBounds(period, rs.q)
		r = &UsageRecord{AccountSID: rs.q.AccountSID, Category: c, StartDate: from,
			EndDate: to, CountUnit: info.countUnit, UsageUnit: info.usageUnit,
			PriceUnit: unit}
		m[k] = r
	}

	return r
}

// add sums a row into its category and the aggregates it belongs to;
// totalprice takes only the price.
func (rs *recordSet) add(row usageRow) {
	targets := []*UsageRecord{rs.get(row.period, row.category, row.unit)}
	for _, agg := range aggregates {
		if slices.Contains(categories[agg].parts, row.category) {
			targets = append(targets, rs.get(row.period, agg, row.unit))
		}
	}
	for _, r := range targets {
		r.Count += row.count
		r.Usage += row.usage
		r.Price += row.price
	}
	rs.get(row.period, CatTotalPrice, row.unit).Price += row.price
}

// fill adds a zero record in unit for every category of period that has
// none, so that the all-time form lists every category.
func (rs *recordSet) fill(period, unit string) {
	have := make(map[Category]bool)
	for k := range rs.byPeriod[period] {
		have[k.category] = true
	}
	all := append(append(slices.Clone(leafCategories), aggregates...), CatTotalPrice)
	for _, c := range all {
		if !have[c] {
			rs.get(period, c, unit)
		}
	}
}

// sorted returns the records by period, category and unit.
func (rs *recordSet) sorted() []UsageRecord {
	sort.Strings(rs.periods)
	var out []UsageRecord
	for _, p := range rs.periods {
		start := len(out)
		for _, r := range rs.byPeriod[p] {
			if r.PriceUnit == "" {
				r.PriceUnit = "USD"
			}
			out = append(out, *r)
		}
		part := out[start:]
		sort.Slice(part, func(i, j int) bool {
			if part[i].Category != part[j].Category {
				return part[i].Category < part[j].Category
			}

			return part[i].PriceUnit < part[j].PriceUnit
		})
	}

	return out
}

// withAggregates turns summed rows into records, adding the aggregates.
func (l *Ledger) withAggregates(rows []usageRow, q UsageQuery) []UsageRecord {
	rs := &recordSet{q: q, byPeriod: make(map[string]map[recordKey]*UsageRecord)}
	for _, row := range rows {
		rs.add(row)
	}
	if q.Granularity == GranularityAll {
		unit := "USD"
		if len(rows) > 0 {
			unit = rows[0].unit
		}
		rs.fill("", unit)
	}

	return rs.sorted()
}

// periodBounds returns the first and last day of a period key, clipped to
// the query's range.
func periodBounds(period string, q UsageQuery) (string, string) {
	from, to := q.Start, q.End
	switch len(period) {
	case 10:
		from, to = period, period
	case 7:
		m, _ := time.Parse("2006-01", period)
		from, to = m.Format(time.DateOnly), m.AddDate(0, 1, -1).Format(time.DateOnly)
	case 4:
		from, to = period+"-01-01", period+"-12-31"
	}

	return max(from, q.Start), min(to, q.End)
}
