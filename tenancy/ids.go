package tenancy

import (
	"crypto/rand"
	"encoding/hex"
)

// SID prefixes of the resources this package owns.
const (
	prefixAccount      = "AC"
	prefixApplication  = "AP"
	prefixNotification = "NO"
	prefixNumber       = "PN"
	prefixDomain       = "SD"
	prefixCredList     = "CL"
	prefixCredential   = "CR"
	prefixIPACL        = "AL"
	prefixIPAddress    = "IP"
	prefixTrunk        = "TK"
	prefixOrigURI      = "OU"
)

// newSID returns prefix followed by 32 lowercase hex digits from crypto/rand.
func newSID(prefix string) string { return prefix + randomHex() }

// newAuthToken returns a fresh 32 hex digit auth token.
func newAuthToken() string { return randomHex() }

func randomHex() string {
	var b [16]byte
	rand.Read(b[:]) // never fails: crypto/rand.Read panics rather than return an error

	return hex.EncodeToString(b[:])
}

// validSID reports whether s is prefix plus 32 lowercase hex digits.
func validSID(prefix, s string) bool {
	if len(s) != len(prefix)+32 || s[:len(prefix)] != prefix {
		return false
	}

	return isLowerHex(s[len(prefix):])
}

// anySID reports whether s looks like any SID: two capital letters and 32
// lowercase hex digits. It checks references to other packages' resources,
// such as price plans.
func anySID(s string) bool {
	if len(s) != 34 || s[0] < 'A' || s[0] > 'Z' || s[1] < 'A' || s[1] > 'Z' {
		return false
	}

	return isLowerHex(s[2:])
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}

	return true
}
