package media

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"github.com/pion/srtp/v3"
)

// SDES crypto suite names (RFC 4568 section 6.2, RFC 6188, RFC 7714).
const (
	SuiteAES128SHA1_80 = "AES_CM_128_HMAC_SHA1_80"
	SuiteAES128SHA1_32 = "AES_CM_128_HMAC_SHA1_32"
	SuiteAES256SHA1_80 = "AES_256_CM_HMAC_SHA1_80"
	SuiteAES256SHA1_32 = "AES_256_CM_HMAC_SHA1_32"
	SuiteAEADAES128GCM = "AEAD_AES_128_GCM"
	SuiteAEADAES256GCM = "AEAD_AES_256_GCM"
)

type suiteInfo struct {
	name    string
	profile srtp.ProtectionProfile
	keyLen  int
	saltLen int
}

// supportedSuites is the immutable table of suites accepted from peers.
var supportedSuites = [...]suiteInfo{
	{SuiteAES128SHA1_80, srtp.ProtectionProfileAes128CmHmacSha1_80, 16, 14},
	{SuiteAES128SHA1_32, srtp.ProtectionProfileAes128CmHmacSha1_32, 16, 14},
	{SuiteAES256SHA1_80, srtp.ProtectionProfileAes256CmHmacSha1_80, 32, 14},
	{SuiteAES256SHA1_32, srtp.ProtectionProfileAes256CmHmacSha1_32, 32, 14},
	{SuiteAEADAES128GCM, srtp.ProtectionProfileAeadAes128Gcm, 16, 12},
	{SuiteAEADAES256GCM, srtp.ProtectionProfileAeadAes256Gcm, 32, 12},
}

// SupportedCryptoSuites returns the SDES suite names this package can
// terminate, in no particular preference.
func SupportedCryptoSuites() []string {
	out := make([]string, len(supportedSuites))
	for i, s := range supportedSuites {
		out[i] = s.name
	}

	return out
}

func lookupSuite(name string) (suiteInfo, bool) {
	for _, s := range supportedSuites {
		if s.name == name {
			return s, true
		}
	}

	return suiteInfo{}, false
}

// cryptoAttr is one parsed a=crypto line. key holds master key then
// master salt; it is secret and must never be logged or formatted
// except by String for SDP.
type cryptoAttr struct {
	tag   int
	suite suiteInfo
	key   []byte
}

// parseCrypto parses the value of an a=crypto attribute (RFC 4568
// section 9.1): "<tag> <suite> inline:<base64>[|lifetime][|mki:len]".
// Only the first key parameter is used. Lines with an MKI or session
// parameters are rejected with ErrBadCrypto because this package does
// not implement them; an unknown suite gives ErrNoCryptoSuite.
func parseCrypto(value string) (cryptoAttr, error) {
	fields := strings.Fields(value)
	if len(fields) < 3 {
		return cryptoAttr{}, fmt.Errorf("%w: want tag, suite and key params", ErrBadCrypto)
	}
	tag, err := strconv.Atoi(fields[0])
	if err != nil || tag < 0 || tag > 999999999 {
		return cryptoAttr{}, fmt.Errorf("%w: bad tag %q", ErrBadCrypto, fields[0])
	}
	suite, ok := lookupSuite(fields[1])
	if !ok {
		return cryptoAttr{}, fmt.Errorf("%w: %q", ErrNoCryptoSuite, fields[1])
	}
	if len(fields) > 3 {
		return cryptoAttr{}, fmt.Errorf("%w: session parameters not supported", ErrBadCrypto)
	}
	key, err := parseKeyParams(fields[2], suite)
	if err != nil {
		return cryptoAttr{}, err
	}

	return cryptoAttr{tag: tag, suite: suite, key: key}, nil
}

func parseKeyParams(params string, suite suiteInfo) ([]byte, error) {
	first, _, _ := strings.Cut(params, ";")
	method, rest, ok := strings.Cut(first, ":")
	if !ok || !strings.EqualFold(method, "inline") {
		return nil, fmt.Errorf("%w: key method must be inline", ErrBadCrypto)
	}
	parts := strings.Split(rest, "|")
	for _, p := range parts[1:] {
		if strings.Contains(p, ":") {
			return nil, fmt.Errorf("%w: mki not supported", ErrBadCrypto)
		}
	}
	key, err := decodeKey(parts[0])
	if err != nil {
		return nil, err
	}
	if want := suite.keyLen + suite.saltLen; len(key) != want {
		return nil, fmt.Errorf("%w: key and salt are %d bytes, want %d",
			ErrBadCrypto, len(key), want)
	}

	return key, nil
}

// decodeKey accepts padded and unpadded standard base64; some
// endpoints omit the padding.
func decodeKey(s string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(s)
	if err == nil {
		return key, nil
	}
	key, err = base64.RawStdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%w: key is not base64", ErrBadCrypto)
	}

	return key, nil
}

// String formats the attribute value for SDP. Callers must not log it.
func (c cryptoAttr) String() string {
	return strconv.Itoa(c.tag) + " " + c.suite.name + " inline:" +
		base64.StdEncoding.EncodeToString(c.key)
}

// newLocalCrypto returns a fresh random master key and salt for suite.
func newLocalCrypto(tag int, suite suiteInfo) (cryptoAttr, error) {
	key := make([]byte, suite.keyLen+suite.saltLen)
	if _, err := rand.Read(key); err != nil {
		return cryptoAttr{}, fmt.Errorf("media: generate srtp key: %w", err)
	}

	return cryptoAttr{tag: tag, suite: suite, key: key}, nil
}

// srtpContext builds a pion context from the attribute. Contexts used
// for decryption get an RFC 3711 replay window of 64 packets (section
// 3.3.2), for SRTP and SRTCP alike.
func (c cryptoAttr) srtpContext(decrypt bool) (*srtp.Context, error) {
	var opts []srtp.ContextOption
	if decrypt {
		opts = append(opts, srtp.SRTPReplayProtection(64), srtp.SRTCPReplayProtection(64))
	}
	ctx, err := srtp.CreateContext(c.key[:c.suite.keyLen], c.key[c.suite.keyLen:],
		c.suite.profile, opts...)
	if err != nil {
		return nil, fmt.Errorf("media: srtp context for %s: %w", c.suite.name, err)
	}

	return ctx, nil
}

// equal reports whether both attributes carry the same suite and key.
func (c cryptoAttr) equal(o cryptoAttr) bool {
	return c.suite.name == o.suite.name && string(c.key) == string(o.key)
}
