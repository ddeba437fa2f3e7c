package webhook

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"net/http"
	"net/url"
	"sort"
)

// validTwilioSignature is a validator written from the published
// description of the scheme, independently of TwilioSignature: take the
// full URL of the request; for a POST, sort the parameters by name and
// append each name immediately followed by its value; HMAC-SHA1 the string
// with the auth token as key; base64-encode; compare with the header.
func validTwilioSignature(token string, r *http.Request, form url.Values) bool {
	full := "http://" + r.Host + r.URL.RequestURI()
	data := full
	if r.Method == http.MethodPost {
		keys := []string{}
		for k := range form {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			vals := append([]string(nil), form[k]...)
			sort.Strings(vals)
			for _, v := range vals {
				data += k + v
			}
		}
	}
	h := hmac.New(sha1.New, []byte(token))
	h.Write([]byte(data))
	want := base64.StdEncoding.EncodeToString(h.Sum(nil))
	got := r.Header.Get("X-Twilio-Signature")

	return hmac.Equal([]byte(want), []byte(got))
}
