package tenancy

import (
	"context"
	"net/url"
)

// ownedSpec describes a collection owned directly by an account
// (applications, numbers, domains, trunks) in terms of its store methods;
// resource turns it into routes.
type ownedSpec[T any] struct {
	base, listKey string
	fresh         func(accountSID string) *T // a new item with its defaults
	applyCreate   func(f *form, v *T) error  // checks required parameters too
	applyUpdate   func(f *form, v *T) error
	create        func(ctx context.Context, v *T) (*T, error)
	fetch         func(ctx context.Context, accountSID, sid string) (*T, error)
	update        func(ctx context.Context, accountSID, sid string,
		mutate func(*T) error) (*T, error)
	remove func(ctx context.Context, accountSID, sid string) error
	list   func(ctx context.Context, accountSID string, p Page) ([]*T, bool, error)
	// filtered, when set, lists instead of list, reading filters from the
	// query string.
	filtered func(ctx context.Context, accountSID string, p Page,
		q url.Values) ([]*T, bool, error)
	view  func(sc scope, uri string, v *T) any
	sidOf func(v *T) string
}

func (o ownedSpec[T]) resource() resource[T] {
	return resource[T]{
		base:    o.base,
		listKey: o.listKey,
		create: func(ctx context.Context, sc scope, f *form) (*T, error) {
			v := o.fresh(sc.acct.SID)
			if err := o.applyCreate(f, v); err != nil {
				return nil, err
			}

			return o.create(ctx, v)
		},
		fetch: func(ctx context.Context, sc scope, sid string) (*T, error) {
			return o.fetch(ctx, sc.acct.SID, sid)
		},
		update: func(ctx context.Context, sc scope, sid string, f *form) (*T, error) {
			return o.update(ctx, sc.acct.SID, sid, func(v *T) error { return o.applyUpdate(f, v) })
		},
		remove: func(ctx context.Context, sc scope, sid string) error {
			return o.remove(ctx, sc.acct.SID, sid)
		},
		list: func(ctx context.Context, sc scope, p Page) ([]*T, bool, error) {
			if o.filtered != nil {
				return o.filtered(ctx, sc.acct.SID, p, sc.query)
			}

			return o.list(ctx, sc.acct.SID, p)
		},
		view:  o.view,
		sidOf: o.sidOf,
	}
}
