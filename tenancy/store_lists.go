package tenancy

import (
	"context"
	"time"
)

// listFields points at the fields every named list (credential list, IP
// access control list) has, so that one generic table serves both.
type listFields struct {
	sid, account, name *string
	created, updated   *time.Time
}

func namedListTable[T any](name string, fields func(*T) listFields) *table[T] {
	scan := func(sc scanner) (*T, error) {
		v := new(T)
		f := fields(v)
		var created, updated int64
		err := sc.Scan(f.sid, f.account, f.name, &created, &updated)
		*f.created, *f.updated = fromNanos(created), fromNanos(updated)

		return v, err
	}
	values := func(v *T) []any {
		f := fields(v)

		return []any{*f.sid, *f.account, *f.name, nanos(*f.created), nanos(*f.updated)}
	}

	return newTable(name, []string{"sid", "account_sid", "friendly_name", "created", "updated"},
		[]string{"account_sid"}, scan, values)
}

func credentialListFields(l *CredentialList) listFields {
	return listFields{&l.SID, &l.AccountSID, &l.FriendlyName, &l.Created, &l.Updated}
}

func ipACLFields(l *IPAccessControlList) listFields {
	return listFields{&l.SID, &l.AccountSID, &l.FriendlyName, &l.Created, &l.Updated}
}

// createList stores a new named list of accountSID.
func createList[T any](ctx context.Context, s *Store, t *table[T], fields func(*T) listFields,
	prefix, accountSID, name string) (*T, error) {
	v := new(T)
	f := fields(v)
	*f.account, *f.name = accountSID, name
	s.stamp(f.sid, prefix, f.created, f.updated)

	return createRow(ctx, s, t, v, nil)
}

// renameList changes a named list's friendly name.
func renameList[T any](ctx context.Context, s *Store, t *table[T], fields func(*T) listFields,
	accountSID, sid, name string) (*T, error) {
	return modifyRow(ctx, s, t, []any{accountSID, sid},
		func(v *T) error { *fields(v).name = name; return nil }, nil,
		func(v *T, now time.Time) { *fields(v).updated = now })
}

// CreateCredentialList stores an empty credential list of the account.
func (s *Store) CreateCredentialList(ctx context.Context, accountSID,
	name string) (*CredentialList, error) {
	return createList(ctx, s, s.t.credLists, credentialListFields, prefixCredList, accountSID, name)
}

// CredentialList returns the account's credential list sid, or ErrNotFound.
func (s *Store) CredentialList(ctx context.Context, accountSID,
	sid string) (*CredentialList, error) {
	return s.t.credLists.get(ctx, s.db, accountSID, sid)
}

// ListCredentialLists returns page p of the account's credential lists.
func (s *Store) ListCredentialLists(ctx context.Context, accountSID string,
	p Page) ([]*CredentialList, bool, error) {
	return s.t.credLists.list(ctx, s.db, p, accountSID)
}

// RenameCredentialList changes the list's friendly name.
func (s *Store) RenameCredentialList(ctx context.Context, accountSID, sid,
	name string) (*CredentialList, error) {
	return renameList(ctx, s, s.t.credLists, credentialListFields, accountSID, sid, name)
}

// DeleteCredentialList deletes the list with, in the same transaction, its
// credentials and its mappings to domains and trunks.
func (s *Store) DeleteCredentialList(ctx context.Context, accountSID, sid string) error {
	return s.t.credLists.delete(ctx, s.db, accountSID, sid)
}

// CreateIPACL stores an empty IP access control list of the account.
func (s *Store) CreateIPACL(ctx context.Context, accountSID,
	name string) (*IPAccessControlList, error) {
	return createList(ctx, s, s.t.ipACLs, ipACLFields, prefixIPACL, accountSID, name)
}

// IPACL returns the account's IP access control list sid, or ErrNotFound.
func (s *Store) IPACL(ctx context.Context, accountSID, sid string) (*IPAccessControlList, error) {
	return s.t.ipACLs.get(ctx, s.db, accountSID, sid)
}

// ListIPACLs returns page p of the account's IP access control lists.
func (s *Store) ListIPACLs(ctx context.Context, accountSID string,
	p Page) ([]*IPAccessControlList, bool, error) {
	return s.t.ipACLs.list(ctx, s.db, p, accountSID)
}

// RenameIPACL changes the list's friendly name.
func (s *Store) RenameIPACL(ctx context.Context, accountSID, sid,
	name string) (*IPAccessControlList, error) {
	return renameList(ctx, s, s.t.ipACLs, ipACLFields, accountSID, sid, name)
}

// DeleteIPACL deletes the list with, in the same transaction, its
// addresses and its mappings to domains and trunks.
func (s *Store) DeleteIPACL(ctx context.Context, accountSID, sid string) error {
	return s.t.ipACLs.delete(ctx, s.db, accountSID, sid)
}
