package tenancy

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// FuzzAPIForms posts arbitrary bodies to every create and update route
// with a form body: the API must answer 2xx or 4xx, never 5xx.
func FuzzAPIForms(f *testing.F) {
	h := newHarness(f, APIOptions{})
	a := h.account(operator, "fuzz")
	acc, v1 := "/2010-04-01/Accounts/"+a.user, "/v1/Accounts/"+a.user
	acl := h.post(a, acc+"/SIP/IpAccessControlLists.json", vals("FriendlyName", "acl"))
	trunk := h.post(a, v1+"/Trunks.json", vals("FriendlyName", "t"))
	dom := h.post(a, acc+"/SIP/Domains.json", vals("DomainName", "fuzz.example.com"))
	paths := []string{acc + "/Applications.json", acc + "/IncomingPhoneNumbers.json",
		acc + "/SIP/Domains.json", acc + "/SIP/Domains/" + dom + ".json",
		acc + "/SIP/IpAccessControlLists/" + acl + "/IpAddresses.json",
		v1 + "/Trunks.json", v1 + "/Trunks/" + trunk + ".json",
		v1 + "/Trunks/" + trunk + "/OriginationUrls.json", v1 + "/Limits.json",
		v1 + "/Services/media_relay.json", acc + ".json", "/2010-04-01/Accounts.json"}
	for i, s := range seeds(f, "forms.txt") {
		f.Add(uint8(i), s)
	}
	f.Fuzz(func(t *testing.T, which uint8, body string) {
		path := paths[int(which)%len(paths)]
		req, err := http.NewRequest("POST", h.srv.URL+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(operator.user, operator.pass)
		resp, err := h.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode >= 500 {
			t.Fatalf("POST %s %q: status %d", path, body, resp.StatusCode)
		}
		if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusCreated {
			if _, err := url.ParseQuery(body); err != nil {
				t.Fatalf("POST %s accepted a malformed body %q", path, body)
			}
		}
	})
}
