package accounting

import (
	"context"
	"fmt"
	"time"
)

// addLeg remembers an open leg of this process.
func (l *Ledger) addLeg(sid string, st *legState) {
	l.legsMu.Lock()
	defer l.legsMu.Unlock()
	l.legs[sid] = st
	m := l.byAccount[st.account]
	if m == nil {
		m = make(map[string]*legState)
		l.byAccount[st.account] = m
	}
	m[sid] = st
}

// removeLeg forgets a closed leg.
func (l *Ledger) removeLeg(sid, account string) {
	l.legsMu.Lock()
	defer l.legsMu.Unlock()
	delete(l.legs, sid)
	if m := l.byAccount[account]; m != nil {
		delete(m, sid)
		if len(m) == 0 {
			delete(l.byAccount, account)
		}
	}
}

// accrued is what the account's answered, still running legs of this
// process have cost so far at their per-minute rates, without increments
// or minimums.
func (l *Ledger) accrued(account string, now time.Time) int64 {
	l.legsMu.Lock()
	defer l.legsMu.Unlock()
	var sum int64
	for _, st := range l.byAccount[account] {
		if st.answered.IsZero() || st.perMinute == 0 || !now.After(st.answered) {
			continue
		}
		secs := ceilDiv(now.Sub(st.answered).Milliseconds(), 1000)
		sum += Rate{PerMinute: st.perMinute}.Price(secs)
	}

	return sum
}

// SpendWithRunning is SpendThisMonth plus what the account's answered legs
// still running on this node have cost so far. CheckSpend and the cap
// watcher use it, so that one long call cannot run past the cap.
func (l *Ledger) SpendWithRunning(accountSID string) int64 {
	return l.SpendThisMonth(accountSID) + l.accrued(accountSID, l.now())
}

// runningAccounts lists the accounts with answered, priced legs running.
func (l *Ledger) runningAccounts() []string {
	l.legsMu.Lock()
	defer l.legsMu.Unlock()
	var out []string
	for account, legs := range l.byAccount {
		for _, st := range legs {
			if !st.answered.IsZero() && st.perMinute > 0 {
				out = append(out, account)

				break
			}
		}
	}

	return out
}

// watchCaps reports, through Config.OnSpendCap, every account whose spend
// with running legs has reached its cap. The heartbeat calls it.
func (l *Ledger) watchCaps() {
	if l.cfg.SpendCap == nil || l.cfg.OnSpendCap == nil {
		return
	}
	for _, account := range l.runningAccounts() {
		ctx, cancel := context.WithTimeout(context.Background(), capLookupTimeout)
		capMicro, err := l.capOf(ctx, account, true)
		cancel()
		if err != nil {
			l.log.Warn("spend cap lookup failed", "account_sid", account, "error", err)

			continue
		}
		l.checkCap(account, capMicro)
	}
}

// notifyCap calls Config.OnSpendCap in the background, once per account,
// month and cap: a cap raised after a report is reported again when reached.
func (l *Ledger) notifyCap(account string, spent, capMicro int64) {
	mark := fmt.Sprintf("%s/%d", monthOf(l.now()), capMicro)
	l.capMu.Lock()
	done := l.notified[account] == mark
	l.notified[account] = mark
	l.capMu.Unlock()
	if done {
		return
	}
	l.log.Info("spend cap reached", "account_sid", account, "spent", FormatMicro(spent),
		"cap", FormatMicro(capMicro))
	l.bg.Add(1)
	go func() {
		defer l.bg.Done()
		l.cfg.OnSpendCap(account, spent, capMicro)
	}()
}
