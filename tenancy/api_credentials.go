package tenancy

import (
	"context"
	"time"
)

type credentialView struct {
	baseView
	CredentialListSID string `json:"credential_list_sid"`
	Username          string `json:"username"`
}

// mountCredentials mounts credential lists and their credentials.
// Passwords are write-only: no response carries them or their digests.
func (a *API) mountCredentials() {
	s := a.store
	const lists = "/2010-04-01/Accounts/{AccountSid}/SIP/CredentialLists"
	mount(a, namedListSpec(s, s.t.credLists, credentialListFields, lists, "credential_lists",
		prefixCredList, "credentials", "Credentials").resource())
	mount(a, credentialResource(s, lists+"/{ParentSid}/Credentials"))
}

// credentialResource is the collection of a credential list's credentials.
func credentialResource(s *Store, base string) resource[Credential] {
	return resource[Credential]{
		base:    base,
		listKey: "credentials",
		create: func(ctx context.Context, sc scope, f *form) (*Credential, error) {
			var user, pass string
			f.require("Username", "Password")
			set(f, "Username", &user, parseUsername)
			set(f, "Password", &pass, passwordParam)
			if f.err != nil {
				return nil, f.err
			}

			return s.CreateCredential(ctx, sc.acct.SID, sc.parent, user, pass)
		},
		fetch: func(ctx context.Context, sc scope, sid string) (*Credential, error) {
			return s.Credential(ctx, sc.acct.SID, sc.parent, sid)
		},
		update: func(ctx context.Context, sc scope, sid string, f *form) (*Credential, error) {
			var pass string
			f.require("Password")
			set(f, "Password", &pass, passwordParam)
			if f.err != nil {
				return nil, f.err
			}

			return s.SetCredentialPassword(ctx, sc.acct.SID, sc.parent, sid, pass)
		},
		remove: func(ctx context.Context, sc scope, sid string) error {
			return s.DeleteCredential(ctx, sc.acct.SID, sc.parent, sid)
		},
		list: func(ctx context.Context, sc scope, p Page) ([]*Credential, bool, error) {
			return s.ListCredentials(ctx, sc.acct.SID, sc.parent, p)
		},
		view: func(_ scope, uri string, v *Credential) any {
			return credentialView{baseView: newBase(v.SID, v.AccountSID, v.Created, v.Updated, uri),
				CredentialListSID: v.CredentialListSID, Username: v.Username}
		},
		sidOf: func(v *Credential) string { return v.SID },
	}
}

func passwordParam(s string) (string, error) { return s, checkPassword(s) }

// namedListSpec is the collection of one kind of named list (credential
// lists, IP access control lists): FriendlyName is required and is all that
// changes; each list links to its entries under subPath.
func namedListSpec[T any](s *Store, t *table[T], fields func(*T) listFields,
	base, listKey, prefix, subName, subPath string) ownedSpec[T] {
	applyName := func(f *form, v *T) error {
		f.require("FriendlyName")
		f.text("FriendlyName", fields(v).name)

		return f.err
	}

	return ownedSpec[T]{
		base: base, listKey: listKey,
		fresh: func(accountSID string) *T {
			v := new(T)
			*fields(v).account = accountSID

			return v
		},
		applyCreate: applyName, applyUpdate: applyName,
		create: func(ctx context.Context, v *T) (*T, error) {
			f := fields(v)

			return createList(ctx, s, t, fields, prefix, *f.account, *f.name)
		},
		fetch: func(ctx context.Context, accountSID, sid string) (*T, error) {
			return t.get(ctx, s.db, accountSID, sid)
		},
		update: func(ctx context.Context, accountSID, sid string,
			mutate func(*T) error) (*T, error) {
			return modifyRow(ctx, s, t, []any{accountSID, sid}, mutate, nil,
				func(v *T, now time.Time) { *fields(v).updated = now })
		},
		remove: func(ctx context.Context, accountSID, sid string) error {
			return t.delete(ctx, s.db, accountSID, sid)
		},
		list: func(ctx context.Context, accountSID string, p Page) ([]*T, bool, error) {
			return t.list(ctx, s.db, p, accountSID)
		},
		view: func(_ scope, uri string, v *T) any {
			return viewList(fields(v), uri, subURIs(uri, subName, subPath))
		},
		sidOf: func(v *T) string { return *fields(v).sid },
	}
}
