package accounting

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// PricePlan prices an account's use. An account uses the plan assigned to
// it, else its parent's, and so on up; an account with no plan anywhere
// above it is metered at zero price. Amounts are micro-units of PriceUnit.
type PricePlan struct {
	SID          string // "PL" + 32 hex
	AccountSID   string // the owner; the plan may be assigned to it and its descendants
	FriendlyName string
	PriceUnit    string // ISO 4217 code, e.g. "USD"
	MonthlyFee   int64  // charged once per calendar month on statements
	// OperatorOwned marks a plan the operator made: only the operator may
	// change or delete it, and it may be assigned to its owner itself.
	OperatorOwned bool
	Rates         []Rate
	// UnitPrices prices each counted unit of a metered category (one
	// recording, one webhook request, ...).
	UnitPrices map[Category]int64
	// UsagePrices prices each usage unit (minute, hour) of a metered
	// category such as recording-minutes or registered-device-hours,
	// rounded up to the micro-unit per metered amount.
	UsagePrices map[Category]int64
	Created     time.Time
	Updated     time.Time

	// index finds rates by category and normalised prefix; nil until
	// prepare, when rate falls back to a scan.
	index map[Category]map[string]Rate
}

// prepare builds the plan's rate index. Plans read from the store are
// prepared; a prepared plan must not be changed.
func (p *PricePlan) prepare() {
	p.index = make(map[Category]map[string]Rate)
	for _, r := range p.Rates {
		m := p.index[r.Category]
		if m == nil {
			m = make(map[string]Rate)
			p.index[r.Category] = m
		}
		m[strings.TrimPrefix(r.Prefix, "+")] = r
	}
}

// Rate prices the minutes of one call or media category. Of the rates of a
// category whose Prefix begins the destination, the longest prefix wins; an
// empty Prefix matches every destination. Prefixes and destinations are
// compared as digits without "+", and a SIP URI's user part is used.
type Rate struct {
	Category  Category
	Prefix    string
	PerMinute int64 // micro-units per minute
	// Initial and Increment are the billing increments in seconds, e.g.
	// 60/60, 6/6 or 1/1 (1/1 when zero): the first Initial seconds are
	// billed whole, then each started Increment.
	Initial   int64
	Increment int64
	// Minimum is the least billable duration of an answered leg, seconds.
	Minimum int64
}

// Increments formats the billing increments as "initial/increment".
func (r Rate) Increments() string {
	i, n := r.increments()

	return strconv.FormatInt(i, 10) + "/" + strconv.FormatInt(n, 10)
}

func (r Rate) increments() (initial, next int64) {
	initial, next = r.Initial, r.Increment
	if next <= 0 {
		next = 1
	}
	if initial <= 0 {
		initial = next
	}

	return initial, next
}

// ParseIncrements parses "60/60", "6/6", "1/1" or "30/6".
func ParseIncrements(s string) (initial, next int64, err error) {
	a, b, ok := strings.Cut(s, "/")
	initial, err1 := strconv.ParseInt(a, 10, 64)
	next, err2 := strconv.ParseInt(b, 10, 64)
	if !ok || err1 != nil || err2 != nil || initial <= 0 || next <= 0 ||
		initial > 86400 || next > 86400 {
		return 0, 0, fmt.Errorf("%w: billing increment %q, want like 60/60", ErrInvalid, s)
	}

	return initial, next, nil
}

// BillableSeconds applies the rate's minimum and increments to a talk time
// of talk seconds. A leg with no talk time is not billed.
func (r Rate) BillableSeconds(talk int64) int64 {
	if talk <= 0 {
		return 0
	}
	talk = max(talk, r.Minimum)
	initial, next := r.increments()
	if talk <= initial {
		return initial
	}

	return initial + ceilDiv(talk-initial, next)*next
}

// Price returns the charge for billable seconds, rounded up to the
// micro-unit. It is split so that a year at the highest valid rate does not
// overflow.
func (r Rate) Price(billable int64) int64 {
	if billable <= 0 {
		return 0
	}

	return billable/60*r.PerMinute + ceilDiv(billable%60*r.PerMinute, 60)
}

// normalizeDest reduces a number or SIP URI to the digits rates compare.
func normalizeDest(s string) string {
	if i := strings.IndexByte(s, ':'); i >= 0 && strings.HasPrefix(s, "sip") {
		s = s[i+1:]
		if at := strings.IndexByte(s, '@'); at >= 0 {
			s = s[:at]
		}
	}
	s = strings.TrimPrefix(s, "+")
	if !allDigits(s) {
		return ""
	}

	return s
}

// rate returns the best rate of category c for destination dest: with the
// index, one lookup per digit of dest, longest first.
func (p *PricePlan) rate(c Category, dest string) (Rate, bool) {
	d := normalizeDest(dest)
	if p.index != nil {
		m := p.index[c]
		for n := len(d); n >= 0 && m != nil; n-- {
			if r, ok := m[d[:n]]; ok {
				return r, true
			}
		}

		return Rate{}, false
	}
	best, found := Rate{}, false
	for _, r := range p.Rates {
		if r.Category != c {
			continue
		}
		pre := strings.TrimPrefix(r.Prefix, "+")
		if !strings.HasPrefix(d, pre) {
			continue
		}
		if !found || len(pre) > len(strings.TrimPrefix(best.Prefix, "+")) {
			best, found = r, true
		}
	}

	return best, found
}

// charge is one usage row increment and the money it carries.
type charge struct {
	category Category
	subject  string
	count    int64
	usage    int64
	price    int64
}

// legFacts is what rating needs to know about a closed leg.
type legFacts struct {
	direction Direction
	to        string
	trunk     string
	mediaMode string
	srtp      bool
	talk      int64 // seconds, rounded up
	recording int64 // seconds, rounded up
}

// rateLeg prices a closed leg. It returns the billable seconds of its call
// category and one charge per category the leg is metered in. A nil plan
// prices everything at zero.
func (p *PricePlan) rateLeg(f legFacts) (billable int64, charges []charge) {
	call := callCategory(f.direction)
	billable, price := p.rateMinutes(call, f.to, f.talk)
	charges = append(charges, charge{category: call, subject: f.trunk, count: 1,
		usage: billable, price: price})
	if f.talk > 0 {
		media := CatMinutesRelayed
		if f.mediaMode == "peer_to_peer" {
			media = CatMinutesP2P
		}
		secs, price := p.rateMinutes(media, f.to, f.talk)
		charges = append(charges, charge{category: media, count: 1, usage: secs, price: price})
		if f.srtp {
			secs, price := p.rateMinutes(CatMinutesSRTP, f.to, f.talk)
			charges = append(charges, charge{category: CatMinutesSRTP, count: 1, usage: secs,
				price: price})
		}
	}
	if f.recording > 0 {
		charges = append(charges, p.rateMeter(CatRecordingMinutes, 0, f.recording))
	}

	return billable, charges
}

// rateMinutes bills talk seconds of category c with the plan's best rate;
// with no rate the talk time is the usage and the price is zero.
func (p *PricePlan) rateMinutes(c Category, dest string, talk int64) (secs, price int64) {
	if p == nil {
		return max(talk, 0), 0
	}
	r, ok := p.rate(c, dest)
	if !ok {
		return max(talk, 0), 0
	}
	secs = r.BillableSeconds(talk)

	return secs, r.Price(secs)
}

// rateMeter prices count units and usage (in stored base units) of a
// metered category.
func (p *PricePlan) rateMeter(c Category, count, usage int64) charge {
	ch := charge{category: c, count: count, usage: usage}
	if p == nil {
		return ch
	}
	ch.price = count * p.UnitPrices[c]
	if per := categories[c].usageSeconds; per > 0 && usage > 0 {
		price := p.UsagePrices[c]
		ch.price += usage/per*price + ceilDiv(usage%per*price, per)
	}

	return ch
}

// perMinute is the plan's per-minute rate of category c for dest, zero for
// a nil plan or no rate.
func (p *PricePlan) perMinute(c Category, dest string) int64 {
	if p == nil {
		return 0
	}
	r, _ := p.rate(c, dest)

	return r.PerMinute
}

// unit is the plan's price unit, "USD" for no plan.
func (p *PricePlan) unit() string {
	if p == nil || p.PriceUnit == "" {
		return "USD"
	}

	return p.PriceUnit
}
