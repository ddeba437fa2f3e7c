package webhook

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestTwilioSignatureVector checks the signer against the worked example
// the CPaaS documentation and helper libraries use.
func TestTwilioSignatureVector(t *testing.T) {
	params := url.Values{
		"CallSid": {"CA1234567890ABCDE"}, "Caller": {"+14158675309"}, "Digits": {"1234"},
		"From": {"+14158675309"}, "To": {"+18005551212"},
	}
	got := TwilioSignature("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", params)
	if want := "RSOYDt4T1cUTdK1PDd93/VVr8B8="; got != want {
		t.Errorf("signature = %s, want %s", got, want)
	}
}

func TestSignaturesAcceptedByValidator(t *testing.T) {
	const token = "0123456789abcdef0123456789abcdef"
	tests := []struct {
		name   string
		method string
		path   string
		params url.Values
	}{
		{"post", "POST", "/voice", url.Values{"CallSid": {"CA1"}, "From": {"+1 415"}}},
		{"post with query", "POST", "/voice?b=2&a=1", url.Values{"Z": {"z"}, "A": {"a"}}},
		{"post repeated", "POST", "/v", url.Values{"K": {"b", "a"}, "E": {""}}},
		{"get", "GET", "/voice", url.Values{"CallSid": {"CA1"}, "To": {"sip:a@b;x=y"}}},
		{"get with query", "GET", "/voice?x=%20y", url.Values{"From": {"+1&2"}}},
		{"utf8", "POST", "/v", url.Values{"CallerName": {"Zoë Øster"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := make(chan bool, 1)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter,
				r *http.Request) {
				r.ParseForm()
				ok := validTwilioSignature(token, r, r.PostForm)
				full := "http://" + r.Host + r.URL.RequestURI()
				var form url.Values
				if r.Method == http.MethodPost {
					form = r.PostForm
				}
				err := VerifyPatchbaySignature(token, r.Header.Get(HeaderPatchbaySignature),
					time.Now(), time.Minute, r.Method, full, form)
				got <- ok && err == nil && r.Method == tt.method
			}))
			t.Cleanup(srv.Close)
			c := New(Config{})
			t.Cleanup(c.Close)
			_, err := c.Do(t.Context(), Request{AuthToken: token, URL: srv.URL + tt.path,
				Method: tt.method, Params: tt.params})
			if err != nil {
				t.Fatal(err)
			}
			if !<-got {
				t.Error("server refused the signatures")
			}
		})
	}
}

func TestVerifyPatchbaySignature(t *testing.T) {
	const token, u = "tok", "https://app.example.com/cb"
	now := time.Unix(1_800_000_000, 0)
	form := url.Values{"CallSid": {"CA1"}}
	good := PatchbaySignature(token, now, "POST", u, form)
	tests := []struct {
		name   string
		header string
		at     time.Time
		token  string
		form   url.Values
		ok     bool
	}{
		{"good", good, now, token, form, true},
		{"within tolerance", good, now.Add(4 * time.Minute), token, form, true},
		{"replayed later", good, now.Add(10 * time.Minute), token, form, false},
		{"wrong token", good, now, "other", form, false},
		{"tampered form", good, now, token, url.Values{"CallSid": {"CA2"}}, false},
		{"malformed", "v1=abc", now, token, form, false},
		{"empty", "", now, token, form, false},
		{"forged time", strings.Replace(good, "t=1800000000", "t=1800000300", 1),
			now.Add(5 * time.Minute), token, form, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := VerifyPatchbaySignature(tt.token, tt.header, tt.at, 5*time.Minute, "POST", u,
				tt.form)
			if (err == nil) != tt.ok {
				t.Fatalf("err = %v, want ok=%v", err, tt.ok)
			}
			if err != nil && !errors.Is(err, ErrSignature) {
				t.Errorf("err %v does not wrap ErrSignature", err)
			}
		})
	}
}

func BenchmarkTwilioSignature(b *testing.B) {
	params := CallParams{CallSID: "CA0123456789abcdef0123456789abcdef",
		AccountSID: "AC0123456789abcdef0123456789abcdef", From: "+14155550100",
		To: "+14155550199", CallStatus: "ringing", Direction: "inbound"}.Values()
	b.ReportAllocs()
	for b.Loop() {
		TwilioSignature("0123456789abcdef0123456789abcdef", "https://app.example.com/voice",
			params)
	}
}

func BenchmarkPatchbaySignature(b *testing.B) {
	params := CallParams{CallSID: "CA0123456789abcdef0123456789abcdef",
		AccountSID: "AC0123456789abcdef0123456789abcdef", From: "+14155550100",
		To: "+14155550199", CallStatus: "ringing", Direction: "inbound"}.Values()
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		PatchbaySignature("0123456789abcdef0123456789abcdef", now, "POST",
			"https://app.example.com/voice", params)
	}
}

// FuzzVerifyPatchbaySignature feeds arbitrary headers to the verifier: it
// must never panic and must accept only the header the signer made.
func FuzzVerifyPatchbaySignature(f *testing.F) {
	now := time.Unix(1_800_000_000, 0)
	form := url.Values{"CallSid": {"CA1"}}
	good := PatchbaySignature("tok", now, "POST", "https://a.example/x", form)
	for _, seed := range []string{good, "t=1,v1=00", "v1=abc", "t=,v1=", "", ",,,",
		"t=99999999999999999999,v1=x", "t=1800000000 , v1=" + good[len(good)-64:]} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, header string) {
		err := VerifyPatchbaySignature("tok", header, now, time.Minute, "POST",
			"https://a.example/x", form)
		if err == nil && !strings.Contains(header, good[len(good)-64:]) {
			t.Fatalf("accepted a forged header %q", header)
		}
	})
}
