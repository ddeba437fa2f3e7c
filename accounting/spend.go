package accounting

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"time"

	"github.com/patchbay/patchbay/tenancy"
)

// spendBook keeps this month's spend per account in memory, so that
// admission reads it without touching the database. It is loaded at Open
// and advanced after each commit.
type spendBook struct {
	// mu guards month and totals.
	mu     sync.RWMutex
	month  string
	totals map[string]int64
}

func (b *spendBook) init() { b.totals = make(map[string]int64) }

func (b *spendBook) load(ctx context.Context, db *sql.DB, month string) error {
	rows, err := db.QueryContext(ctx,
		`SELECT account_sid, price_micro FROM accounting_spend WHERE month = ?`, month)
	if err != nil {
		return fmt.Errorf("accounting: load spend: %w", err)
	}
	defer rows.Close()
	totals := make(map[string]int64)
	for rows.Next() {
		var sid string
		var v int64
		if err := rows.Scan(&sid, &v); err != nil {
			return fmt.Errorf("accounting: load spend: %w", err)
		}
		totals[sid] = v
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("accounting: load spend: %w", err)
	}
	b.mu.Lock()
	b.month, b.totals = month, totals
	b.mu.Unlock()

	return nil
}

// add records micro spent by account in month and reports whether the
// month is the current one. Spend of a past month changes nothing in
// memory; spend of a later month starts that month.
func (b *spendBook) add(account, month string, micro int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case month < b.month:
		return false
	case month > b.month:
		b.month, b.totals = month, make(map[string]int64)
	}
	b.totals[account] += micro

	return true
}

func (b *spendBook) get(account, month string) int64 {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if month != b.month {
		return 0
	}

	return b.totals[account]
}

// SpendThisMonth returns what the account has been charged in the current
// UTC month, in micro-units: the rated price of its closed legs and metered
// use, not its sub-accounts', not monthly fees and not legs still running.
// It reads memory only and is safe to call on every admission.
func (l *Ledger) SpendThisMonth(accountSID string) int64 {
	return l.spend.get(accountSID, monthOf(l.now()))
}

// CheckSpend returns an error wrapping ErrSpendCapReached when the account
// has a spend cap (Config.SpendCap) and its spend this month, with what its
// running legs have cost so far (SpendWithRunning), has reached it;
// admission refuses new calls then.
func (l *Ledger) CheckSpend(ctx context.Context, accountSID string) error {
	if l.cfg.SpendCap == nil {
		return nil
	}
	capMicro, err := l.capOf(ctx, accountSID, false)
	if err != nil {
		return err
	}
	spent := l.SpendWithRunning(accountSID)
	if capMicro > 0 && spent >= capMicro {
		return fmt.Errorf("%w: %s spent %s of %s", ErrSpendCapReached, accountSID,
			FormatMicro(spent), FormatMicro(capMicro))
	}

	return nil
}

// spendAdded advances the in-memory total after a commit and, when the
// account's spend (with its running legs) has reached its cap, tells
// Config.OnSpendCap once. A cap not cached is looked up in the background,
// never in the writer.
func (l *Ledger) spendAdded(account, month string, micro int64) {
	if micro == 0 {
		return
	}
	ok := l.spend.add(account, month, micro)
	if !ok || l.cfg.SpendCap == nil || l.cfg.OnSpendCap == nil {
		return
	}
	if capMicro, fresh := l.cachedCap(account); fresh {
		l.checkCap(account, capMicro)

		return
	}
	l.bg.Add(1)
	go func() {
		defer l.bg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), capLookupTimeout)
		defer cancel()
		capMicro, err := l.capOf(ctx, account, true)
		if err != nil {
			l.log.Warn("spend cap lookup failed", "account_sid", account, "error", err)

			return
		}
		l.checkCap(account, capMicro)
	}()
}

// checkCap reports the account if its spend with running legs has reached
// capMicro.
func (l *Ledger) checkCap(account string, capMicro int64) {
	if spent := l.SpendWithRunning(account); capMicro > 0 && spent >= capMicro {
		l.notifyCap(account, spent, capMicro)
	}
}

// capCacheTTL is how long a looked-up spend cap is reused.
const capCacheTTL = time.Second

type cachedCap struct {
	micro int64
	at    time.Time
}

// cachedCap returns the account's cap if it was looked up recently.
func (l *Ledger) cachedCap(account string) (int64, bool) {
	l.capMu.Lock()
	defer l.capMu.Unlock()
	c, ok := l.caps[account]

	return c.micro, ok && time.Since(c.at) < capCacheTTL
}

// capOf returns the account's spend cap from Config.SpendCap, or from the
// cache when cached is set and the entry is fresh. Admission asks afresh;
// the paths that run per commit or per heartbeat use the cache.
func (l *Ledger) capOf(ctx context.Context, account string, cached bool) (int64, error) {
	if v, fresh := l.cachedCap(account); cached && fresh {
		return v, nil
	}
	v, err := l.cfg.SpendCap(ctx, account)
	if err != nil {
		return 0, fmt.Errorf("accounting: spend cap of %s: %w", account, err)
	}
	l.capMu.Lock()
	l.caps[account] = cachedCap{micro: v, at: time.Now()}
	l.capMu.Unlock()

	return v, nil
}

// TalkTimeLeft returns how long a leg like s may talk before its account's
// spend this month reaches the cap, at the per-minute rates of its call
// category and media mode, so that call control can end it at the cap
// (CauseLimit). ok is false when no cap or no positive rate limits the
// leg. It counts what the account's running legs have cost so far, but not
// what they will cost, nor increments, minimums and SRTP surcharges: call
// control should also end running legs when Config.OnSpendCap reports the
// cap reached.
func (l *Ledger) TalkTimeLeft(ctx context.Context, s LegStart) (left time.Duration, ok bool,
	err error) {
	if l.cfg.SpendCap == nil {
		return 0, false, nil
	}
	capMicro, err := l.capOf(ctx, s.AccountSID, false)
	if err != nil {
		return 0, false, err
	}
	if capMicro <= 0 {
		return 0, false, nil
	}
	plan := l.plans.effective(ctx, s.AccountSID)
	perMinute := plan.perMinute(callCategory(s.Direction), s.To)
	media := CatMinutesRelayed
	if s.MediaMode == "peer_to_peer" {
		media = CatMinutesP2P
	}
	perMinute += plan.perMinute(media, s.To)
	if perMinute <= 0 {
		return 0, false, nil
	}
	remaining := capMicro - l.SpendWithRunning(s.AccountSID)
	if remaining <= 0 {
		return 0, true, nil
	}

	secs := remaining/perMinute*60 + remaining%perMinute*60/perMinute
	if secs > maxTalkSeconds {
		secs = maxTalkSeconds
	}

	return time.Duration(secs) * time.Second, true, nil
}

// maxTalkSeconds bounds TalkTimeLeft (a year) so huge caps do not overflow.
const maxTalkSeconds = 366 * 24 * 3600

// LimitsSource gives an account's limits; *tenancy.Store satisfies it.
type LimitsSource interface {
	AccountLimits(ctx context.Context, accountSID string) (*tenancy.Limits, error)
}

// SpendCapFromLimits returns a Config.SpendCap that reads the monthly spend
// cap from the account's tenancy limits (zero: no cap).
func SpendCapFromLimits(src LimitsSource) func(context.Context, string) (int64, error) {
	return func(ctx context.Context, accountSID string) (int64, error) {
		lim, err := src.AccountLimits(ctx, accountSID)
		if err != nil {
			return 0, err
		}

		return lim.MonthlySpendCapMicro, nil
	}
}
