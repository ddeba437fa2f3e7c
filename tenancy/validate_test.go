package tenancy

import (
	"bufio"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// seeds reads one seed per line from testdata/seeds/name.
func seeds(f *testing.F, name string) []string {
	f.Helper()
	file, err := os.Open(filepath.Join("testdata", "seeds", name))
	if err != nil {
		f.Fatal(err)
	}
	defer file.Close()

	var out []string
	sc := bufio.NewScanner(file)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	if len(out) == 0 {
		f.Fatalf("no seeds in %s", name)
	}

	return out
}

func TestParseE164(t *testing.T) {
	cases := []struct {
		in     string
		ok     bool
		prefix bool
	}{
		{"+14155550100", true, true}, {"+123456789012345", true, true},
		{"+1", false, true}, {"+1234567890123456", false, false}, {"14155550100", false, false},
		{"+0123", false, false}, {"+1415CALLME", false, false}, {"", false, false},
		{"+", false, false},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			if _, err := parseE164(c.in); (err == nil) != c.ok {
				t.Errorf("parseE164 error %v, want ok %v", err, c.ok)
			}
			if _, err := parseE164Prefix(c.in); (err == nil) != c.prefix {
				t.Errorf("parseE164Prefix error %v, want ok %v", err, c.prefix)
			}
		})
	}
}

func TestParseMoney(t *testing.T) {
	cases := []struct {
		in   string
		want int64
		ok   bool
		out  string
	}{
		{"25.50", 25_500_000, true, "25.50"}, {"0", 0, true, "0.00"},
		{"0.000001", 1, true, "0.000001"}, {"1000000000", 1e15, true, "1000000000.00"},
		{"12.3", 12_300_000, true, "12.30"}, {"1000000001", 0, false, ""},
		{"1.1234567", 0, false, ""}, {"-1", 0, false, ""}, {"25.5.0", 0, false, ""},
		{".5", 0, false, ""}, {"5.", 0, false, ""}, {"", 0, false, ""}, {"1e3", 0, false, ""},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			got, err := parseMoney(c.in)
			if (err == nil) != c.ok || got != c.want {
				t.Fatalf("parseMoney = %d, %v; want %d, ok %v", got, err, c.want, c.ok)
			}
			if c.ok && formatMoney(got) != c.out {
				t.Errorf("formatMoney = %q, want %q", formatMoney(got), c.out)
			}
		})
	}
}

func TestParsePrefix(t *testing.T) {
	cases := []struct{ ip, bits, want string }{
		{"192.0.2.1", "", "192.0.2.1/32"}, {"192.0.2.0", "24", "192.0.2.0/24"},
		{"192.0.2.0/24", "", "192.0.2.0/24"}, {"::ffff:192.0.2.1", "", "192.0.2.1/32"},
		{"2001:db8::", "32", "2001:db8::/32"}, {"0.0.0.0", "0", "0.0.0.0/0"},
		{"10.0.0.1", "24", ""}, {"10.0.0.300", "", ""}, {"1.2.3.4", "33", ""},
		{"1.2.3.4", "+8", ""}, {"fe80::1%eth0", "", ""}, {"10.0.0.0/24", "24", ""},
	}
	for _, c := range cases {
		t.Run(c.ip+"/"+c.bits, func(t *testing.T) {
			p, err := parsePrefix(c.ip, c.bits)
			if c.want == "" {
				if err == nil {
					t.Errorf("parsePrefix = %v, want an error", p)
				}

				return
			}
			if err != nil || p.String() != c.want {
				t.Errorf("parsePrefix = %v, %v; want %s", p, err, c.want)
			}
		})
	}
}

func TestPrefixRangeOrdersAddresses(t *testing.T) {
	cases := []struct {
		prefix, in, out string
	}{
		{"192.0.2.0/24", "192.0.2.255", "192.0.3.0"},
		{"10.0.0.0/8", "10.255.255.255", "11.0.0.0"},
		{"2001:db8::/33", "2001:db8:7fff::1", "2001:db8:8000::"},
		{"192.0.2.7/32", "192.0.2.7", "192.0.2.8"},
	}
	for _, c := range cases {
		t.Run(c.prefix, func(t *testing.T) {
			first, last := prefixRange(netip.MustParsePrefix(c.prefix))
			in, out := addrKey(netip.MustParseAddr(c.in)), addrKey(netip.MustParseAddr(c.out))
			if string(first) > string(in) || string(last) < string(in) {
				t.Errorf("%s not within [%x, %x]", c.in, first, last)
			}
			if string(first) <= string(out) && string(last) >= string(out) {
				t.Errorf("%s within [%x, %x]", c.out, first, last)
			}
		})
	}
}

func TestPasswordAndUsernameRules(t *testing.T) {
	for pass, ok := range map[string]bool{goodPass: true, "short1A": false,
		"alllowercase123": false, "ALLUPPERCASE123": false, "NoDigitsAtAllHere": false} {
		if err := checkPassword(pass); (err == nil) != ok {
			t.Errorf("checkPassword(%q) = %v, want ok %v", pass, err, ok)
		}
	}
	for user, ok := range map[string]bool{"alice": true, "a.b-c_d+1": true, "": false,
		"a:b": false, "a b": false, `a"b`: false, strings.Repeat("u", 33): false} {
		if _, err := parseUsername(user); (err == nil) != ok {
			t.Errorf("parseUsername(%q) = %v, want ok %v", user, err, ok)
		}
	}
}

func FuzzParseE164(f *testing.F) {
	for _, s := range seeds(f, "e164.txt") {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := parseE164(s)
		if err != nil {
			return
		}
		if got != s || len(s) < 3 || len(s) > 16 || s[0] != '+' || s[1] == '0' {
			t.Fatalf("parseE164 accepted %q", s)
		}
		if _, err := parseE164Prefix(s); err != nil {
			t.Fatalf("number %q is not a prefix of itself: %v", s, err)
		}
	})
}

func FuzzParsePrefix(f *testing.F) {
	for _, s := range seeds(f, "prefix.txt") {
		f.Add(s, "")
		f.Add(s, "24")
	}
	f.Fuzz(func(t *testing.T, ip, bits string) {
		p, err := parsePrefix(ip, bits)
		if err != nil {
			return
		}
		if !p.IsValid() || p.Masked() != p || p.Addr().Is4In6() {
			t.Fatalf("parsePrefix(%q, %q) = %v", ip, bits, p)
		}
		again, err := parsePrefix(p.String(), "")
		if err != nil || again != p {
			t.Fatalf("%v does not round-trip: %v, %v", p, again, err)
		}
		first, last := prefixRange(p)
		if key := addrKey(p.Addr()); string(key) != string(first) || string(last) < string(first) {
			t.Fatalf("range of %v is [%x, %x]", p, first, last)
		}
	})
}

func FuzzParseMoney(f *testing.F) {
	for _, s := range seeds(f, "money.txt") {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		micro, err := parseMoney(s)
		if err != nil {
			return
		}
		if micro < 0 || micro > maxMoneyUnits*microPerUnit {
			t.Fatalf("parseMoney(%q) = %d out of range", s, micro)
		}
		back, err := parseMoney(formatMoney(micro))
		if err != nil || back != micro {
			t.Fatalf("%d formats as %q which parses as %d, %v", micro, formatMoney(micro), back, err)
		}
	})
}

func FuzzParseURLs(f *testing.F) {
	for _, s := range seeds(f, "url.txt") {
		f.Add(s)
	}
	for _, s := range seeds(f, "sipurl.txt") {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, err := parseHTTPURL(s); err == nil {
			lower := strings.ToLower(s) // schemes are case-insensitive (RFC 3986 3.1)
			if got != s || !(strings.HasPrefix(lower, "http://") ||
				strings.HasPrefix(lower, "https://")) {
				t.Fatalf("parseHTTPURL accepted %q", s)
			}
		}
		if _, err := parseSIPURL(s); err == nil {
			if !strings.HasPrefix(s, "sip:") && !strings.HasPrefix(s, "sips:") {
				t.Fatalf("parseSIPURL accepted %q", s)
			}
		}
	})
}

func FuzzParseDomainName(f *testing.F) {
	for _, s := range seeds(f, "domain.txt") {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := parseDomainName(s)
		if err != nil {
			return
		}
		if got != strings.ToLower(got) || !strings.EqualFold(got, s) || len(got) > maxDomainName {
			t.Fatalf("parseDomainName(%q) = %q", s, got)
		}
	})
}

func FuzzParsePage(f *testing.F) {
	for _, s := range seeds(f, "page.txt") {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, query string) {
		r := httptest.NewRequest("GET", "/x.json", nil)
		r.URL.RawQuery = query
		p, err := ParsePage(r)
		if err != nil {
			var fe *FieldError
			if !asFieldError(err, &fe) || (fe.Field != "Page" && fe.Field != "PageSize") {
				t.Fatalf("ParsePage(%q) error %v names no parameter", query, err)
			}

			return
		}
		if p.Size < 1 || p.Size > maxPageSize || p.Number < 0 || p.Number > maxPageNumber {
			t.Fatalf("ParsePage(%q) = %+v", query, p)
		}
		env := PageEnvelope(r, p, p.Size, true)
		if env["next_page_uri"] == nil || env["start"].(int) != p.Number*p.Size {
			t.Fatalf("envelope %v", env)
		}
	})
}

func FuzzParsePrefixList(f *testing.F) {
	for _, s := range seeds(f, "prefixes.txt") {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		list, err := parsePrefixList(s)
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for _, p := range list {
			if _, err := parseE164Prefix(p); err != nil || seen[p] || strings.Contains(p, ",") {
				t.Fatalf("parsePrefixList(%q) = %v", s, list)
			}
			seen[p] = true
		}
	})
}
