package tenancy

import (
	"context"
	"unicode/utf8"
)

type trunkView struct {
	baseView
	FriendlyName       string            `json:"friendly_name"`
	DomainName         *string           `json:"domain_name"`
	Secure             bool              `json:"secure"`
	AuthUsername       string            `json:"auth_username"`
	IPACLSIDs          []string          `json:"ip_access_control_list_sids"`
	CredentialListSIDs []string          `json:"credential_list_sids"`
	Links              map[string]string `json:"links"`
}

func viewTrunk(_ scope, uri string, v *Trunk) any {
	tv := trunkView{baseView: newBase(v.SID, v.AccountSID, v.Created, v.Updated, uri),
		FriendlyName: v.FriendlyName, Secure: v.Secure, AuthUsername: v.AuthUsername,
		IPACLSIDs:          append([]string{}, v.IPACLSIDs...),
		CredentialListSIDs: append([]string{}, v.CredentialListSIDs...),
		Links: subURIs(uri, "origination_urls", "OriginationUrls",
			"ip_access_control_lists", "IpAccessControlLists",
			"credential_lists", "CredentialLists")}
	if v.DomainName != "" {
		tv.DomainName = &v.DomainName
	}

	return tv
}

// applyTrunk copies the present parameters into v. AuthPassword is
// write-only.
func applyTrunk(f *form, v *Trunk) error {
	f.text("FriendlyName", &v.FriendlyName)
	set(f, "DomainName", &v.DomainName, optional(parseDomainName))
	f.boolean("Secure", &v.Secure)
	set(f, "AuthUsername", &v.AuthUsername, optional(parseUsername))
	set(f, "AuthPassword", &v.AuthPassword, func(s string) (string, error) {
		if len(s) > maxPassword || !utf8.ValidString(s) || hasControl(s) {
			return "", errBadSecret
		}

		return s, nil
	})
	if f.err == nil && v.AuthPassword != "" && v.AuthUsername == "" {
		return invalid("AuthUsername", "required with AuthPassword")
	}

	return f.err
}

type originationView struct {
	baseView
	TrunkSID     string `json:"trunk_sid"`
	FriendlyName string `json:"friendly_name"`
	SIPURL       string `json:"sip_url"`
	Priority     int    `json:"priority"`
	Weight       int    `json:"weight"`
	Enabled      bool   `json:"enabled"`
}

// applyOrigination copies the present parameters into v.
func applyOrigination(f *form, v *OriginationURI) error {
	f.text("FriendlyName", &v.FriendlyName)
	set(f, "SipUrl", &v.SIPURL, parseSIPURL)
	f.integer("Priority", 0, 65535, &v.Priority)
	f.integer("Weight", 0, 65535, &v.Weight)
	f.boolean("Enabled", &v.Enabled)

	return f.err
}

// mountTrunks mounts trunks, their origination URIs and their associated
// IP access control lists and credential lists, under /v1.
func (a *API) mountTrunks() {
	s := a.store
	const trunks = "/v1/Accounts/{AccountSid}/Trunks"
	mount(a, ownedSpec[Trunk]{
		base:        trunks,
		listKey:     "trunks",
		fresh:       func(accountSID string) *Trunk { return &Trunk{AccountSID: accountSID} },
		applyCreate: applyTrunk, applyUpdate: applyTrunk,
		create: s.CreateTrunk, fetch: s.Trunk, update: s.UpdateTrunk,
		remove: s.DeleteTrunk, list: s.ListTrunks,
		view: viewTrunk, sidOf: func(v *Trunk) string { return v.SID },
	}.resource())
	mount(a, originationResource(s, trunks+"/{ParentSid}/OriginationUrls"))
	mountLink(a, trunks+"/{ParentSid}/IpAccessControlLists", "ip_access_control_lists",
		s.t.trunkACLs, "", ipACLFields)
	mountLink(a, trunks+"/{ParentSid}/CredentialLists", "credential_lists",
		s.t.trunkCreds, "", credentialListFields)
}

// originationResource is the collection of a trunk's origination URIs.
func originationResource(s *Store, base string) resource[OriginationURI] {
	return resource[OriginationURI]{
		base:    base,
		listKey: "origination_urls",
		create: func(ctx context.Context, sc scope, f *form) (*OriginationURI, error) {
			v := &OriginationURI{TrunkSID: sc.parent, Priority: 10, Weight: 10, Enabled: true}
			f.require("SipUrl")
			if err := applyOrigination(f, v); err != nil {
				return nil, err
			}

			return s.CreateOriginationURI(ctx, sc.acct.SID, v)
		},
		fetch: func(ctx context.Context, sc scope, sid string) (*OriginationURI, error) {
			return s.OriginationURI(ctx, sc.acct.SID, sc.parent, sid)
		},
		update: func(ctx context.Context, sc scope, sid string, f *form) (*OriginationURI, error) {
			return s.UpdateOriginationURI(ctx, sc.acct.SID, sc.parent, sid,
				func(v *OriginationURI) error { return applyOrigination(f, v) })
		},
		remove: func(ctx context.Context, sc scope, sid string) error {
			return s.DeleteOriginationURI(ctx, sc.acct.SID, sc.parent, sid)
		},
		list: func(ctx context.Context, sc scope, p Page) ([]*OriginationURI, bool, error) {
			return s.ListOriginationURIs(ctx, sc.acct.SID, sc.parent, p)
		},
		view: func(_ scope, uri string, v *OriginationURI) any {
			return originationView{baseView: newBase(v.SID, v.AccountSID, v.Created, v.Updated,
				uri), TrunkSID: v.TrunkSID, FriendlyName: v.FriendlyName, SIPURL: v.SIPURL,
				Priority: v.Priority, Weight: v.Weight, Enabled: v.Enabled}
		},
		sidOf: func(v *OriginationURI) string { return v.SID },
	}
}
