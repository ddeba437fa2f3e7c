package tenancy

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

func numberTable() *table[IncomingNumber] {
	return newTable("incoming_numbers", []string{"sid", "account_sid", "phone_number",
		"friendly_name", "voice_application_sid", "voice_url", "voice_method",
		"voice_fallback_url", "voice_fallback_method", "status_callback",
		"status_callback_method", "trunk_sid", "created", "updated"},
		[]string{"account_sid"}, scanNumber,
		func(n *IncomingNumber) []any {
			return []any{n.SID, n.AccountSID, n.PhoneNumber, n.FriendlyName,
				nullable(n.VoiceApplicationSID), n.VoiceURL, n.VoiceMethod, n.VoiceFallbackURL,
				n.VoiceFallbackMethod, n.StatusCallback, n.StatusCallbackMethod,
				nullable(n.TrunkSID), nanos(n.Created), nanos(n.Updated)}
		})
}

func scanNumber(sc scanner) (*IncomingNumber, error) {
	var n IncomingNumber
	var app, trunk sql.NullString
	var created, updated int64
	err := sc.Scan(&n.SID, &n.AccountSID, &n.PhoneNumber, &n.FriendlyName, &app, &n.VoiceURL,
		&n.VoiceMethod, &n.VoiceFallbackURL, &n.VoiceFallbackMethod, &n.StatusCallback,
		&n.StatusCallbackMethod, &trunk, &created, &updated)
	n.VoiceApplicationSID, n.TrunkSID = app.String, trunk.String
	n.Created, n.Updated = fromNanos(created), fromNanos(updated)

	return &n, err
}

func touchNumber(n *IncomingNumber, t time.Time) { n.Updated = t }

// checkNumber verifies, inside tx, that the number is not taken by another
// row and that its application and trunk belong to its account.
func checkNumber(ctx context.Context, tx *sql.Tx, n *IncomingNumber) error {
	var n2 int
	err := tx.QueryRowContext(ctx, `SELECT count(*) FROM incoming_numbers
		WHERE phone_number = ? AND sid <> ?`, n.PhoneNumber, n.SID).Scan(&n2)
	if err != nil {
		return fmt.Errorf("tenancy: check number: %w", err)
	}
	if n2 > 0 {
		return conflict("PhoneNumber", "number already in use")
	}
	err = refExists(ctx, tx, "VoiceApplicationSid", "applications", n.AccountSID,
		n.VoiceApplicationSID)
	if err != nil {
		return err
	}

	return refExists(ctx, tx, "TrunkSid", "trunks", n.AccountSID, n.TrunkSID)
}

// CreateIncomingNumber stores a number of n.AccountSID. The number must be
// unused on the platform (an ErrConflict *FieldError otherwise) and its
// application and trunk, when set, must belong to the same account.
func (s *Store) CreateIncomingNumber(ctx context.Context,
	n *IncomingNumber) (*IncomingNumber, error) {
	s.stamp(&n.SID, prefixNumber, &n.Created, &n.Updated)

	return createRow(ctx, s, s.t.numbers, n, func(tx *sql.Tx) error {
		return checkNumber(ctx, tx, n)
	})
}

// IncomingNumber returns the account's number sid, or ErrNotFound.
func (s *Store) IncomingNumber(ctx context.Context, accountSID,
	sid string) (*IncomingNumber, error) {
	return s.t.numbers.get(ctx, s.db, accountSID, sid)
}

// NumberFilter narrows ListIncomingNumbers; empty fields match everything.
type NumberFilter struct {
	// PhoneNumber matches numbers containing it, '*' standing for any one
	// digit, as the CPaaS API does: "+1415" or "555*01".
	PhoneNumber  string
	FriendlyName string // exact match
}

// ListIncomingNumbers returns page p of the account's numbers that match f.
// A PhoneNumber filter with characters other than '+', digits and '*' is
// an ErrInvalid *FieldError.
func (s *Store) ListIncomingNumbers(ctx context.Context, accountSID string, p Page,
	f NumberFilter) ([]*IncomingNumber, bool, error) {
	var cond string
	var args []any
	if f.PhoneNumber != "" {
		pattern, err := numberPattern(f.PhoneNumber)
		if err != nil {
			return nil, false, err
		}
		cond, args = "AND phone_number LIKE ?", append(args, pattern)
	}
	if f.FriendlyName != "" {
		cond, args = cond+" AND friendly_name = ?", append(args, f.FriendlyName)
	}

	return s.t.numbers.listWhere(ctx, s.db, p, cond, args, accountSID)
}

// numberPattern turns a PhoneNumber filter into a LIKE pattern.
func numberPattern(filter string) (string, error) {
	if len(filter) > 16 || strings.Trim(filter, "+0123456789*") != "" {
		return "", invalid("PhoneNumber", "filter may hold only '+', digits and '*'")
	}

	return "%" + strings.ReplaceAll(filter, "*", "_") + "%", nil
}

// UpdateIncomingNumber applies mutate to the account's number sid in one
// transaction, with the checks of CreateIncomingNumber.
func (s *Store) UpdateIncomingNumber(ctx context.Context, accountSID, sid string,
	mutate func(*IncomingNumber) error) (*IncomingNumber, error) {
	return modifyRow(ctx, s, s.t.numbers, []any{accountSID, sid}, mutate,
		func(tx *sql.Tx, n *IncomingNumber) error { return checkNumber(ctx, tx, n) }, touchNumber)
}

// DeleteIncomingNumber releases the account's number sid.
func (s *Store) DeleteIncomingNumber(ctx context.Context, accountSID, sid string) error {
	return s.t.numbers.delete(ctx, s.db, accountSID, sid)
}
