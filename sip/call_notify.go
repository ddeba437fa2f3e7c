package sip

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/patchbay/patchbay/tenancy"
)

// Notifier records notifications for accounts: what went wrong for them
// that they should learn of. *tenancy.Store implements it.
type Notifier interface {
	AddNotification(ctx context.Context, n tenancy.Notification) (*tenancy.Notification, error)
}

var _ Notifier = (*tenancy.Store)(nil)

// Codes of the notifications call control records when a limit or cap of
// the account refuses a call; they are Patchbay's own. Application
// failures carry the CPaaS codes of package webhook and package markup.
const (
	NoteCallLimit   = 64001 // the concurrent-call limit refused a call
	NoteRateLimit   = 64002 // the calls-per-second limit refused a call
	NoteSpendCap    = 64003 // the monthly spend cap refused or ended calls
	NoteDestination = 64004 // a Dial to a number outside the allowed prefixes
)

// notifyInterval is how often one account gets a notification of one
// code: a flood of refused calls records one, not thousands.
const notifyInterval = time.Minute

// maxNoteKeys bounds the memory of when each (account, code) was last
// notified; past it the memory starts afresh.
const maxNoteKeys = 100000

// notes remembers when each account was last notified of each code.
type notes struct {
	// mu guards last.
	mu   sync.Mutex
	last map[string]time.Time
}

// notify records n for its account, at most once per notifyInterval for
// one account and code, on a goroutine of its own so that a slow store
// never holds up signalling.
func (cc *CallControl) notify(n tenancy.Notification) {
	if cc.cfg.Notifications == nil || n.AccountSID == "" {
		return
	}
	key := n.AccountSID + "/" + strconv.Itoa(n.ErrorCode)
	now := time.Now()
	cc.notes.mu.Lock()
	if t, ok := cc.notes.last[key]; ok && now.Sub(t) < notifyInterval {
		cc.notes.mu.Unlock()

		return
	}
	if cc.notes.last == nil || len(cc.notes.last) >= maxNoteKeys {
		cc.notes.last = make(map[string]time.Time)
	}
	cc.notes.last[key] = now
	cc.notes.mu.Unlock()

	cc.wg.Add(1)
	go func() {
		defer cc.wg.Done()
		ctx, cancel := context.WithTimeout(context.WithoutCancel(cc.ctx), teardownTimeout)
		defer cancel()
		if _, err := cc.cfg.Notifications.AddNotification(ctx, n); err != nil {
			cc.log.Warn("notification not recorded", "account", n.AccountSID,
				"error_code", n.ErrorCode, "error", err)
		}
	}()
}

// notifyRefusal records a notification when err is a refusal by one of
// the account's limits or caps; other refusals are the platform's affair.
func (cc *CallControl) notifyRefusal(accountSID, callSID string, err error) {
	code := 0
	switch {
	case errors.Is(err, errCallLimit):
		code = NoteCallLimit
	case errors.Is(err, errRateLimit):
		code = NoteRateLimit
	case errors.Is(err, errSpendCap):
		code = NoteSpendCap
	case errors.Is(err, errNotAllowed):
		code = NoteDestination
	}
	if code == 0 {
		return
	}
	_, reason := statusOf(err)
	cc.notify(tenancy.Notification{AccountSID: accountSID, CallSID: callSID,
		ErrorCode: code, Level: tenancy.LevelWarning, Message: reason + ": " + err.Error()})
}
