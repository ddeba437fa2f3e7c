package tenancy

import (
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Input limits, chosen to match the CPaaS API where it states one.
const (
	maxFriendlyName = 64
	maxURL          = 2048
	maxDomainName   = 253
	maxUsername     = 32
	minPassword     = 12
	maxPassword     = 128
	maxPrefixes     = 100
	maxMoneyUnits   = 1_000_000_000 // largest spend cap in whole currency units
	microPerUnit    = 1_000_000
)

// parseE164 checks that s is an E.164 number: "+", a non-zero digit, and at
// most 15 digits in all (ITU-T E.164 section 6.1).
func parseE164(s string) (string, error) {
	if !isE164(s, 2) {
		return "", errNotE164
	}

	return s, nil
}

// parseE164Prefix checks that s is the start of an E.164 number, e.g. "+1".
func parseE164Prefix(s string) (string, error) {
	if !isE164(s, 1) {
		return "", errNotE164Prefix
	}

	return s, nil
}

func isE164(s string, minDigits int) bool {
	digits := len(s) - 1
	if digits < minDigits || digits > 15 || s[0] != '+' || s[1] == '0' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}

	return true
}

// parseHTTPURL checks that s is an absolute http or https URL with a host.
func parseHTTPURL(s string) (string, error) {
	if len(s) > maxURL {
		return "", errTooLong
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		u.Hostname() == "" {
		return "", errNotHTTPURL
	}
	if hasControl(s) {
		return "", errNotHTTPURL
	}

	return s, nil
}

// parseSIPURL checks that s is a sip: or sips: URI with a host, such as
// "sip:gw.example.com:5060;transport=tcp".
func parseSIPURL(s string) (string, error) {
	if len(s) > maxURL {
		return "", errTooLong
	}
	rest, ok := strings.CutPrefix(s, "sips:")
	if !ok {
		rest, ok = strings.CutPrefix(s, "sip:")
	}
	if !ok || hasControl(rest) || strings.ContainsAny(rest, " <>\"") {
		return "", errNotSIPURL
	}
	if _, hostport, found := strings.Cut(rest, "@"); found {
		rest = hostport
	}
	host, _, _ := strings.Cut(rest, ";")
	if host == "" || strings.HasPrefix(host, ":") {
		return "", errNotSIPURL
	}

	return s, nil
}

// parseMethod accepts GET or POST in any case and returns it in upper case.
func parseMethod(s string) (string, error) {
	m := strings.ToUpper(s)
	if m != "GET" && m != "POST" {
		return "", errNotMethod
	}

	return m, nil
}

// parseBool accepts "true" and "false" in any case, and "1" and "0".
func parseBool(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "true", "1":
		return true, nil
	case "false", "0":
		return false, nil
	}

	return false, errNotBool
}

// parseMoney parses a non-negative decimal amount such as "25.50" exactly
// into micro-units (25500000), without floating point. At most six decimal
// places are accepted.
func parseMoney(s string) (int64, error) {
	whole, frac, hasDot := strings.Cut(s, ".")
	if whole == "" || len(whole) > 10 || (hasDot && (frac == "" || len(frac) > 6)) ||
		!allDigits(whole) || !allDigits(frac) {
		return 0, errNotMoney
	}
	units, _ := strconv.ParseInt(whole, 10, 64) // cannot fail: at most 10 digits
	if units > maxMoneyUnits {
		return 0, errMoneyTooLarge
	}
	micro := units * microPerUnit
	if frac != "" {
		f, _ := strconv.ParseInt(frac+strings.Repeat("0", 6-len(frac)), 10, 64)
		micro += f
	}

	return micro, nil
}

// formatMoney formats micro-units as a decimal string with at least two
// decimal places, the inverse of parseMoney: 25500000 gives "25.50".
func formatMoney(micro int64) string {
	s := strconv.FormatInt(micro/microPerUnit, 10) + "." +
		strings.TrimRight(strconv.FormatInt(micro%microPerUnit+microPerUnit, 10)[1:], "0")
	if i := strings.IndexByte(s, '.'); len(s)-i-1 < 2 {
		s += strings.Repeat("0", 2-(len(s)-i-1))
	}

	return s
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}

	return true
}

// parsePrefix parses an address ("192.0.2.1", "2001:db8::1") or a CIDR
// range ("192.0.2.0/24") with an optional separate prefix length
// (cidrLen, empty when absent). Host bits beyond the prefix are rejected so
// that a range is never wider or narrower than what was typed.
// IPv4-mapped IPv6 addresses are treated as IPv4.
func parsePrefix(ip, cidrLen string) (netip.Prefix, error) {
	if strings.Contains(ip, "/") {
		if cidrLen != "" {
			return netip.Prefix{}, errPrefixTwice
		}
		ip, cidrLen, _ = strings.Cut(ip, "/")
	}
	addr, err := netip.ParseAddr(ip)
	if err != nil || addr.Zone() != "" {
		return netip.Prefix{}, errNotIP
	}
	addr = addr.Unmap()
	bits := addr.BitLen()
	if cidrLen != "" {
		n, err := strconv.Atoi(cidrLen)
		if err != nil || n < 0 || n > addr.BitLen() || !allDigits(cidrLen) {
			return netip.Prefix{}, errNotPrefixLen
		}
		bits = n
	}
	p := netip.PrefixFrom(addr, bits)
	if p.Masked() != p {
		return netip.Prefix{}, errHostBits
	}

	return p, nil
}

// parseDomainName checks a DNS host name of at least two labels and returns
// it in lower case.
func parseDomainName(s string) (string, error) {
	s = strings.ToLower(s)
	if len(s) > maxDomainName || !strings.Contains(s, ".") {
		return "", errNotDomain
	}
	for _, label := range strings.Split(s, ".") {
		if !validLabel(label) {
			return "", errNotDomain
		}
	}

	return s, nil
}

func validLabel(l string) bool {
	if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
		return false
	}
	for i := 0; i < len(l); i++ {
		c := l[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			return false
		}
	}

	return true
}

// parseFriendlyName checks a display name: valid UTF-8, no control
// characters, at most 64 characters.
func parseFriendlyName(s string) (string, error) {
	if !utf8.ValidString(s) || hasControl(s) {
		return "", errNotText
	}
	if utf8.RuneCountInString(s) > maxFriendlyName {
		return "", errTooLong
	}

	return s, nil
}

// parseUsername checks a SIP digest user name: 1 to 32 printable ASCII
// characters without ':' (which would make the HA1 input ambiguous),
// quotes, backslashes or spaces.
func parseUsername(s string) (string, error) {
	if s == "" || len(s) > maxUsername {
		return "", errNotUsername
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || c == ':' || c == '"' || c == '\\' {
			return "", errNotUsername
		}
	}

	return s, nil
}

// checkPassword enforces the CPaaS password rule: at least 12 characters
// with a digit, an upper-case and a lower-case letter.
func checkPassword(s string) error {
	if len(s) < minPassword || len(s) > maxPassword || !utf8.ValidString(s) || hasControl(s) {
		return errWeakPassword
	}
	var digit, upper, lower bool
	for _, r := range s {
		digit = digit || unicode.IsDigit(r)
		upper = upper || unicode.IsUpper(r)
		lower = lower || unicode.IsLower(r)
	}
	if !digit || !upper || !lower {
		return errWeakPassword
	}

	return nil
}

// parseEvents parses status callback events, space or comma separated.
func parseEvents(values []string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for _, v := range values {
		for _, e := range strings.FieldsFunc(v, func(r rune) bool { return r == ' ' || r == ',' }) {
			e = strings.ToLower(e)
			switch e {
			case "initiated", "ringing", "answered", "completed":
			default:
				return nil, errNotEvent
			}
			if !seen[e] {
				seen[e] = true
				out = append(out, e)
			}
		}
	}

	return out, nil
}

func hasControl(s string) bool {
	return strings.ContainsFunc(s, unicode.IsControl)
}
