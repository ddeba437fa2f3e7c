package tenancy

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/netip"
	"sync/atomic"
)

// tables holds the table descriptors of the store's resources.
type tables struct {
	apps      *table[Application]
	numbers   *table[IncomingNumber]
	domains   *table[Domain]
	credLists *table[CredentialList]
	creds     *table[Credential]
	ipACLs    *table[IPAccessControlList]
	ipAddrs   *table[IPAddress]
	trunks    *table[Trunk]
	origURLs  *table[OriginationURI]
	notes     *table[Notification]

	domainCreds *link[CredentialList]
	domainACLs  *link[IPAccessControlList]
	trunkCreds  *link[CredentialList]
	trunkACLs   *link[IPAccessControlList]
}

// newTables builds the tables; every one but notifications advances gen
// when written (see Store.Generation).
func newTables(gen *atomic.Uint64) tables {
	t := tables{
		apps: applicationTable(), numbers: numberTable(), domains: domainTable(),
		credLists: namedListTable("credential_lists", credentialListFields),
		creds:     credentialTable(),
		ipACLs:    namedListTable("ip_acls", ipACLFields),
		ipAddrs:   ipAddressTable(), trunks: trunkTable(), origURLs: origURLTable(),
		notes: notificationTable(),
	}
	t.domainCreds = newLink("domain_credential_lists", "domains", "domain_sid",
		"credential_list_sid", "CredentialListSid", true, t.credLists)
	t.domainACLs = newLink("domain_ip_acls", "domains", "domain_sid", "ip_acl_sid",
		"IpAccessControlListSid", true, t.ipACLs)
	t.trunkCreds = newLink("trunk_credential_lists", "trunks", "trunk_sid",
		"credential_list_sid", "CredentialListSid", false, t.credLists)
	t.trunkACLs = newLink("trunk_ip_acls", "trunks", "trunk_sid", "ip_acl_sid",
		"IpAccessControlListSid", false, t.ipACLs)
	t.apps.gen, t.numbers.gen, t.domains.gen = gen, gen, gen
	t.credLists.gen, t.creds.gen, t.ipACLs.gen, t.ipAddrs.gen = gen, gen, gen, gen
	t.trunks.gen, t.origURLs.gen = gen, gen

	return t
}

// hotStatements are the prepared statements of the SIP edge's per-request
// lookups.
type hotStatements struct {
	accountChain, domainByName, service, limits          *sql.Stmt
	domainCredential, domainAllowsAddr                   *sql.Stmt
	trunkBySourceAddr, trunkByDomainName, trunkBySID     *sql.Stmt
	trunkCredential, accountTrunks, numberByPhone        *sql.Stmt
	trunkOrigURLs, trunkIPACLs, trunkCredLists, appBySID *sql.Stmt
}

func (h *hotStatements) prepare(ctx context.Context, db *sql.DB, t tables) error {
	trunkCols := "SELECT " + t.trunks.qualified("t") + " FROM trunks t"
	queries := []struct {
		dst   **sql.Stmt
		query string
	}{
		{&h.accountChain, accountChainSQL},
		{&h.domainByName, t.domains.selectSQL + " WHERE domain_name = ?"},
		{&h.service, serviceSQL},
		{&h.limits, limitsSQL},
		{&h.domainCredential, "SELECT " + t.creds.qualified("c") + ` FROM credentials c
			JOIN domain_credential_lists m ON m.credential_list_sid = c.credential_list_sid
			WHERE m.domain_sid = ? AND m.kind = ? AND c.username = ?
			ORDER BY m.created LIMIT 1`},
		{&h.domainAllowsAddr, `SELECT count(*) FROM ip_addresses a
			JOIN domain_ip_acls m ON m.ip_acl_sid = a.ip_acl_sid
			WHERE m.domain_sid = ? AND m.kind = ? AND a.first_ip <= ? AND a.last_ip >= ?`},
		{&h.trunkBySourceAddr, trunkCols + `
			JOIN trunk_ip_acls m ON m.trunk_sid = t.sid
			JOIN ip_addresses a ON a.ip_acl_sid = m.ip_acl_sid
			WHERE a.first_ip <= ? AND a.last_ip >= ?
			ORDER BY a.first_ip DESC, a.last_ip, t.created LIMIT 1`},
		{&h.trunkByDomainName, trunkCols + " WHERE t.domain_name = ?"},
		{&h.trunkBySID, trunkCols + " WHERE t.sid = ?"},
		{&h.trunkCredential, "SELECT " + t.creds.qualified("c") + ` FROM credentials c
			JOIN trunk_credential_lists m ON m.credential_list_sid = c.credential_list_sid
			WHERE m.trunk_sid = ? AND c.username = ? ORDER BY m.created LIMIT 1`},
		{&h.accountTrunks, trunkCols + " WHERE t.account_sid = ? ORDER BY t.created, t.sid"},
		{&h.numberByPhone, t.numbers.selectSQL + " WHERE phone_number = ?"},
		{&h.trunkOrigURLs, t.origURLs.selectSQL +
			" WHERE trunk_sid = ? ORDER BY priority, weight DESC, created, sid"},
		{&h.trunkIPACLs, `SELECT ip_acl_sid FROM trunk_ip_acls
			WHERE trunk_sid = ? ORDER BY created`},
		{&h.trunkCredLists, `SELECT credential_list_sid FROM trunk_credential_lists
			WHERE trunk_sid = ? ORDER BY created`},
		{&h.appBySID, t.apps.getSQL},
	}
	for _, q := range queries {
		stmt, err := db.PrepareContext(ctx, q.query)
		if err != nil {
			return err
		}
		*q.dst = stmt
	}

	return nil
}

// close closes every prepared statement; it is safe to call twice.
func (h *hotStatements) close() error {
	var errs []error
	for _, st := range []**sql.Stmt{&h.accountChain, &h.domainByName, &h.service, &h.limits,
		&h.domainCredential, &h.domainAllowsAddr, &h.trunkBySourceAddr, &h.trunkByDomainName,
		&h.trunkBySID, &h.trunkCredential, &h.accountTrunks, &h.numberByPhone,
		&h.trunkOrigURLs, &h.trunkIPACLs, &h.trunkCredLists, &h.appBySID} {
		if *st != nil {
			errs = append(errs, (*st).Close())
			*st = nil
		}
	}

	return errors.Join(errs...)
}

// lookup scans one row of a prepared lookup, wrapping ErrNotFound with
// what, a description of what was looked for.
func lookup[T any](ctx context.Context, stmt *sql.Stmt, scan func(scanner) (*T, error),
	what string, args ...any) (*T, error) {
	v, err := scanOne(stmt.QueryRowContext(ctx, args...), scan)
	if err != nil {
		return nil, fmt.Errorf("%w: %s", err, what)
	}

	return v, nil
}

// DomainByName returns the SIP domain named name, compared without regard
// to case, or ErrNotFound.
func (s *Store) DomainByName(ctx context.Context, name string) (*Domain, error) {
	return lookup(ctx, s.hot.domainByName, scanDomain, "domain "+name, name)
}

// DomainCredential finds username in the credential lists mapped to the
// domain for kind, or ErrNotFound. When several lists hold the name, the
// list mapped first wins.
func (s *Store) DomainCredential(ctx context.Context, domainSID string, kind MappingKind,
	username string) (*Credential, error) {
	return lookup(ctx, s.hot.domainCredential, scanCredential, "credential of domain "+domainSID,
		domainSID, kind, username)
}

// DomainAllowsAddr reports whether addr is in an IP access control list
// mapped to the domain for kind. An invalid addr is never allowed.
func (s *Store) DomainAllowsAddr(ctx context.Context, domainSID string, kind MappingKind,
	addr netip.Addr) (bool, error) {
	if !addr.IsValid() {
		return false, nil
	}
	key := addrKey(addr)
	var n int
	err := s.hot.domainAllowsAddr.QueryRowContext(ctx, domainSID, kind, key, key).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("tenancy: domain %s allows address: %w", domainSID, err)
	}

	return n > 0, nil
}

// TrunkBySourceAddr finds the trunk whose IP access control lists contain
// addr, with its origination URIs, or ErrNotFound. When ranges of several
// trunks contain addr, the narrowest range wins, then the oldest trunk.
func (s *Store) TrunkBySourceAddr(ctx context.Context, addr netip.Addr) (*Trunk, error) {
	if !addr.IsValid() {
		return nil, fmt.Errorf("%w: trunk for invalid address", ErrNotFound)
	}
	key := addrKey(addr)

	t, err := lookup(ctx, s.hot.trunkBySourceAddr, scanTrunk, "trunk for "+addr.String(),
		key, key)

	return s.filledTrunk(ctx, t, err)
}

// TrunkByDomainName returns the trunk with the termination domain name
// (compared without regard to case), or ErrNotFound.
func (s *Store) TrunkByDomainName(ctx context.Context, name string) (*Trunk, error) {
	t, err := lookup(ctx, s.hot.trunkByDomainName, scanTrunk, "trunk "+name, name)

	return s.filledTrunk(ctx, t, err)
}

// TrunkBySID returns the trunk with its origination URIs, or ErrNotFound.
func (s *Store) TrunkBySID(ctx context.Context, sid string) (*Trunk, error) {
	t, err := lookup(ctx, s.hot.trunkBySID, scanTrunk, "trunk "+sid, sid)

	return s.filledTrunk(ctx, t, err)
}

func (s *Store) filledTrunk(ctx context.Context, t *Trunk, err error) (*Trunk, error) {
	if err != nil {
		return nil, err
	}

	return t, s.fillTrunks(ctx, t)
}

// TrunkCredential finds username in the credential lists of the trunk, or
// ErrNotFound.
func (s *Store) TrunkCredential(ctx context.Context, trunkSID,
	username string) (*Credential, error) {
	return lookup(ctx, s.hot.trunkCredential, scanCredential, "credential of trunk "+trunkSID,
		trunkSID, username)
}

// AccountTrunks returns every trunk of the account with its origination
// URIs, oldest first.
func (s *Store) AccountTrunks(ctx context.Context, accountSID string) ([]*Trunk, error) {
	rows, err := s.hot.accountTrunks.QueryContext(ctx, accountSID)
	ts, err := scanAll(rows, err, scanTrunk)
	if err != nil {
		return nil, err
	}

	return ts, s.fillTrunks(ctx, ts...)
}

// NumberByPhone returns the incoming number e164, or ErrNotFound.
func (s *Store) NumberByPhone(ctx context.Context, e164 string) (*IncomingNumber, error) {
	return lookup(ctx, s.hot.numberByPhone, scanNumber, "number "+e164, e164)
}

// VoiceRouteForNumber resolves the number's application, when it has one,
// or else its own URLs, to a route.
func (s *Store) VoiceRouteForNumber(ctx context.Context, n *IncomingNumber) (*VoiceRoute, error) {
	if n.VoiceApplicationSID == "" {
		return &VoiceRoute{AccountSID: n.AccountSID, VoiceURL: n.VoiceURL,
			VoiceMethod: n.VoiceMethod, VoiceFallbackURL: n.VoiceFallbackURL,
			VoiceFallbackMethod: n.VoiceFallbackMethod, StatusCallback: n.StatusCallback,
			StatusCallbackMethod: n.StatusCallbackMethod}, nil
	}
	a, err := lookup(ctx, s.hot.appBySID, scanApplication,
		"application "+n.VoiceApplicationSID, n.AccountSID, n.VoiceApplicationSID)
	if err != nil {
		return nil, err
	}

	return &VoiceRoute{AccountSID: a.AccountSID, ApplicationSID: a.SID, VoiceURL: a.VoiceURL,
		VoiceMethod: a.VoiceMethod, VoiceFallbackURL: a.VoiceFallbackURL,
		VoiceFallbackMethod: a.VoiceFallbackMethod, StatusCallback: a.StatusCallback,
		StatusCallbackMethod:  a.StatusCallbackMethod,
		StatusCallbackEvents:  a.StatusCallbackEvents,
		WebhookConnectTimeout: a.WebhookConnectTimeout, WebhookTimeout: a.WebhookTimeout}, nil
}

// VoiceRouteForDomain gives the domain's own voice URLs as a route; an
// empty VoiceURL means calls between the domain's users are proxied.
func (s *Store) VoiceRouteForDomain(_ context.Context, d *Domain) (*VoiceRoute, error) {
	return &VoiceRoute{AccountSID: d.AccountSID, VoiceURL: d.VoiceURL,
		VoiceMethod: d.VoiceMethod, VoiceFallbackURL: d.VoiceFallbackURL,
		VoiceFallbackMethod: d.VoiceFallbackMethod, StatusCallback: d.VoiceStatusCallback,
		StatusCallbackMethod: d.VoiceStatusCallbackMethod}, nil
}
