package sip

import (
	"testing"

	sipmsg "github.com/emiago/sipgo/sip"
)

// TestParserAddressParams checks that the From and To tags are found
// whatever white space and case surround them, and that other parameters
// keep their values.
func TestParserAddressParams(t *testing.T) {
	tests := []struct {
		name     string
		from, to string
		fromTag  string
		toTag    string // "-": no tag
		other    string // a further From parameter that must survive, "k=v"
	}{
		{"plain", "<sip:a@example.com>;tag=abc", "<sip:b@example.com>", "abc", "-", ""},
		{"folded white space (RFC 4475 wsinv)",
			"\"J R\" <sip:a@example.com>\r\n  ;\r\n  tag = 98asjd8",
			"\r\n sip:b@example.com ;   tag    = 1918181833n", "98asjd8", "1918181833n", ""},
		{"upper case", "<sip:a@example.com>;TAG=x1", "<sip:b@example.com>;tAg=y2", "x1", "y2", ""},
		{"tabs and other params", "<sip:a@example.com>;\tfoo = bar ;tag=\tq", "sip:b@example.com",
			"q", "-", "foo= bar "},
		{"empty parameters", "<sip:a@example.com>;;tag=z;", "<sip:b@example.com>", "z", "-", ""},
	}
	p := newParser(DefaultMaxMessageBytes)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := "OPTIONS sip:b@example.com SIP/2.0\r\n" +
				"Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\n" +
				"From: " + tt.from + "\r\nTo: " + tt.to + "\r\n" +
				"Call-ID: c1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
			m, err := p.ParseSIP([]byte(msg))
			if err != nil {
				t.Fatal(err)
			}
			req := m.(*sipmsg.Request)
			if got, ok := req.From().Params.Get("tag"); !ok || got != tt.fromTag {
				t.Errorf("From tag %q %v, want %q (params %#v)", got, ok, tt.fromTag,
					req.From().Params)
			}
			got, ok := req.To().Params.Get("tag")
			if tt.toTag == "-" && ok || tt.toTag != "-" && got != tt.toTag {
				t.Errorf("To tag %q %v, want %q", got, ok, tt.toTag)
			}
			if tt.other != "" {
				k, v, _ := cutEq(tt.other)
				if got, ok := req.From().Params.Get(k); !ok || got != v {
					t.Errorf("From %s = %q %v, want %q", k, got, ok, v)
				}
			}
		})
	}
}

func cutEq(s string) (string, string, bool) {
	for i := range s {
		if s[i] == '=' {
			return s[:i], s[i+1:], true
		}
	}

	return s, "", false
}

// TestCleanParamsNoCopy checks that clean parameters are returned as they
// are, without an allocation.
func TestCleanParamsNoCopy(t *testing.T) {
	ps := sipmsg.HeaderParams{{K: "tag", V: "abc"}, {K: "x", V: " y"}}
	allocs := testing.AllocsPerRun(100, func() {
		if out := cleanParams(ps); &out[0] != &ps[0] {
			t.Fatal("clean parameters were copied")
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations for clean parameters, want 0", allocs)
	}
}

// FuzzAddressParams parses arbitrary From values: no panic, and the tag is
// found whenever the cleaned parameters hold one.
func FuzzAddressParams(f *testing.F) {
	for _, s := range []string{"<sip:a@b>;tag=1", "sip:a@b ;  TaG = 2", "<sip:a@b>;;;",
		"\"x\" <sip:a@b>;tag=\"q\"", "<sip:a@b>; \t;tag"} {
		f.Add(s)
	}
	parse := cleanAddressParams(sipmsg.DefaultHeadersParser()["from"])
	f.Fuzz(func(t *testing.T, s string) {
		h, err := parse([]byte("from"), s)
		if err != nil {
			return
		}
		for _, kv := range h.(*sipmsg.FromHeader).Params {
			if kv.K == "" || paramNeedsCleaning(kv) {
				t.Fatalf("parameter %#v left uncleaned", kv)
			}
		}
	})
}
