package tenancy

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

func domainTable() *table[Domain] {
	return newTable("domains", []string{"sid", "account_sid", "domain_name", "friendly_name",
		"voice_url", "voice_method", "voice_fallback_url", "voice_fallback_method",
		"voice_status_callback", "voice_status_callback_method", "sip_registration", "secure",
		"created", "updated"}, []string{"account_sid"}, scanDomain,
		func(d *Domain) []any {
			return []any{d.SID, d.AccountSID, d.DomainName, d.FriendlyName, d.VoiceURL,
				d.VoiceMethod, d.VoiceFallbackURL, d.VoiceFallbackMethod, d.VoiceStatusCallback,
				d.VoiceStatusCallbackMethod, d.SIPRegistration, d.Secure,
				nanos(d.Created), nanos(d.Updated)}
		})
}

func scanDomain(sc scanner) (*Domain, error) {
	var d Domain
	var created, updated int64
	err := sc.Scan(&d.SID, &d.AccountSID, &d.DomainName, &d.FriendlyName, &d.VoiceURL,
		&d.VoiceMethod, &d.VoiceFallbackURL, &d.VoiceFallbackMethod, &d.VoiceStatusCallback,
		&d.VoiceStatusCallbackMethod, &d.SIPRegistration, &d.Secure, &created, &updated)
	d.Created, d.Updated = fromNanos(created), fromNanos(updated)

	return &d, err
}

func touchDomain(d *Domain, t time.Time) { d.Updated = t }

// checkSIPName reports an ErrConflict *FieldError when name is taken by a
// SIP domain or a trunk other than self: both share one platform-wide,
// case-insensitive namespace.
func checkSIPName(ctx context.Context, q querier, field, name, self string) error {
	if name == "" {
		return nil
	}
	var n int
	err := q.QueryRowContext(ctx, `SELECT
		(SELECT count(*) FROM domains WHERE domain_name = ? COLLATE NOCASE AND sid <> ?) +
		(SELECT count(*) FROM trunks WHERE domain_name = ? COLLATE NOCASE AND sid <> ?)`,
		name, self, name, self).Scan(&n)
	if err != nil {
		return fmt.Errorf("tenancy: check domain name: %w", err)
	}
	if n > 0 {
		return conflict(field, "domain name already in use")
	}

	return nil
}

// CreateDomain stores a SIP domain of d.AccountSID. Its name must be free
// among domains and trunks (an ErrConflict *FieldError otherwise).
func (s *Store) CreateDomain(ctx context.Context, d *Domain) (*Domain, error) {
	s.stamp(&d.SID, prefixDomain, &d.Created, &d.Updated)

	return createRow(ctx, s, s.t.domains, d, func(tx *sql.Tx) error {
		return checkSIPName(ctx, tx, "DomainName", d.DomainName, d.SID)
	})
}

// Domain returns the account's SIP domain sid, or ErrNotFound.
func (s *Store) Domain(ctx context.Context, accountSID, sid string) (*Domain, error) {
	return s.t.domains.get(ctx, s.db, accountSID, sid)
}

// ListDomains returns page p of the account's SIP domains.
func (s *Store) ListDomains(ctx context.Context, accountSID string,
	p Page) ([]*Domain, bool, error) {
	return s.t.domains.list(ctx, s.db, p, accountSID)
}

// UpdateDomain applies mutate to the account's domain sid in one
// transaction, keeping the name unique.
func (s *Store) UpdateDomain(ctx context.Context, accountSID, sid string,
	mutate func(*Domain) error) (*Domain, error) {
	return modifyRow(ctx, s, s.t.domains, []any{accountSID, sid}, mutate,
		func(tx *sql.Tx, d *Domain) error {
			return checkSIPName(ctx, tx, "DomainName", d.DomainName, d.SID)
		}, touchDomain)
}

// DeleteDomain deletes the account's domain sid and, in the same
// transaction, its credential list and IP access control list mappings.
func (s *Store) DeleteDomain(ctx context.Context, accountSID, sid string) error {
	return s.t.domains.delete(ctx, s.db, accountSID, sid)
}
