package tenancy

import "context"

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
	mountNamedLists(a, lists, "credential_lists", credentialListFields,
		s.CreateCredentialList, s.CredentialList, s.RenameCredentialList,
		s.DeleteCredentialList, s.ListCredentialLists, "credentials", "Credentials")
	mount(a, resource[Credential]{
		base:    lists + "/{ParentSid}/Credentials",
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
	})
}

func passwordParam(s string) (string, error) { return s, checkPassword(s) }

// mountNamedLists mounts a collection of named lists (credential lists, IP
// access control lists): FriendlyName is required and is all that changes.
func mountNamedLists[T any](a *API, base, listKey string, fields func(*T) listFields,
	create func(ctx context.Context, accountSID, name string) (*T, error),
	fetch func(ctx context.Context, accountSID, sid string) (*T, error),
	rename func(ctx context.Context, accountSID, sid, name string) (*T, error),
	remove func(ctx context.Context, accountSID, sid string) error,
	list func(ctx context.Context, accountSID string, p Page) ([]*T, bool, error),
	subName, subPath string) {
	friendlyName := func(f *form) (string, error) {
		var name string
		f.require("FriendlyName")
		f.text("FriendlyName", &name)

		return name, f.err
	}
	mount(a, resource[T]{
		base:    base,
		listKey: listKey,
		create: func(ctx context.Context, sc scope, f *form) (*T, error) {
			name, err := friendlyName(f)
			if err != nil {
				return nil, err
			}

			return create(ctx, sc.acct.SID, name)
		},
		fetch: func(ctx context.Context, sc scope, sid string) (*T, error) {
			return fetch(ctx, sc.acct.SID, sid)
		},
		update: func(ctx context.Context, sc scope, sid string, f *form) (*T, error) {
			name, err := friendlyName(f)
			if err != nil {
				return nil, err
			}

			return rename(ctx, sc.acct.SID, sid, name)
		},
		remove: func(ctx context.Context, sc scope, sid string) error {
			return remove(ctx, sc.acct.SID, sid)
		},
		list: func(ctx context.Context, sc scope, p Page) ([]*T, bool, error) {
			return list(ctx, sc.acct.SID, p)
		},
		view: func(_ scope, uri string, v *T) any {
			return viewList(fields(v), uri, subURIs(uri, subName, subPath))
		},
		sidOf: func(v *T) string { return *fields(v).sid },
	})
}
