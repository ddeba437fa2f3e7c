package tenancy

import (
	"context"
	"net/url"
)

type numberView struct {
	baseView
	PhoneNumber          string `json:"phone_number"`
	FriendlyName         string `json:"friendly_name"`
	APIVersion           string `json:"api_version"`
	VoiceApplicationSID  string `json:"voice_application_sid"`
	VoiceURL             string `json:"voice_url"`
	VoiceMethod          string `json:"voice_method"`
	VoiceFallbackURL     string `json:"voice_fallback_url"`
	VoiceFallbackMethod  string `json:"voice_fallback_method"`
	StatusCallback       string `json:"status_callback"`
	StatusCallbackMethod string `json:"status_callback_method"`
	TrunkSID             string `json:"trunk_sid"`
}

func viewNumber(_ scope, uri string, v *IncomingNumber) any {
	return numberView{baseView: newBase(v.SID, v.AccountSID, v.Created, v.Updated, uri),
		PhoneNumber: v.PhoneNumber, FriendlyName: v.FriendlyName, APIVersion: apiVersion,
		VoiceApplicationSID: v.VoiceApplicationSID, VoiceURL: v.VoiceURL,
		VoiceMethod: v.VoiceMethod, VoiceFallbackURL: v.VoiceFallbackURL,
		VoiceFallbackMethod: v.VoiceFallbackMethod, StatusCallback: v.StatusCallback,
		StatusCallbackMethod: v.StatusCallbackMethod, TrunkSID: v.TrunkSID}
}

// applyNumber copies the present parameters into v; PhoneNumber only when
// creating.
func applyNumber(f *form, v *IncomingNumber) error {
	f.text("FriendlyName", &v.FriendlyName)
	f.sid("VoiceApplicationSid", prefixApplication, &v.VoiceApplicationSID)
	f.url("VoiceUrl", &v.VoiceURL)
	f.method("VoiceMethod", &v.VoiceMethod)
	f.url("VoiceFallbackUrl", &v.VoiceFallbackURL)
	f.method("VoiceFallbackMethod", &v.VoiceFallbackMethod)
	f.url("StatusCallback", &v.StatusCallback)
	f.method("StatusCallbackMethod", &v.StatusCallbackMethod)
	f.sid("TrunkSid", prefixTrunk, &v.TrunkSID)

	return f.err
}

func (a *API) mountNumbers() {
	s := a.store
	mount(a, ownedSpec[IncomingNumber]{
		base:    "/2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers",
		listKey: "incoming_phone_numbers",
		fresh: func(accountSID string) *IncomingNumber {
			return &IncomingNumber{AccountSID: accountSID, VoiceMethod: "POST",
				VoiceFallbackMethod: "POST", StatusCallbackMethod: "POST"}
		},
		applyCreate: func(f *form, v *IncomingNumber) error {
			f.require("PhoneNumber")
			set(f, "PhoneNumber", &v.PhoneNumber, parseE164)
			if err := applyNumber(f, v); err != nil {
				return err
			}
			if v.FriendlyName == "" {
				v.FriendlyName = v.PhoneNumber
			}

			return nil
		},
		applyUpdate: func(f *form, v *IncomingNumber) error {
			if _, ok := f.get("PhoneNumber"); ok {
				return invalid("PhoneNumber", "cannot be changed; release the number instead")
			}

			return applyNumber(f, v)
		},
		create: s.CreateIncomingNumber, fetch: s.IncomingNumber, update: s.UpdateIncomingNumber,
		remove: s.DeleteIncomingNumber,
		filtered: func(ctx context.Context, accountSID string, p Page,
			q url.Values) ([]*IncomingNumber, bool, error) {
			return s.ListIncomingNumbers(ctx, accountSID, p,
				NumberFilter{PhoneNumber: q.Get("PhoneNumber"), FriendlyName: q.Get("FriendlyName")})
		},
		view: viewNumber, sidOf: func(v *IncomingNumber) string { return v.SID },
	}.resource())
}
