package webhook

import (
	"errors"
	"net/http"
	"net/netip"
	"strings"
	"testing"
)

// TestDenyNetworks: a tenant URL that leads into a denied network fails
// like an unreachable host, whether written as an address or a name that
// resolves there; other networks are unaffected.
func TestDenyNetworks(t *testing.T) {
	a := newApp(t, map[string]http.HandlerFunc{
		"/voice": func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("<Response/>")) },
	})
	byName := strings.Replace(a.srv.URL, "127.0.0.1", "localhost", 1)
	loopback := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"),
		netip.MustParsePrefix("::1/128")}
	cases := []struct {
		name   string
		deny   []netip.Prefix
		url    string
		denied bool
	}{
		{"no deny list", nil, a.srv.URL + "/voice", false},
		{"other networks denied", []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")},
			a.srv.URL + "/voice", false},
		{"literal address denied", loopback, a.srv.URL + "/voice", true},
		{"name resolving into it denied", loopback, byName + "/voice", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := New(Config{DenyNetworks: tc.deny})
			t.Cleanup(c.Close)
			_, err := c.Do(t.Context(), Request{AuthToken: testToken, URL: tc.url})
			if !tc.denied {
				if err != nil {
					t.Fatalf("allowed request failed: %v", err)
				}

				return
			}
			var fe *FetchError
			if !errors.As(err, &fe) || fe.Code != CodeConnection ||
				!errors.Is(err, ErrDeniedAddress) {
				t.Fatalf("got %v, want code %d wrapping ErrDeniedAddress", err, CodeConnection)
			}
		})
	}
	if n := len(a.requests()); n != 2 {
		t.Fatalf("the application saw %d requests, want the 2 allowed ones", n)
	}
}
