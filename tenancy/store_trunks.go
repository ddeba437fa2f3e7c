package tenancy

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

func trunkTable() *table[Trunk] {
	return newTable("trunks", []string{"sid", "account_sid", "friendly_name", "domain_name",
		"secure", "auth_username", "auth_password", "created", "updated"},
		[]string{"account_sid"}, scanTrunk,
		func(t *Trunk) []any {
			return []any{t.SID, t.AccountSID, t.FriendlyName, nullable(t.DomainName), t.Secure,
				t.AuthUsername, t.AuthPassword, nanos(t.Created), nanos(t.Updated)}
		})
}

func scanTrunk(sc scanner) (*Trunk, error) {
	var t Trunk
	var domain sql.NullString
	var created, updated int64
	err := sc.Scan(&t.SID, &t.AccountSID, &t.FriendlyName, &domain, &t.Secure, &t.AuthUsername,
		&t.AuthPassword, &created, &updated)
	t.DomainName = domain.String
	t.Created, t.Updated = fromNanos(created), fromNanos(updated)

	return &t, err
}

func origURLTable() *table[OriginationURI] {
	return newTable("origination_urls", []string{"sid", "account_sid", "trunk_sid",
		"friendly_name", "sip_url", "priority", "weight", "enabled", "created", "updated"},
		[]string{"account_sid", "trunk_sid"}, scanOrigURL,
		func(o *OriginationURI) []any {
			return []any{o.SID, o.AccountSID, o.TrunkSID, o.FriendlyName, o.SIPURL, o.Priority,
				o.Weight, o.Enabled, nanos(o.Created), nanos(o.Updated)}
		})
}

func scanOrigURL(sc scanner) (*OriginationURI, error) {
	var o OriginationURI
	var created, updated int64
	err := sc.Scan(&o.SID, &o.AccountSID, &o.TrunkSID, &o.FriendlyName, &o.SIPURL, &o.Priority,
		&o.Weight, &o.Enabled, &created, &updated)
	o.Created, o.Updated = fromNanos(created), fromNanos(updated)

	return &o, err
}

// CreateTrunk stores a trunk of t.AccountSID. A domain name must be free
// among domains and trunks (an ErrConflict *FieldError otherwise).
func (s *Store) CreateTrunk(ctx context.Context, t *Trunk) (*Trunk, error) {
	s.stamp(&t.SID, prefixTrunk, &t.Created, &t.Updated)

	return createRow(ctx, s, s.t.trunks, t, func(tx *sql.Tx) error {
		return checkSIPName(ctx, tx, "DomainName", t.DomainName, t.SID)
	})
}

// Trunk returns the account's trunk sid with its origination URIs and
// associated lists, or ErrNotFound.
func (s *Store) Trunk(ctx context.Context, accountSID, sid string) (*Trunk, error) {
	t, err := s.t.trunks.get(ctx, s.db, accountSID, sid)
	if err != nil {
		return nil, err
	}

	return t, s.fillTrunks(ctx, t)
}

// ListTrunks returns page p of the account's trunks, filled like Trunk.
func (s *Store) ListTrunks(ctx context.Context, accountSID string, p Page) ([]*Trunk, bool, error) {
	ts, more, err := s.t.trunks.list(ctx, s.db, p, accountSID)
	if err != nil {
		return nil, false, err
	}

	return ts, more, s.fillTrunks(ctx, ts...)
}

// UpdateTrunk applies mutate to the account's trunk sid in one transaction,
// keeping its domain name unique.
func (s *Store) UpdateTrunk(ctx context.Context, accountSID, sid string,
	mutate func(*Trunk) error) (*Trunk, error) {
	t, err := modifyRow(ctx, s, s.t.trunks, []any{accountSID, sid}, mutate,
		func(tx *sql.Tx, t *Trunk) error {
			return checkSIPName(ctx, tx, "DomainName", t.DomainName, t.SID)
		}, func(t *Trunk, now time.Time) { t.Updated = now })
	if err != nil {
		return nil, err
	}

	return t, s.fillTrunks(ctx, t)
}

// DeleteTrunk deletes the trunk with, in the same transaction, its
// origination URIs and list associations; numbers routed to it lose the
// route.
func (s *Store) DeleteTrunk(ctx context.Context, accountSID, sid string) error {
	return s.t.trunks.delete(ctx, s.db, accountSID, sid)
}

// fillTrunks loads the origination URIs (by priority, then weight, highest
// first) and the associated list SIDs of each trunk.
func (s *Store) fillTrunks(ctx context.Context, ts ...*Trunk) error {
	for _, t := range ts {
		rows, err := s.hot.trunkOrigURLs.QueryContext(ctx, t.SID)
		uris, err := scanAll(rows, err, scanOrigURL)
		if err != nil {
			return err
		}
		t.OriginationURIs = make([]OriginationURI, len(uris))
		for i, u := range uris {
			t.OriginationURIs[i] = *u
		}
		if t.IPACLSIDs, err = s.sids(ctx, s.hot.trunkIPACLs, t.SID); err != nil {
			return err
		}
		if t.CredentialListSIDs, err = s.sids(ctx, s.hot.trunkCredLists, t.SID); err != nil {
			return err
		}
	}

	return nil
}

// sids runs a prepared query that yields one SID a row.
func (s *Store) sids(ctx context.Context, stmt *sql.Stmt, args ...any) ([]string, error) {
	rows, err := stmt.QueryContext(ctx, args...)
	if err != nil {
		return nil, fmt.Errorf("tenancy: query: %w", err)
	}
	defer rows.Close()

	var out []string
	for rows.Next() {
		var sid string
		if err := rows.Scan(&sid); err != nil {
			return nil, fmt.Errorf("tenancy: scan: %w", err)
		}
		out = append(out, sid)
	}

	return out, rows.Err()
}

// CreateOriginationURI adds o to the account's trunk o.TrunkSID
// (ErrNotFound when the trunk is not the account's).
func (s *Store) CreateOriginationURI(ctx context.Context, accountSID string,
	o *OriginationURI) (*OriginationURI, error) {
	o.AccountSID = accountSID
	s.stamp(&o.SID, prefixOrigURI, &o.Created, &o.Updated)

	return createRow(ctx, s, s.t.origURLs, o, func(tx *sql.Tx) error {
		return exists(ctx, tx, "trunks", accountSID, o.TrunkSID)
	})
}

// OriginationURI returns URI sid of the account's trunk, or ErrNotFound.
func (s *Store) OriginationURI(ctx context.Context, accountSID, trunkSID,
	sid string) (*OriginationURI, error) {
	return s.t.origURLs.get(ctx, s.db, accountSID, trunkSID, sid)
}

// ListOriginationURIs returns page p of the trunk's origination URIs, oldest
// first; ErrNotFound when the trunk is not the account's.
func (s *Store) ListOriginationURIs(ctx context.Context, accountSID, trunkSID string,
	p Page) ([]*OriginationURI, bool, error) {
	if err := exists(ctx, s.db, "trunks", accountSID, trunkSID); err != nil {
		return nil, false, err
	}

	return s.t.origURLs.list(ctx, s.db, p, accountSID, trunkSID)
}

// UpdateOriginationURI applies mutate to the URI in one transaction.
func (s *Store) UpdateOriginationURI(ctx context.Context, accountSID, trunkSID, sid string,
	mutate func(*OriginationURI) error) (*OriginationURI, error) {
	return modifyRow(ctx, s, s.t.origURLs, []any{accountSID, trunkSID, sid}, mutate, nil,
		func(o *OriginationURI, t time.Time) { o.Updated = t })
}

// DeleteOriginationURI removes the URI from the trunk.
func (s *Store) DeleteOriginationURI(ctx context.Context, accountSID, trunkSID, sid string) error {
	return s.t.origURLs.delete(ctx, s.db, accountSID, trunkSID, sid)
}
