package tenancy

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// badInputFixture creates the resources the bad-input cases collide with
// and returns the placeholders of their paths and values.
func badInputFixture(h *harness) (creds, map[string]string) {
	h.t.Helper()
	a := h.account(operator, "fixture")
	other := h.account(operator, "other")
	base := "/2010-04-01/Accounts/" + a.user
	env := map[string]string{"{A}": a.user}
	env["{D}"] = h.post(a, base+"/SIP/Domains.json", vals("DomainName", "taken.example.com"))
	h.post(a, base+"/IncomingPhoneNumbers.json", vals("PhoneNumber", "+14155550100"))
	env["{CL}"] = h.post(a, base+"/SIP/CredentialLists.json", vals("FriendlyName", "staff"))
	h.post(a, base+"/SIP/CredentialLists/"+env["{CL}"]+"/Credentials.json",
		vals("Username", "alice", "Password", goodPass))
	h.post(a, base+"/SIP/Domains/"+env["{D}"]+"/CredentialListMappings.json",
		vals("CredentialListSid", env["{CL}"]))
	env["{ACL}"] = h.post(a, base+"/SIP/IpAccessControlLists.json", vals("FriendlyName", "office"))
	env["{TK}"] = h.post(a, "/v1/Accounts/"+a.user+"/Trunks.json",
		vals("FriendlyName", "carrier", "DomainName", "trunk.example.com"))
	env["{OtherApp}"] = h.post(other, "/2010-04-01/Accounts/"+other.user+"/Applications.json",
		vals("FriendlyName", "theirs"))
	closed := h.account(a, "closed")
	h.must(http.StatusOK, a, "POST", "/2010-04-01/Accounts/"+closed.user+".json",
		vals("Status", "closed"))
	env["{Closed}"] = closed.user

	return a, env
}

func TestAPIBadInputChangesNothing(t *testing.T) {
	h := newHarness(t, APIOptions{})
	a, env := badInputFixture(h)
	const acc = "/2010-04-01/Accounts/{A}"
	const v1 = "/v1/Accounts/{A}"
	num, app := acc+"/IncomingPhoneNumbers.json", acc+"/Applications.json"
	dom, creds := acc+"/SIP/Domains.json", acc+"/SIP/CredentialLists/{CL}/Credentials.json"
	ips, trunk := acc+"/SIP/IpAccessControlLists/{ACL}/IpAddresses.json", v1+"/Trunks.json"
	orig, limits := v1+"/Trunks/{TK}/OriginationUrls.json", v1+"/Limits.json"

	cases := []struct {
		name, path, field string
		form              url.Values
	}{
		{"number without plus", num, "PhoneNumber", vals("PhoneNumber", "4155550100")},
		{"number with leading zero", num, "PhoneNumber", vals("PhoneNumber", "+0155550100")},
		{"number of 16 digits", num, "PhoneNumber", vals("PhoneNumber", "+1234567890123456")},
		{"number with letters", num, "PhoneNumber", vals("PhoneNumber", "+1415CALLME")},
		{"number missing", num, "PhoneNumber", vals("FriendlyName", "x")},
		{"number taken", num, "PhoneNumber", vals("PhoneNumber", "+14155550100")},
		{"number with another tenant's app", num, "VoiceApplicationSid",
			vals("PhoneNumber", "+14155550101", "VoiceApplicationSid", "{OtherApp}")},
		{"number with malformed app", num, "VoiceApplicationSid",
			vals("PhoneNumber", "+14155550101", "VoiceApplicationSid", "AP123")},
		{"ftp voice url", app, "VoiceUrl", vals("VoiceUrl", "ftp://example.com/x")},
		{"script voice url", app, "VoiceUrl", vals("VoiceUrl", "javascript:alert(1)")},
		{"relative voice url", app, "VoiceFallbackUrl", vals("VoiceFallbackUrl", "/voice")},
		{"bad method", app, "VoiceMethod", vals("VoiceMethod", "PUT")},
		{"bad event", app, "StatusCallbackEvent", vals("StatusCallbackEvent", "hangup")},
		{"long name", app, "FriendlyName", vals("FriendlyName", strings.Repeat("n", 65))},
		{"control in name", app, "FriendlyName", vals("FriendlyName", "a\x00b")},
		{"timeout too short", app, "WebhookTimeout", vals("WebhookTimeout", "99")},
		{"timeout too long", app, "WebhookTimeout", vals("WebhookTimeout", "60001")},
		{"timeout as duration", app, "WebhookConnectTimeout",
			vals("WebhookConnectTimeout", "2s")},
		{"negative timeout", app, "WebhookConnectTimeout", vals("WebhookConnectTimeout", "-5")},
		{"duplicate domain", dom, "DomainName", vals("DomainName", "taken.example.com")},
		{"duplicate domain other case", dom, "DomainName", vals("DomainName", "TAKEN.Example.com")},
		{"domain named like a trunk", dom, "DomainName", vals("DomainName", "trunk.example.com")},
		{"domain without dot", dom, "DomainName", vals("DomainName", "localhost")},
		{"domain with underscore", dom, "DomainName", vals("DomainName", "a_b.example.com")},
		{"bad boolean", dom, "SipRegistration",
			vals("DomainName", "new.example.com", "SipRegistration", "maybe")},
		{"weak password", creds, "Password", vals("Username", "bob", "Password", "password")},
		{"missing username", creds, "Username", vals("Password", goodPass)},
		{"colon in username", creds, "Username", vals("Username", "b:ob", "Password", goodPass)},
		{"duplicate username", creds, "Username", vals("Username", "alice", "Password", goodPass)},
		{"bad address", ips, "IpAddress", vals("IpAddress", "10.0.0.300")},
		{"prefix too long", ips, "CidrPrefixLength",
			vals("IpAddress", "10.0.0.0", "CidrPrefixLength", "33")},
		{"host bits set", ips, "IpAddress", vals("IpAddress", "10.0.0.1/24")},
		{"prefix given twice", ips, "IpAddress",
			vals("IpAddress", "10.0.0.0/24", "CidrPrefixLength", "24")},
		{"unknown list mapped", acc + "/SIP/Domains/{D}/CredentialListMappings.json",
			"CredentialListSid", vals("CredentialListSid", "CL"+strings.Repeat("0", 32))},
		{"list mapped twice", acc + "/SIP/Domains/{D}/Auth/Calls/CredentialListMappings.json",
			"CredentialListSid", vals("CredentialListSid", "{CL}")},
		{"trunk named like a domain", trunk, "DomainName", vals("DomainName", "taken.example.com")},
		{"trunk password without user", trunk, "AuthUsername", vals("AuthPassword", "x")},
		{"http origination", orig, "SipUrl", vals("SipUrl", "http://gw.example.net")},
		{"negative priority", orig, "Priority", vals("SipUrl", "sip:gw.example.net", "Priority", "-1")},
		{"weight not a number", orig, "Weight", vals("SipUrl", "sip:gw.example.net", "Weight", "ten")},
		{"unknown status", "/2010-04-01/Accounts/{Closed}.json", "Status", vals("Status", "deleted")},
		{"reopen closed account", "/2010-04-01/Accounts/{Closed}.json", "Status",
			vals("Status", "active")},
		{"money with two dots", limits, "MonthlySpendCap", vals("MonthlySpendCap", "25.5.0")},
		{"negative money", limits, "MonthlySpendCap", vals("MonthlySpendCap", "-1")},
		{"money too precise", limits, "MonthlySpendCap", vals("MonthlySpendCap", "1.1234567")},
		{"prefix without plus", limits, "AllowedPrefixes", vals("AllowedPrefixes", "+1,44")},
		{"negative limit", limits, "ConcurrentCalls", vals("ConcurrentCalls", "-5")},
		{"bad media mode", v1 + "/Services/media_relay.json", "Options.media_mode",
			vals("Options.media_mode", "sideways")},
		{"unknown option", v1 + "/Services/media_relay.json", "Options.colour",
			vals("Options.colour", "red")},
		{"bad enabled", v1 + "/Services/srtp.json", "Enabled", vals("Enabled", "yes")},
		{"bad price plan", v1 + "/Services/calls.json", "PricePlanSid", vals("PricePlanSid", "x")},
		{"oversized body", app, "body", vals("FriendlyName", strings.Repeat("x", 70<<10))},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h.t = t
			who := a
			if strings.HasPrefix(c.path, v1+"/Limits") || strings.Contains(c.path, "PricePlan") ||
				c.field == "PricePlanSid" {
				who = operator
			}
			before := h.snapshot()
			status, body := h.do(who, "POST", fill(c.path, "", env), fillForm(c.form, "", env))
			if status != http.StatusBadRequest {
				t.Fatalf("status %d, want 400; body %v", status, body)
			}
			msg, _ := body["message"].(string)
			if !strings.HasPrefix(msg, c.field+":") || body["code"] != float64(CodeInvalidParameter) ||
				body["status"] != 400.0 || body["more_info"] == "" {
				t.Errorf("body %v does not name %s", body, c.field)
			}
			if after := h.snapshot(); after != before {
				t.Errorf("store changed:\n%s", diffLines(before, after))
			}
		})
	}
}

func TestAPIBadPagingAndBodies(t *testing.T) {
	h := newHarness(t, APIOptions{})
	a := h.account(operator, "paging")
	apps := "/2010-04-01/Accounts/" + a.user + "/Applications.json"
	cases := []struct{ name, query, field string }{
		{"zero page size", "?PageSize=0", "PageSize"},
		{"page size too big", "?PageSize=1001", "PageSize"},
		{"negative page", "?Page=-1", "Page"},
		{"page not a number", "?Page=abc", "Page"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h.t = t
			body := h.must(http.StatusBadRequest, a, "GET", apps+c.query, nil)
			if msg, _ := body["message"].(string); !strings.HasPrefix(msg, c.field+":") {
				t.Errorf("message %q does not name %s", msg, c.field)
			}
		})
	}
	t.Run("json body", func(t *testing.T) {
		h.t = t
		before := h.snapshot()
		req, _ := http.NewRequest("POST", h.srv.URL+apps,
			strings.NewReader(`{"FriendlyName":"x"}`))
		req.Header.Set("Content-Type", "application/json")
		req.SetBasicAuth(a.user, a.pass)
		resp, err := h.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || h.snapshot() != before {
			t.Errorf("status %d, want 400 and nothing stored", resp.StatusCode)
		}
	})
	t.Run("malformed form", func(t *testing.T) {
		h.t = t
		req, _ := http.NewRequest("POST", h.srv.URL+apps, strings.NewReader("FriendlyName=%zz"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(a.user, a.pass)
		resp, err := h.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("status %d, want 400", resp.StatusCode)
		}
	})
}
