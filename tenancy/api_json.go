package tenancy

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Paging defaults and bounds, as the CPaaS API has them.
const (
	defaultPageSize = 50
	maxPageSize     = 1000
	maxPageNumber   = 1_000_000
)

// moreInfoURL is where error codes are explained (the README section).
const moreInfoURL = "https://github.com/patchbay/patchbay/blob/main/docs/tenancy.md#api-error-codes"

// Error codes in API error bodies. The numbers follow the CPaaS API where a
// matching code exists.
const (
	CodeInvalidParameter = 21100 // a parameter is malformed or conflicts; the message names it
	CodeAuthentication   = 20003 // missing or wrong credentials
	CodeForbidden        = 20403 // the caller may see the resource but not make this change
	CodeNotFound         = 20404 // no such resource, or another tenant's
	CodeMethodNotAllowed = 20004 // the path exists but not for this method
	CodeTooManyRequests  = 20429 // the account's API request rate is exceeded
	CodeInternal         = 20500 // an internal error; details are in the server log
	CodeAccountInactive  = 20005 // the calling account is suspended or closed
)

// Page selects one page of a list: Size items starting at Number*Size.
type Page struct{ Number, Size int }

// normalized returns p with its size defaulted (0) or clamped into 1..1000
// and a negative number raised to 0, for store callers that build a Page
// themselves.
func (p Page) normalized() Page {
	if p.Size <= 0 {
		p.Size = defaultPageSize
	}
	p.Size = min(p.Size, maxPageSize)
	p.Number = min(max(p.Number, 0), maxPageNumber)

	return p
}

// ParsePage reads PageSize (default 50, 1 to 1000) and Page (from 0) from
// the query string. The error names the bad parameter.
func ParsePage(r *http.Request) (Page, error) {
	q := r.URL.Query()
	p := Page{Size: defaultPageSize}
	if v := q.Get("PageSize"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxPageSize {
			return Page{}, invalid("PageSize", "must be an integer from 1 to 1000")
		}
		p.Size = n
	}
	if v := q.Get("Page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > maxPageNumber {
			return Page{}, invalid("Page", "must be an integer from 0 to 1000000")
		}
		p.Number = n
	}

	return p, nil
}

// PageEnvelope returns the paging fields of a list response: page,
// page_size, uri, first_page_uri, next_page_uri (nil at the end),
// previous_page_uri (nil on the first page), start and end. The caller adds
// the list itself under its key.
func PageEnvelope(r *http.Request, p Page, returned int, hasMore bool) map[string]any {
	start := p.Number * p.Size
	end := start
	if returned > 0 {
		end = start + returned - 1
	}
	env := map[string]any{
		"page":              p.Number,
		"page_size":         p.Size,
		"uri":               pageURI(r, p.Number, p.Size),
		"first_page_uri":    pageURI(r, 0, p.Size),
		"next_page_uri":     nil,
		"previous_page_uri": nil,
		"start":             start,
		"end":               end,
	}
	if hasMore {
		env["next_page_uri"] = pageURI(r, p.Number+1, p.Size)
	}
	if p.Number > 0 {
		env["previous_page_uri"] = pageURI(r, p.Number-1, p.Size)
	}

	return env
}

// pageURI is the request's path and query with Page and PageSize replaced.
func pageURI(r *http.Request, number, size int) string {
	q := url.Values{}
	for k, v := range r.URL.Query() {
		q[k] = v
	}
	q.Set("Page", strconv.Itoa(number))
	q.Set("PageSize", strconv.Itoa(size))

	return r.URL.Path + "?" + q.Encode()
}

// FormatTime formats t in UTC as RFC 2822, like the CPaaS API:
// "Mon, 02 Jan 2006 15:04:05 +0000".
func FormatTime(t time.Time) string { return t.UTC().Format(time.RFC1123Z) }

// WriteJSON writes v as JSON with the given status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v) // a write error means the client has gone
}

// apiError is the CPaaS API's error body.
type apiError struct {
	Code     int    `json:"code"`
	Message  string `json:"message"`
	MoreInfo string `json:"more_info"`
	Status   int    `json:"status"`
}

// WriteError writes {"code": code, "message": msg, "more_info": ...,
// "status": status} with the given HTTP status.
func WriteError(w http.ResponseWriter, status, code int, msg string) {
	WriteJSON(w, status, apiError{Code: code, Message: msg, MoreInfo: moreInfoURL, Status: status})
}
