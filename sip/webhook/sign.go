package webhook

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Signature header names.
const (
	HeaderTwilioSignature   = "X-Twilio-Signature"
	HeaderPatchbaySignature = "X-Patchbay-Signature"
)

// TwilioSignature returns the X-Twilio-Signature value for a request to
// rawURL. form holds the POST parameters; pass nil for GET, whose
// parameters are already in rawURL.
func TwilioSignature(authToken, rawURL string, form url.Values) string {
	mac := hmac.New(sha1.New, []byte(authToken))
	mac.Write([]byte(rawURL))
	names := make([]string, 0, len(form))
	for name := range form {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		values := form[name]
		if len(values) > 1 {
			values = slices.Compact(slices.Sorted(slices.Values(values)))
		}
		for _, v := range values {
			mac.Write([]byte(name))
			mac.Write([]byte(v))
		}
	}

	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// PatchbaySignature returns the X-Patchbay-Signature value for a request
// made at t; form is nil for GET.
func PatchbaySignature(authToken string, t time.Time, method, rawURL string,
	form url.Values) string {
	return patchbaySignatureEncoded(authToken, t, method, rawURL, encodeForm(method, form))
}

// patchbaySignatureEncoded is PatchbaySignature over a form already
// encoded (url.Values.Encode; "" for GET), so that a request's body is
// encoded once for sending and signing.
func patchbaySignatureEncoded(authToken string, t time.Time, method, rawURL,
	encoded string) string {
	ts := strconv.FormatInt(t.Unix(), 10)

	return "t=" + ts + ",v1=" + patchbayMAC(authToken, ts, method, rawURL, encoded)
}

// encodeForm is the signed form of a request: none for GET.
func encodeForm(method string, form url.Values) string {
	if method == http.MethodGet {
		return ""
	}

	return form.Encode()
}

func patchbayMAC(authToken, ts, method, rawURL, encoded string) string {
	mac := hmac.New(sha256.New, []byte(authToken))
	mac.Write([]byte(ts + "." + method + "." + rawURL + "."))
	if method != http.MethodGet {
		mac.Write([]byte(encoded))
	}

	return hex.EncodeToString(mac.Sum(nil))
}

// VerifyPatchbaySignature checks header against the request it came with
// and refuses it when its timestamp is further than tolerance from now. It
// returns nil or an error wrapping ErrSignature.
func VerifyPatchbaySignature(authToken, header string, now time.Time, tolerance time.Duration,
	method, rawURL string, form url.Values) error {
	var ts, v1 string
	for part := range strings.SplitSeq(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			v1 = v
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || v1 == "" {
		return fmt.Errorf("%w: malformed header", ErrSignature)
	}
	if skew := now.Sub(time.Unix(sec, 0)).Abs(); skew > tolerance {
		return fmt.Errorf("%w: timestamp %s off by %s", ErrSignature, ts, skew)
	}
	want := patchbayMAC(authToken, ts, method, rawURL, encodeForm(method, form))
	if !hmac.Equal([]byte(want), []byte(v1)) {
		return fmt.Errorf("%w: mismatch", ErrSignature)
	}

	return nil
}
