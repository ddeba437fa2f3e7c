package conf

import (
	"encoding"
	"math"
	"net/netip"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"time"
)

var (
	durationType        = reflect.TypeFor[time.Duration]()
	prefixType          = reflect.TypeFor[netip.Prefix]()
	addrType            = reflect.TypeFor[netip.Addr]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// secretKeys are settings whose values never appear in errors.
var secretKeys = map[string]bool{
	"admin_token": true, "redis_url": true, "sip.nonce_secret": true,
}

// isLeaf reports whether t is a single setting rather than a section.
func isLeaf(t reflect.Type) bool {
	return t.Kind() != reflect.Struct || reflect.PointerTo(t).Implements(textUnmarshalerType)
}

// setText parses s into the leaf setting v. It returns why s is refused,
// or "" when v was set.
func setText(v reflect.Value, s string) string {
	switch {
	case v.Type() == durationType:
		d, err := time.ParseDuration(strings.TrimSpace(s))
		if err != nil {
			return `not a duration such as "30s" or "1m30s"`
		}
		v.SetInt(int64(d))
	case v.Type() == prefixType || v.Type() == addrType:
		return setNet(v, s)
	case v.Addr().Type().Implements(textUnmarshalerType):
		u := v.Addr().Interface().(encoding.TextUnmarshaler)
		if err := u.UnmarshalText([]byte(s)); err != nil {
			return err.Error()
		}
	case v.Kind() == reflect.String:
		v.SetString(s)
	case v.CanInt():
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, v.Type().Bits())
		if err != nil {
			return "not a whole number"
		}
		v.SetInt(n)
	case v.CanFloat():
		f, err := strconv.ParseFloat(strings.TrimSpace(s), v.Type().Bits())
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return "not a number"
		}
		v.SetFloat(f)
	default:
		return "unsupported setting type " + v.Type().String()
	}

	return ""
}

// setNet parses s into the netip.Prefix or netip.Addr setting v.
func setNet(v reflect.Value, s string) string {
	if v.Type() == prefixType {
		p, ok := parsePrefix(s)
		if !ok {
			return `not a CIDR such as "10.0.0.0/8" or an IP address`
		}
		v.Set(reflect.ValueOf(p))

		return ""
	}
	a, ok := parseAddr(s)
	if !ok {
		return "not an IP address"
	}
	v.Set(reflect.ValueOf(a))

	return ""
}

// setList parses items into the slice setting v, replacing its contents.
// An empty list leaves v nil. It returns why an item is refused, or "".
func setList(v reflect.Value, items []string) string {
	if len(items) == 0 {
		v.SetZero()

		return ""
	}
	out := reflect.MakeSlice(v.Type(), len(items), len(items))
	for i, item := range items {
		if reason := setText(out.Index(i), item); reason != "" {
			return "item " + strconv.Itoa(i+1) + ": " + reason
		}
	}
	v.Set(out)

	return ""
}

// splitList splits a comma-separated list, dropping blanks.
func splitList(s string) []string {
	var out []string
	for item := range strings.SplitSeq(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}

	return out
}

// parseAddr accepts an IP address without zone, IPv6 optionally in
// brackets; empty means unset.
func parseAddr(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		s = s[1 : len(s)-1]
	}
	if s == "" {
		return netip.Addr{}, true
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Addr{}, false
	}

	return a, true
}

// parsePrefix accepts a CIDR, masking host bits, or a bare address as the
// prefix of that address alone.
func parsePrefix(s string) (netip.Prefix, bool) {
	s = strings.TrimSpace(s)
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Masked(), true
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, false
	}

	return netip.PrefixFrom(a, a.BitLen()), true
}

// shown is the value of key as it may appear in an error message.
func shown(key, value string) string {
	if !secretKeys[key] {
		return value
	}
	if key == "redis_url" {
		if u, err := url.Parse(value); err == nil && u.Opaque == "" {
			return redactedURL(u)
		}
	}

	return hiddenValue
}

// redactedURL is u without its password, and with its query, where options
// such as a password may hide, shown as "?...".
func redactedURL(u *url.URL) string {
	c := *u
	query := c.RawQuery != ""
	c.RawQuery, c.ForceQuery = "", false
	s := c.Redacted()
	if query {
		s += "?..."
	}

	return s
}
