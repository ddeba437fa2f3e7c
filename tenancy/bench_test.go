package tenancy

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"
)

// benchRequest sends one request and drains the answer, failing on an
// unexpected status.
func benchRequest(b *testing.B, client *http.Client, c creds, method, u, body string, want int) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		b.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.SetBasicAuth(c.user, c.pass)
	resp, err := client.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != want {
		b.Fatalf("%s %s: status %d", method, u, resp.StatusCode)
	}
}

func BenchmarkAPICreate(b *testing.B) {
	h := newHarness(b, APIOptions{})
	a := h.account(operator, "bench")
	base := h.srv.URL + "/2010-04-01/Accounts/" + a.user
	b.Run("application", func(b *testing.B) {
		body := url.Values{"FriendlyName": {"bench"}, "VoiceUrl": {"https://app.example/voice"},
			"StatusCallback": {"https://app.example/status"}}.Encode()
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			benchRequest(b, h.srv.Client(), a, "POST", base+"/Applications.json", body, 201)
		}
	})
	b.Run("incoming_number", func(b *testing.B) {
		b.ReportAllocs()
		n := 0
		for b.Loop() {
			n++
			body := "PhoneNumber=%2B1" + fmt.Sprintf("%010d", n)
			b.SetBytes(int64(len(body)))
			benchRequest(b, h.srv.Client(), a, "POST", base+"/IncomingPhoneNumbers.json", body, 201)
		}
	})
}

func BenchmarkAPIFetch(b *testing.B) {
	h := newHarness(b, APIOptions{})
	a := h.account(operator, "bench")
	sub := h.account(a, "sub")
	base := "/2010-04-01/Accounts/" + sub.user
	app := h.post(sub, base+"/Applications.json", vals("VoiceUrl", "https://app.example/v"))
	for i := range 100 {
		h.post(sub, base+"/Applications.json", vals("FriendlyName", fmt.Sprint("app ", i)))
	}
	cases := []struct {
		name, path string
		who        creds
	}{
		{"application_by_owner", base + "/Applications/" + app + ".json", sub},
		{"application_by_parent", base + "/Applications/" + app + ".json", a},
		{"application_list_50", base + "/Applications.json", sub},
		{"account", base + ".json", sub},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				benchRequest(b, h.srv.Client(), c.who, "GET", h.srv.URL+c.path, "", 200)
			}
		})
	}
	b.Run("application_by_owner_parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				benchRequest(b, h.srv.Client(), sub, "GET", h.srv.URL+cases[0].path, "", 200)
			}
		})
	})
}

func BenchmarkStoreLookups(b *testing.B) {
	h := newHarness(b, APIOptions{})
	s, ctx := h.store, context.Background()
	f := newLookupFixture(b, s)
	sub, _ := s.CreateAccount(ctx, f.acct.SID, "sub")
	addr := netip.MustParseAddr("192.0.2.3")
	cases := []struct {
		name string
		run  func() error
	}{
		{"AccountBySID_sub", func() error { _, err := s.AccountBySID(ctx, sub.SID); return err }},
		{"DomainByName", func() error {
			_, err := s.DomainByName(ctx, "acme.sip.example.com")
			return err
		}},
		{"DomainCredential", func() error {
			_, err := s.DomainCredential(ctx, f.domain.SID, MappingCalls, "alice")
			return err
		}},
		{"DomainAllowsAddr", func() error {
			_, err := s.DomainAllowsAddr(ctx, f.domain.SID, MappingCalls, addr)
			return err
		}},
		{"TrunkBySourceAddr", func() error { _, err := s.TrunkBySourceAddr(ctx, addr); return err }},
		{"NumberByPhone", func() error { _, err := s.NumberByPhone(ctx, "+14155550100"); return err }},
		{"ServiceSetting", func() error {
			_, err := s.ServiceSetting(ctx, f.acct.SID, ServiceMediaRelay)
			return err
		}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := c.run(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
