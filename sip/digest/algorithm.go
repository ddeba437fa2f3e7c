package digest

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// Algorithm names a digest hash algorithm as written in the algorithm
// parameter (RFC 7616 section 3.3).
type Algorithm string

// The supported algorithms.
const (
	MD5    Algorithm = "MD5"
	SHA256 Algorithm = "SHA-256"
)

// ParseAlgorithm maps an algorithm parameter to an Algorithm, matching
// case-insensitively. An empty value means MD5 (RFC 7616 section 3.3).
// Anything else yields ErrUnsupported.
func ParseAlgorithm(s string) (Algorithm, error) {
	switch {
	case s == "" || strings.EqualFold(s, string(MD5)):
		return MD5, nil
	case strings.EqualFold(s, string(SHA256)):
		return SHA256, nil
	}

	return "", fmt.Errorf("%w: algorithm %q", ErrUnsupported, s)
}

// HA1 returns the lower-case hex H(username ":" realm ":" password) for a,
// the value that Verify expects. Credential stores may keep HA1 instead of
// the password; an unsupported a yields ErrUnsupported.
func HA1(a Algorithm, username, realm, password string) (string, error) {
	if _, err := ParseAlgorithm(string(a)); err != nil {
		return "", err
	}

	return hexHash(a, username, ":", realm, ":", password), nil
}

// hexHash hashes the concatenation of parts with a (MD5 unless SHA256)
// and returns lower-case hex.
func hexHash(a Algorithm, parts ...string) string {
	var buf [512]byte
	in := buf[:0]
	for _, p := range parts {
		in = append(in, p...)
	}
	if a == SHA256 {
		sum := sha256.Sum256(in)

		return hex.EncodeToString(sum[:])
	}
	sum := md5.Sum(in)

	return hex.EncodeToString(sum[:])
}
