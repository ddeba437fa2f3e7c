package tenancy

import (
	"context"
	"unicode/utf8"
)

// maxNotificationText bounds what a notification keeps of a message or
// URL, so that a misbehaving application cannot grow the store.
const maxNotificationText = 1024

func notificationTable() *table[Notification] {
	return newTable("notifications", []string{"sid", "account_sid", "call_sid", "error_code",
		"log_level", "message_text", "request_url", "created", "updated"},
		[]string{"account_sid"}, scanNotification,
		func(n *Notification) []any {
			return []any{n.SID, n.AccountSID, n.CallSID, n.ErrorCode, int(n.Level),
				n.Message, n.RequestURL, nanos(n.Created), nanos(n.Updated)}
		})
}

func scanNotification(sc scanner) (*Notification, error) {
	var n Notification
	var level int
	var created, updated int64
	err := sc.Scan(&n.SID, &n.AccountSID, &n.CallSID, &n.ErrorCode, &level, &n.Message,
		&n.RequestURL, &created, &updated)
	n.Level = NotificationLevel(level)
	n.Created, n.Updated = fromNanos(created), fromNanos(updated)

	return &n, err
}

// AddNotification records n for n.AccountSID, giving it a SID and its
// time; long texts are cut. It is safe for concurrent use.
func (s *Store) AddNotification(ctx context.Context, n Notification) (*Notification, error) {
	s.stamp(&n.SID, prefixNotification, &n.Created, &n.Updated)
	n.Message = cut(n.Message, maxNotificationText)
	n.RequestURL = cut(n.RequestURL, maxNotificationText)

	// One statement, outside inTx, so that a notification leaves the
	// store's Generation (and the edge's caches) alone.
	if err := s.t.notes.insert(ctx, s.db, &n); err != nil {
		return nil, err
	}

	return &n, nil
}

// NotificationBySID returns the account's notification sid, or ErrNotFound.
func (s *Store) NotificationBySID(ctx context.Context, accountSID,
	sid string) (*Notification, error) {
	return s.t.notes.get(ctx, s.db, accountSID, sid)
}

// ListNotifications returns page p of the account's notifications, oldest
// first, and whether more follow.
func (s *Store) ListNotifications(ctx context.Context, accountSID string,
	p Page) ([]*Notification, bool, error) {
	return s.t.notes.list(ctx, s.db, p, accountSID)
}

// DeleteNotification deletes the account's notification sid.
func (s *Store) DeleteNotification(ctx context.Context, accountSID, sid string) error {
	return s.t.notes.delete(ctx, s.db, accountSID, sid)
}

// cut returns s shortened to at most n bytes, on a rune boundary.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}

	return s[:n]
}
