package tenancy

import (
	"context"
	"database/sql"
	"fmt"
	"net/netip"
	"time"
)

func ipAddressTable() *table[IPAddress] {
	return newTable("ip_addresses", []string{"sid", "account_sid", "ip_acl_sid",
		"friendly_name", "prefix", "first_ip", "last_ip", "created", "updated"},
		[]string{"account_sid", "ip_acl_sid"}, scanIPAddress,
		func(a *IPAddress) []any {
			first, last := prefixRange(a.Prefix)

			return []any{a.SID, a.AccountSID, a.IPACLSID, a.FriendlyName, a.Prefix.String(),
				first, last, nanos(a.Created), nanos(a.Updated)}
		})
}

func scanIPAddress(sc scanner) (*IPAddress, error) {
	var a IPAddress
	var prefix string
	var first, last []byte
	var created, updated int64
	err := sc.Scan(&a.SID, &a.AccountSID, &a.IPACLSID, &a.FriendlyName, &prefix, &first, &last,
		&created, &updated)
	if err != nil {
		return nil, err
	}
	if a.Prefix, err = netip.ParsePrefix(prefix); err != nil {
		return nil, fmt.Errorf("stored prefix %q: %w", prefix, err)
	}
	a.Created, a.Updated = fromNanos(created), fromNanos(updated)

	return &a, nil
}

// prefixRange returns the first and last address of p in their 16-byte
// form (IPv4 as IPv4-mapped IPv6), which order like the addresses.
func prefixRange(p netip.Prefix) (first, last []byte) {
	p = p.Masked()
	lo := p.Addr().As16()
	hi := lo
	hostBits := p.Addr().BitLen() - p.Bits()
	for i := 15; i >= 0 && hostBits > 0; i-- {
		n := min(hostBits, 8)
		hi[i] |= byte(1<<n - 1)
		hostBits -= n
	}

	return lo[:], hi[:]
}

// addrKey is the 16-byte form of addr that prefixRange ranges compare with.
func addrKey(addr netip.Addr) []byte {
	b := addr.Unmap().As16()

	return b[:]
}

// CreateIPAddress adds a.Prefix to the account's list a.IPACLSID
// (ErrNotFound when the list is not the account's). A range already in the
// list is an ErrConflict *FieldError.
func (s *Store) CreateIPAddress(ctx context.Context, a *IPAddress) (*IPAddress, error) {
	s.stamp(&a.SID, prefixIPAddress, &a.Created, &a.Updated)

	return createRow(ctx, s, s.t.ipAddrs, a, func(tx *sql.Tx) error {
		if err := exists(ctx, tx, "ip_acls", a.AccountSID, a.IPACLSID); err != nil {
			return err
		}

		return checkPrefixFree(ctx, tx, a)
	})
}

func checkPrefixFree(ctx context.Context, tx *sql.Tx, a *IPAddress) error {
	var n int
	err := tx.QueryRowContext(ctx, `SELECT count(*) FROM ip_addresses
		WHERE ip_acl_sid = ? AND prefix = ? AND sid <> ?`,
		a.IPACLSID, a.Prefix.String(), a.SID).Scan(&n)
	if err != nil {
		return fmt.Errorf("tenancy: check address: %w", err)
	}
	if n > 0 {
		return conflict("IpAddress", "address already in this list")
	}

	return nil
}

// IPAddress returns address sid of the account's list, or ErrNotFound.
func (s *Store) IPAddress(ctx context.Context, accountSID, aclSID, sid string) (*IPAddress, error) {
	return s.t.ipAddrs.get(ctx, s.db, accountSID, aclSID, sid)
}

// ListIPAddresses returns page p of the list's addresses; ErrNotFound when
// the list is not the account's.
func (s *Store) ListIPAddresses(ctx context.Context, accountSID, aclSID string,
	p Page) ([]*IPAddress, bool, error) {
	if err := exists(ctx, s.db, "ip_acls", accountSID, aclSID); err != nil {
		return nil, false, err
	}

	return s.t.ipAddrs.list(ctx, s.db, p, accountSID, aclSID)
}

// UpdateIPAddress applies mutate to the address in one transaction.
func (s *Store) UpdateIPAddress(ctx context.Context, accountSID, aclSID, sid string,
	mutate func(*IPAddress) error) (*IPAddress, error) {
	return modifyRow(ctx, s, s.t.ipAddrs, []any{accountSID, aclSID, sid}, mutate,
		func(tx *sql.Tx, a *IPAddress) error { return checkPrefixFree(ctx, tx, a) },
		func(a *IPAddress, t time.Time) { a.Updated = t })
}

// DeleteIPAddress removes the address from the list.
func (s *Store) DeleteIPAddress(ctx context.Context, accountSID, aclSID, sid string) error {
	return s.t.ipAddrs.delete(ctx, s.db, accountSID, aclSID, sid)
}
