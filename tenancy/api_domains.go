package tenancy

type domainView struct {
	baseView
	DomainName                string            `json:"domain_name"`
	FriendlyName              string            `json:"friendly_name"`
	APIVersion                string            `json:"api_version"`
	VoiceURL                  string            `json:"voice_url"`
	VoiceMethod               string            `json:"voice_method"`
	VoiceFallbackURL          string            `json:"voice_fallback_url"`
	VoiceFallbackMethod       string            `json:"voice_fallback_method"`
	VoiceStatusCallbackURL    string            `json:"voice_status_callback_url"`
	VoiceStatusCallbackMethod string            `json:"voice_status_callback_method"`
	SIPRegistration           bool              `json:"sip_registration"`
	Secure                    bool              `json:"secure"`
	SubresourceURIs           map[string]string `json:"subresource_uris"`
}

func viewDomain(_ scope, uri string, v *Domain) any {
	return domainView{baseView: newBase(v.SID, v.AccountSID, v.Created, v.Updated, uri),
		DomainName: v.DomainName, FriendlyName: v.FriendlyName, APIVersion: apiVersion,
		VoiceURL: v.VoiceURL, VoiceMethod: v.VoiceMethod, VoiceFallbackURL: v.VoiceFallbackURL,
		VoiceFallbackMethod: v.VoiceFallbackMethod, VoiceStatusCallbackURL: v.VoiceStatusCallback,
		VoiceStatusCallbackMethod: v.VoiceStatusCallbackMethod,
		SIPRegistration:           v.SIPRegistration, Secure: v.Secure,
		SubresourceURIs: subURIs(uri,
			"credential_list_mappings", "CredentialListMappings",
			"ip_access_control_list_mappings", "IpAccessControlListMappings")}
}

// applyDomain copies the present parameters into v.
func applyDomain(f *form, v *Domain) error {
	set(f, "DomainName", &v.DomainName, parseDomainName)
	f.text("FriendlyName", &v.FriendlyName)
	f.url("VoiceUrl", &v.VoiceURL)
	f.method("VoiceMethod", &v.VoiceMethod)
	f.url("VoiceFallbackUrl", &v.VoiceFallbackURL)
	f.method("VoiceFallbackMethod", &v.VoiceFallbackMethod)
	f.url("VoiceStatusCallbackUrl", &v.VoiceStatusCallback)
	f.method("VoiceStatusCallbackMethod", &v.VoiceStatusCallbackMethod)
	f.boolean("SipRegistration", &v.SIPRegistration)
	f.boolean("Secure", &v.Secure)

	return f.err
}

func (a *API) mountDomains() {
	s := a.store
	mount(a, ownedSpec[Domain]{
		base:    "/2010-04-01/Accounts/{AccountSid}/SIP/Domains",
		listKey: "domains",
		fresh: func(accountSID string) *Domain {
			return &Domain{AccountSID: accountSID, VoiceMethod: "POST",
				VoiceFallbackMethod: "POST", VoiceStatusCallbackMethod: "POST"}
		},
		applyCreate: func(f *form, v *Domain) error {
			f.require("DomainName")

			return applyDomain(f, v)
		},
		applyUpdate: applyDomain,
		create:      s.CreateDomain, fetch: s.Domain, update: s.UpdateDomain,
		remove: s.DeleteDomain, list: s.ListDomains,
		view: viewDomain, sidOf: func(v *Domain) string { return v.SID },
	}.resource())
}
