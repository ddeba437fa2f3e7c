package sip

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/patchbay/patchbay/tenancy"
)

// The refusals of call admission.
var (
	errCallLimit  = &StatusError{Code: 503, Reason: "Concurrent Call Limit Reached"}
	errRateLimit  = &StatusError{Code: 503, Reason: "Call Rate Limit Reached"}
	errSpendCap   = &StatusError{Code: 403, Reason: "Spend Cap Reached"}
	errNotAllowed = &StatusError{Code: 403, Reason: "Destination Not Allowed"}
	// errNoBilling refuses calls and proxied calls while CDRs cannot be written.
	errNoBilling = &StatusError{Code: 503, Reason: "Accounting Unavailable"}
)

// admission counts each account's live calls and calls started in the
// current second, against tenancy.Limits. The counters are per node.
type admission struct {
	// mu guards active and rate.
	mu     sync.Mutex
	active map[string]int
	rate   map[string]rateWindow
}

type rateWindow struct {
	second int64
	n      int
}

func newAdmission() *admission {
	return &admission{active: map[string]int{}, rate: map[string]rateWindow{}}
}

// acquire takes one call slot of account under lim at now, or returns the
// refusal. A successful acquire must be paired with release.
func (a *admission) acquire(account string, lim *tenancy.Limits, now time.Time) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if lim.ConcurrentCalls > 0 && a.active[account] >= lim.ConcurrentCalls {
		return errCallLimit
	}
	w := a.rate[account]
	if sec := now.Unix(); w.second != sec {
		w = rateWindow{second: sec}
	}
	if lim.CallsPerSecond > 0 && w.n >= lim.CallsPerSecond {
		return errRateLimit
	}
	w.n++
	a.rate[account] = w
	a.active[account]++

	return nil
}

// release gives back a slot taken by acquire.
func (a *admission) release(account string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.active[account] <= 1 {
		delete(a.active, account)
		delete(a.rate, account)

		return
	}
	a.active[account]--
}

// admitCall checks the calls service, the limits and the spend cap of
// acct and takes a call slot. RefuseBusy turns limit refusals into 486.
func (cc *CallControl) admitCall(ctx context.Context, acct *tenancy.Account) error {
	if !acct.Active() {
		return errAccountSuspended
	}
	svc, err := cc.cfg.Directory.ServiceSetting(ctx, acct.SID, tenancy.ServiceCalls)
	if err != nil {
		return refuse(errInternal, err)
	}
	if !svc.Enabled {
		return errServiceDisabled
	}
	if cc.cfg.Ledger != nil {
		if err := cc.cfg.Ledger.Ready(); err != nil {
			return refuse(errNoBilling, err)
		}
		if err := cc.cfg.Ledger.CheckSpend(ctx, acct.SID); err != nil {
			return refuse(errSpendCap, err)
		}
	}
	lim, err := cc.cfg.Directory.AccountLimits(ctx, acct.SID)
	if err != nil {
		return refuse(errInternal, err)
	}
	err = cc.adm.acquire(acct.SID, lim, time.Now())
	if err != nil && cc.cfg.RefuseBusy {
		return refuse(errBusyHere, err)
	}

	return err
}

// allowedNumber reports whether the account's limits let it call e164.
func (cc *CallControl) allowedNumber(ctx context.Context, account, e164 string) error {
	lim, err := cc.cfg.Directory.AccountLimits(ctx, account)
	if err != nil {
		return refuse(errInternal, err)
	}
	if len(lim.AllowedPrefixes) == 0 {
		return nil
	}
	for _, p := range lim.AllowedPrefixes {
		if strings.HasPrefix(e164, p) {
			return nil
		}
	}

	return refuse(errNotAllowed, errors.New("sip: number outside the allowed prefixes"))
}
