package tenancy

import (
	"net/http"
	"sync"
	"testing"
)

// TestAPIConcurrentClaimsOfOneName races tenants for one domain name and
// one phone number: exactly one wins each, the others get 400.
func TestAPIConcurrentClaimsOfOneName(t *testing.T) {
	h := newHarness(t, APIOptions{})
	const n = 8
	accts := make([]creds, n)
	for i := range accts {
		accts[i] = h.account(operator, "racer")
	}
	cases := []struct {
		name, coll string
		form       map[string][]string
	}{
		{"domain", "/SIP/Domains.json", vals("DomainName", "contested.example.com")},
		{"trunk domain", "/SIP/Domains.json", vals("DomainName", "contested2.example.com")},
		{"number", "/IncomingPhoneNumbers.json", vals("PhoneNumber", "+14155550199")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h.t = t
			statuses := make([]int, n)
			var wg sync.WaitGroup
			for i, a := range accts {
				wg.Go(func() {
					path := "/2010-04-01/Accounts/" + a.user + c.coll
					if c.name == "trunk domain" && i%2 == 1 {
						path = "/v1/Accounts/" + a.user + "/Trunks.json"
					}
					statuses[i], _ = h.do(a, "POST", path, c.form)
				})
			}
			wg.Wait()
			won := 0
			for _, s := range statuses {
				switch s {
				case http.StatusCreated:
					won++
				case http.StatusBadRequest:
				default:
					t.Errorf("status %d", s)
				}
			}
			if won != 1 {
				t.Errorf("%d winners, want 1: %v", won, statuses)
			}
		})
	}
}
