package tenancy

import (
	"context"
	"net/http"
	"net/url"
	"strings"
)

// scope is what a resource request acts within: the account from the
// {AccountSid} path segment and the parent resource from {ParentSid}
// (empty for top-level resources).
type scope struct {
	acct   *Account
	parent string
	coll   string     // the collection's URI without ".json"
	query  url.Values // the query string of list requests, for filters
}

// resource describes one REST collection so that every collection has the
// same routes, status codes and paging: GET and POST (when create is set)
// on base+".json", GET, POST (when update is set) and DELETE on
// base+"/{Sid}.json". base is the pattern without ".json", with
// {AccountSid} and maybe {ParentSid}; listKey names the list in list
// responses; view gives the JSON form of an item at its URI.
type resource[T any] struct {
	base    string
	listKey string
	create  func(ctx context.Context, sc scope, f *form) (*T, error) // nil: none
	fetch   func(ctx context.Context, sc scope, sid string) (*T, error)
	update  func(ctx context.Context, sc scope, sid string, f *form) (*T, error) // nil: none
	remove  func(ctx context.Context, sc scope, sid string) error
	list    func(ctx context.Context, sc scope, p Page) ([]*T, bool, error)
	view    func(sc scope, uri string, v *T) any
	sidOf   func(v *T) string
}

// mount registers the collection's routes on the API.
func mount[T any](a *API, res resource[T]) {
	a.HandleAccount("GET "+res.base+".json", func(w http.ResponseWriter, r *http.Request,
		acct *Account) {
		sc := res.scopeOf(r, acct)
		sc.query = r.URL.Query()
		listResource(a, w, r, res, sc)
	})
	if res.create != nil {
		a.HandleAccount("POST "+res.base+".json", func(w http.ResponseWriter,
			r *http.Request, acct *Account) {
			writeResource(a, w, r, res, res.scopeOf(r, acct), "", http.StatusCreated)
		})
	}
	a.HandleAccount("GET "+res.base+"/{Sid}", func(w http.ResponseWriter, r *http.Request,
		acct *Account) {
		sc := res.scopeOf(r, acct)
		v, err := res.fetch(r.Context(), sc, itemSID(r))
		reply(a, w, r, res, sc, v, err, http.StatusOK)
	})
	if res.update != nil {
		a.HandleAccount("POST "+res.base+"/{Sid}", func(w http.ResponseWriter, r *http.Request,
			acct *Account) {
			writeResource(a, w, r, res, res.scopeOf(r, acct), itemSID(r), http.StatusOK)
		})
	}
	a.HandleAccount("DELETE "+res.base+"/{Sid}", func(w http.ResponseWriter, r *http.Request,
		acct *Account) {
		if err := res.remove(r.Context(), res.scopeOf(r, acct), itemSID(r)); err != nil {
			a.fail(w, r, err)

			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

// scopeOf is the scope of a request to the collection.
func (res *resource[T]) scopeOf(r *http.Request, acct *Account) scope {
	parent := r.PathValue("ParentSid")

	return scope{acct: acct, parent: parent,
		coll: strings.NewReplacer("{AccountSid}", acct.SID, "{ParentSid}", parent).
			Replace(res.base)}
}

// itemSID is the {Sid} path segment without its ".json".
func itemSID(r *http.Request) string { return strings.TrimSuffix(r.PathValue("Sid"), ".json") }

// itemURI is the URI of the collection's item sid.
func (sc scope) itemURI(sid string) string { return sc.coll + "/" + sid + ".json" }

// listResource answers a list request with one page.
func listResource[T any](a *API, w http.ResponseWriter, r *http.Request, res resource[T],
	sc scope) {
	p, err := ParsePage(r)
	if err != nil {
		a.fail(w, r, err)

		return
	}
	items, more, err := res.list(r.Context(), sc, p)
	if err != nil {
		a.fail(w, r, err)

		return
	}
	views := make([]any, len(items))
	for i, v := range items {
		views[i] = res.view(sc, sc.itemURI(res.sidOf(v)), v)
	}
	env := PageEnvelope(r, p, len(items), more)
	env[res.listKey] = views
	WriteJSON(w, http.StatusOK, env)
}

// writeResource creates (sid empty) or updates an item from the form body.
func writeResource[T any](a *API, w http.ResponseWriter, r *http.Request, res resource[T],
	sc scope, sid string, status int) {
	f, err := readForm(r)
	if err != nil {
		a.fail(w, r, err)

		return
	}
	var v *T
	if sid == "" {
		v, err = res.create(r.Context(), sc, f)
	} else {
		v, err = res.update(r.Context(), sc, sid, f)
	}
	reply(a, w, r, res, sc, v, err, status)
}

// reply answers with v's JSON form, or with err.
func reply[T any](a *API, w http.ResponseWriter, r *http.Request, res resource[T], sc scope,
	v *T, err error, status int) {
	if err != nil {
		a.fail(w, r, err)

		return
	}
	WriteJSON(w, status, res.view(sc, sc.itemURI(res.sidOf(v)), v))
}
