// Package webhook is Patchbay's HTTP client to tenant applications: it asks
// voice URLs for markup (with the fallback URL on failure), signs every
// request with the account's auth token, and delivers status callbacks
// from a durable, ordered outbox.
//
// Every request carries two signatures. X-Twilio-Signature follows the
// published CPaaS scheme, so that the validators of the official helper
// libraries accept it:
//
//	base64(HMAC-SHA1(authToken, URL + name1 + value1 + name2 + value2 ...))
//
// where URL is the full URL requested and, for POST only, the form
// parameters follow sorted by name (values of one name sorted, duplicates
// once). For GET the parameters are in the URL's query and nothing is
// appended. X-Patchbay-Signature adds a timestamp so that a receiver can
// refuse replays:
//
//	t=<unix seconds>,v1=<hex HMAC-SHA256(authToken, t "." METHOD "." URL "." FORM)>
//
// where FORM is the POST body in canonical form (url.Values.Encode: names
// sorted, values of one name in the order sent, percent-encoded) and empty
// for GET. VerifyPatchbaySignature checks it.
package webhook
