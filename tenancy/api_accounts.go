package tenancy

import (
	"fmt"
	"net/http"
)

type accountView struct {
	SID             string            `json:"sid"`
	FriendlyName    string            `json:"friendly_name"`
	Status          AccountStatus     `json:"status"`
	EffectiveStatus AccountStatus     `json:"effective_status"`
	AuthToken       string            `json:"auth_token,omitempty"`
	OwnerAccountSID string            `json:"owner_account_sid"`
	ParentSID       *string           `json:"parent_account_sid"`
	Type            string            `json:"type"`
	DateCreated     string            `json:"date_created"`
	DateUpdated     string            `json:"date_updated"`
	URI             string            `json:"uri"`
	SubresourceURIs map[string]string `json:"subresource_uris"`
}

// viewAccount is the account's JSON form for caller c. The auth token is
// shown only to the account itself, its parent and the operator.
func viewAccount(c caller, v *Account) accountView {
	uri := "/2010-04-01/Accounts/" + v.SID + ".json"
	av := accountView{SID: v.SID, FriendlyName: v.FriendlyName, Status: v.Status,
		EffectiveStatus: v.EffectiveStatus, OwnerAccountSID: v.SID, Type: "Full",
		DateCreated: FormatTime(v.Created), DateUpdated: FormatTime(v.Updated), URI: uri,
		SubresourceURIs: subURIs(uri, "applications", "Applications",
			"incoming_phone_numbers", "IncomingPhoneNumbers", "sip_domains", "SIP/Domains",
			"sip_credential_lists", "SIP/CredentialLists",
			"sip_ip_access_control_lists", "SIP/IpAccessControlLists")}
	if v.ParentSID != "" {
		av.OwnerAccountSID, av.ParentSID = v.ParentSID, &v.ParentSID
	}
	if c.operator() || c.account.SID == v.SID || c.account.SID == v.ParentSID {
		av.AuthToken = v.AuthToken
	}

	return av
}

// mountAccounts mounts the account collection: the operator creates
// top-level accounts, an account creates its sub-accounts; each lists what
// it may see.
func (a *API) mountAccounts() {
	a.handle("POST /2010-04-01/Accounts.json", a.createAccount)
	a.handle("GET /2010-04-01/Accounts.json", a.listAccounts)
	a.HandleAccount("GET /2010-04-01/Accounts/{AccountSid}",
		func(w http.ResponseWriter, r *http.Request, acct *Account) {
			WriteJSON(w, http.StatusOK, viewAccount(callerFrom(r.Context()), acct))
		})
	a.HandleAccount("POST /2010-04-01/Accounts/{AccountSid}", a.updateAccount)
}

// meterCaller reports a request made by an account to OnRequest.
func (a *API) meterCaller(c caller) {
	if a.opts.OnRequest != nil && !c.operator() {
		a.opts.OnRequest(c.account.SID)
	}
}

func (a *API) createAccount(w http.ResponseWriter, r *http.Request) {
	c := callerFrom(r.Context())
	a.meterCaller(c)
	f, err := readForm(r)
	if err != nil {
		a.fail(w, r, err)

		return
	}
	var name, parent string
	f.text("FriendlyName", &name)
	if f.err != nil {
		a.fail(w, r, f.err)

		return
	}
	if !c.operator() {
		parent = c.account.SID
	}
	acct, err := a.store.CreateAccount(r.Context(), parent, name)
	if err != nil {
		a.fail(w, r, err)

		return
	}
	WriteJSON(w, http.StatusCreated, viewAccount(c, acct))
}

func (a *API) listAccounts(w http.ResponseWriter, r *http.Request) {
	c := callerFrom(r.Context())
	a.meterCaller(c)
	p, err := ParsePage(r)
	if err != nil {
		a.fail(w, r, err)

		return
	}
	var root string
	if !c.operator() {
		root = c.account.SID
	}
	q := r.URL.Query()
	filter := AccountFilter{FriendlyName: q.Get("FriendlyName"),
		Status: AccountStatus(q.Get("Status"))}
	accts, more, err := a.store.FindAccounts(r.Context(), root, p, filter)
	if err != nil {
		a.fail(w, r, err)

		return
	}
	views := make([]accountView, len(accts))
	for i, v := range accts {
		views[i] = viewAccount(c, v)
	}
	env := PageEnvelope(r, p, len(accts), more)
	env["accounts"] = views
	WriteJSON(w, http.StatusOK, env)
}

// updateAccount changes FriendlyName and Status. Only a parent (any
// ancestor) or the operator may change Status.
func (a *API) updateAccount(w http.ResponseWriter, r *http.Request, acct *Account) {
	c := callerFrom(r.Context())
	f, err := readForm(r)
	if err != nil {
		a.fail(w, r, err)

		return
	}
	var u AccountUpdate
	if name, ok := f.get("FriendlyName"); ok {
		u.FriendlyName = &name
	}
	if st, ok := f.get("Status"); ok {
		if !c.above(acct) {
			a.fail(w, r, fmt.Errorf("%w: only a parent account or the operator may change Status",
				ErrForbidden))

			return
		}
		status := AccountStatus(st)
		u.Status = &status
	}
	updated, err := a.store.UpdateAccount(r.Context(), acct.SID, u)
	if err != nil {
		a.fail(w, r, err)

		return
	}
	WriteJSON(w, http.StatusOK, viewAccount(c, updated))
}
