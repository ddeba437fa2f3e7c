package tenancy

import (
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// form reads the parameters of a form-encoded POST body. Its setters copy
// a parameter, when present, into a destination after checking it; the
// first bad parameter is kept in err as a *FieldError naming it and later
// setters do nothing, so that a resource's parameters read as one list.
type form struct {
	v   url.Values
	err error
}

// readForm parses the request body; an oversized or malformed body, or a
// non-empty body that is not form-encoded, is an error the API answers
// with 400.
func readForm(r *http.Request) (*form, error) {
	if r.ContentLength != 0 { // -1: unknown length, a body may follow
		mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if err != nil || mt != "application/x-www-form-urlencoded" {
			return nil, invalid("body", "must be application/x-www-form-urlencoded")
		}
	}
	if err := r.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, err
		}

		return nil, invalid("body", "not a valid form-encoded body")
	}

	return &form{v: r.PostForm}, nil
}

// get returns the first value of key and whether it is present.
func (f *form) get(key string) (string, bool) {
	vs, ok := f.v[key]
	if !ok || len(vs) == 0 || f.err != nil {
		return "", false
	}

	return vs[0], true
}

// set checks a present parameter with parse and stores the result in dst.
func set[T any](f *form, key string, dst *T, parse func(string) (T, error)) {
	s, ok := f.get(key)
	if !ok {
		return
	}
	v, err := parse(s)
	if err != nil {
		f.err = invalid(key, err.Error())

		return
	}
	*dst = v
}

// optional makes a parser accept the empty string, which clears a value.
func optional(parse func(string) (string, error)) func(string) (string, error) {
	return func(s string) (string, error) {
		if s == "" {
			return "", nil
		}

		return parse(s)
	}
}

// require reports the first of keys that is absent or empty.
func (f *form) require(keys ...string) {
	for _, k := range keys {
		if f.err != nil {
			return
		}
		if v, ok := f.get(k); !ok || v == "" {
			f.err = invalid(k, "required")
		}
	}
}

func (f *form) text(key string, dst *string)   { set(f, key, dst, parseFriendlyName) }
func (f *form) url(key string, dst *string)    { set(f, key, dst, optional(parseHTTPURL)) }
func (f *form) method(key string, dst *string) { set(f, key, dst, parseMethod) }
func (f *form) boolean(key string, dst *bool)  { set(f, key, dst, parseBool) }

// integer sets an integer parameter that must lie in [lo, hi].
func (f *form) integer(key string, lo, hi int, dst *int) {
	set(f, key, dst, func(s string) (int, error) {
		n, err := strconv.Atoi(s)
		if err != nil || n < lo || n > hi || !allDigits(s) {
			return 0, errOutOfRange(lo, hi)
		}

		return n, nil
	})
}

// Webhook timeouts given through the API lie in this range, or are 0.
const (
	minWebhookTimeout = 100 * time.Millisecond
	maxWebhookTimeout = time.Minute
)

// timeoutMillis sets a webhook timeout given in milliseconds: 0 clears it,
// anything else must lie between minWebhookTimeout and maxWebhookTimeout.
func (f *form) timeoutMillis(key string, dst *time.Duration) {
	set(f, key, dst, func(s string) (time.Duration, error) {
		n, err := strconv.Atoi(s)
		d := time.Duration(n) * time.Millisecond
		if err != nil || !allDigits(s) || d != 0 && (d < minWebhookTimeout || d > maxWebhookTimeout) {
			return 0, fmt.Errorf("must be 0 (the account's setting) or milliseconds from %d to %d",
				minWebhookTimeout.Milliseconds(), maxWebhookTimeout.Milliseconds())
		}

		return d, nil
	})
}

// sid sets a reference parameter: empty clears it, anything else must be
// prefix and 32 hex digits.
func (f *form) sid(key, prefix string, dst *string) {
	set(f, key, dst, func(s string) (string, error) {
		if s != "" && !validSID(prefix, s) {
			return "", errNotSID
		}

		return s, nil
	})
}
