package webhook

import (
	"context"
	"errors"
	"fmt"
	"mime"
	"net/url"
	"strconv"
	"time"

	"github.com/patchbay/patchbay/sip/markup"
)

// Fetch says where to ask for markup: the URL the call is at (voice URL,
// or an action or redirect URL already resolved) and the application's
// fallback.
type Fetch struct {
	AuthToken      string
	URL            string
	Method         string // (POST)
	FallbackURL    string // empty: no fallback
	FallbackMethod string // (POST)
	ConnectTimeout time.Duration
	Timeout        time.Duration
	Limits         markup.Limits
}

// Document is markup an application answered with.
type Document struct {
	Response *markup.Response
	URL      string // the URL that answered, the base of relative URLs in Response
	Method   string
	Fallback bool          // the fallback URL answered
	Elapsed  time.Duration // time spent waiting on the application, fallback included
}

// FetchMarkup asks f.URL with params and parses the answer. When that fails
// (connection, timeout, non-2xx, oversize, wrong content type or bad markup)
// and f has a fallback URL, the fallback is asked with the same params plus
// ErrorCode and ErrorUrl. It returns a *FetchError when no document could be
// had; its Code is the first failure's. When ctx ends, the fallback is not
// asked.
func (c *Client) FetchMarkup(ctx context.Context, f Fetch, params url.Values) (*Document,
	error) {
	start := c.cfg.Now()
	doc, ferr := c.fetchOne(ctx, f, f.URL, f.Method, params)
	if ferr == nil {
		doc.Elapsed = c.cfg.Now().Sub(start)

		return doc, nil
	}
	c.log.Info("application request failed", "url", redact(f.URL), "code", ferr.Code,
		"status", ferr.Status, "cause", errString(ferr.Err))
	if f.FallbackURL == "" || ctx.Err() != nil {
		return nil, ferr
	}

	fb := make(url.Values, len(params)+2)
	for k, v := range params {
		fb[k] = v
	}
	fb.Set("ErrorCode", strconv.Itoa(ferr.Code))
	fb.Set("ErrorUrl", f.URL)
	doc, fbErr := c.fetchOne(ctx, f, f.FallbackURL, f.FallbackMethod, fb)
	if fbErr != nil {
		c.log.Info("application fallback failed", "url", redact(f.FallbackURL),
			"code", fbErr.Code, "status", fbErr.Status, "cause", errString(fbErr.Err))
		ferr.Fallback = fbErr

		return nil, ferr
	}
	doc.Fallback = true
	doc.Elapsed = c.cfg.Now().Sub(start)

	return doc, nil
}

func (c *Client) fetchOne(ctx context.Context, f Fetch, u, method string,
	params url.Values) (*Document, *FetchError) {
	if method == "" {
		method = markup.MethodPOST
	}
	ans, err := c.Do(ctx, Request{
		AuthToken: f.AuthToken, URL: u, Method: method, Params: params,
		ConnectTimeout: f.ConnectTimeout, Timeout: f.Timeout,
	})
	if err != nil {
		var fe *FetchError
		errors.As(err, &fe)

		return nil, fe
	}
	fail := func(code int, err error) *FetchError {
		return &FetchError{Code: code, Method: method, URL: redact(u), Status: ans.Status,
			Err: err}
	}
	if !isMarkupType(ans.ContentType) {
		return nil, fail(CodeContentType, fmt.Errorf("content type %q is not XML",
			ans.ContentType))
	}
	resp, err := markup.Parse(ans.Body, f.Limits)
	if err != nil {
		var me *markup.Error
		code := CodeDocumentParse
		if errors.As(err, &me) {
			code = me.Code
		}

		return nil, fail(code, err)
	}

	return &Document{Response: resp, URL: ans.URL, Method: method}, nil
}

// isMarkupType reports whether an answer's Content-Type may hold markup.
func isMarkupType(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	switch mt {
	case "text/xml", "application/xml", "text/html":
		return true
	}

	return len(mt) > 4 && mt[len(mt)-4:] == "+xml"
}

// ResolveURL resolves ref (an action, redirect or media URL of a document)
// against the URL of the document it came from. The result is an absolute
// http or https URL or an error wrapping ErrBadTarget.
func ResolveURL(base, ref string) (string, error) {
	b, err := url.Parse(base)
	if err != nil {
		return "", fmt.Errorf("%w: base URL: %w", ErrBadTarget, err)
	}
	r, err := url.Parse(ref)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrBadTarget, err)
	}
	u := b.ResolveReference(r)
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("%w: %q does not resolve to an http(s) URL", ErrBadTarget, ref)
	}

	return u.String(), nil
}

func errString(err error) string {
	if err == nil {
		return ""
	}

	return err.Error()
}
