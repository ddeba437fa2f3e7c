package tenancy

import (
	"context"
	"strings"
	"time"
)

func applicationTable() *table[Application] {
	return newTable("applications", []string{"sid", "account_sid", "friendly_name",
		"voice_url", "voice_method", "voice_fallback_url", "voice_fallback_method",
		"status_callback", "status_callback_method", "status_callback_events",
		"webhook_connect_timeout", "webhook_timeout", "created", "updated"},
		[]string{"account_sid"}, scanApplication,
		func(a *Application) []any {
			return []any{a.SID, a.AccountSID, a.FriendlyName, a.VoiceURL, a.VoiceMethod,
				a.VoiceFallbackURL, a.VoiceFallbackMethod, a.StatusCallback,
				a.StatusCallbackMethod, strings.Join(a.StatusCallbackEvents, " "),
				a.WebhookConnectTimeout.Milliseconds(), a.WebhookTimeout.Milliseconds(),
				nanos(a.Created), nanos(a.Updated)}
		})
}

func scanApplication(sc scanner) (*Application, error) {
	var a Application
	var events string
	var connectMS, timeoutMS, created, updated int64
	err := sc.Scan(&a.SID, &a.AccountSID, &a.FriendlyName, &a.VoiceURL, &a.VoiceMethod,
		&a.VoiceFallbackURL, &a.VoiceFallbackMethod, &a.StatusCallback,
		&a.StatusCallbackMethod, &events, &connectMS, &timeoutMS, &created, &updated)
	a.StatusCallbackEvents = strings.Fields(events)
	a.WebhookConnectTimeout = time.Duration(connectMS) * time.Millisecond
	a.WebhookTimeout = time.Duration(timeoutMS) * time.Millisecond
	a.Created, a.Updated = fromNanos(created), fromNanos(updated)

	return &a, err
}

func touchApplication(a *Application, t time.Time) { a.Updated = t }

// CreateApplication stores a new application of a.AccountSID, giving it a
// SID and creation time. The caller has validated the fields.
func (s *Store) CreateApplication(ctx context.Context, a *Application) (*Application, error) {
	s.stamp(&a.SID, prefixApplication, &a.Created, &a.Updated)

	return createRow(ctx, s, s.t.apps, a, nil)
}

// ApplicationBySID returns the account's application sid, or ErrNotFound.
func (s *Store) ApplicationBySID(ctx context.Context, accountSID,
	sid string) (*Application, error) {
	return lookup(ctx, s.hot.appBySID, scanApplication, "application "+sid, accountSID, sid)
}

// ListApplications returns page p of the account's applications, oldest
// first, and whether more follow.
func (s *Store) ListApplications(ctx context.Context, accountSID string,
	p Page) ([]*Application, bool, error) {
	return s.t.apps.list(ctx, s.db, p, accountSID)
}

// UpdateApplication applies mutate to the account's application sid in
// one transaction.
func (s *Store) UpdateApplication(ctx context.Context, accountSID, sid string,
	mutate func(*Application) error) (*Application, error) {
	return modifyRow(ctx, s, s.t.apps, []any{accountSID, sid}, mutate, nil, touchApplication)
}

// DeleteApplication deletes the account's application sid. Phone numbers
// routed to it lose their application in the same transaction.
func (s *Store) DeleteApplication(ctx context.Context, accountSID, sid string) error {
	return s.t.apps.delete(ctx, s.db, accountSID, sid)
}
