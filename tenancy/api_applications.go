package tenancy

type applicationView struct {
	baseView
	FriendlyName         string   `json:"friendly_name"`
	APIVersion           string   `json:"api_version"`
	VoiceURL             string   `json:"voice_url"`
	VoiceMethod          string   `json:"voice_method"`
	VoiceFallbackURL     string   `json:"voice_fallback_url"`
	VoiceFallbackMethod  string   `json:"voice_fallback_method"`
	StatusCallback       string   `json:"status_callback"`
	StatusCallbackMethod string   `json:"status_callback_method"`
	StatusCallbackEvents []string `json:"status_callback_events"`
	// Patchbay's own: the webhook timeouts in milliseconds (0: the account's).
	WebhookConnectTimeout int64 `json:"webhook_connect_timeout"`
	WebhookTimeout        int64 `json:"webhook_timeout"`
}

func viewApplication(_ scope, uri string, v *Application) any {
	return applicationView{baseView: newBase(v.SID, v.AccountSID, v.Created, v.Updated, uri),
		FriendlyName: v.FriendlyName, APIVersion: apiVersion, VoiceURL: v.VoiceURL,
		VoiceMethod: v.VoiceMethod, VoiceFallbackURL: v.VoiceFallbackURL,
		VoiceFallbackMethod: v.VoiceFallbackMethod, StatusCallback: v.StatusCallback,
		StatusCallbackMethod:  v.StatusCallbackMethod,
		StatusCallbackEvents:  append([]string{}, v.StatusCallbackEvents...),
		WebhookConnectTimeout: v.WebhookConnectTimeout.Milliseconds(),
		WebhookTimeout:        v.WebhookTimeout.Milliseconds()}
}

// applyApplication copies the present parameters into v.
func applyApplication(f *form, v *Application) error {
	f.text("FriendlyName", &v.FriendlyName)
	f.url("VoiceUrl", &v.VoiceURL)
	f.method("VoiceMethod", &v.VoiceMethod)
	f.url("VoiceFallbackUrl", &v.VoiceFallbackURL)
	f.method("VoiceFallbackMethod", &v.VoiceFallbackMethod)
	f.url("StatusCallback", &v.StatusCallback)
	f.method("StatusCallbackMethod", &v.StatusCallbackMethod)
	f.timeoutMillis("WebhookConnectTimeout", &v.WebhookConnectTimeout)
	f.timeoutMillis("WebhookTimeout", &v.WebhookTimeout)
	if evs, ok := f.v["StatusCallbackEvent"]; ok && f.err == nil {
		events, err := parseEvents(evs)
		if err != nil {
			return invalid("StatusCallbackEvent", err.Error())
		}
		v.StatusCallbackEvents = events
	}

	return f.err
}

func (a *API) mountApplications() {
	s := a.store
	mount(a, ownedSpec[Application]{
		base:    "/2010-04-01/Accounts/{AccountSid}/Applications",
		listKey: "applications",
		fresh: func(accountSID string) *Application {
			return &Application{AccountSID: accountSID, VoiceMethod: "POST",
				VoiceFallbackMethod: "POST", StatusCallbackMethod: "POST",
				StatusCallbackEvents: []string{"completed"}}
		},
		applyCreate: applyApplication, applyUpdate: applyApplication,
		create: s.CreateApplication, fetch: s.ApplicationBySID, update: s.UpdateApplication,
		remove: s.DeleteApplication, list: s.ListApplications,
		view: viewApplication, sidOf: func(v *Application) string { return v.SID },
	}.resource())
}
