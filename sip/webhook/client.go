package webhook

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// Config tunes a Client. The zero value of each field selects its default.
type Config struct {
	ConnectTimeout time.Duration // TCP (and TLS) connect, per attempt (5s)
	Timeout        time.Duration // whole request including redirects and body (15s)
	MaxRedirects   int           // redirects followed; negative follows none (3)
	MaxBodyBytes   int           // largest answer read, in bytes (64 KiB)
	UserAgent      string        // ("Patchbay-Webhook/1")
	Logger         *slog.Logger  // (slog.Default())
	Now            func() time.Time
	// TLSConfig is used for https URLs (nil: system roots).
	TLSConfig *tls.Config
	// DenyNetworks are networks tenant URLs must not reach (none): the
	// address a host name resolves to is checked when each connection is
	// made, so that neither a literal address nor a DNS answer (rebinding
	// included) leads a tenant's request into the operator's network. A
	// refused request fails with CodeConnection and ErrDeniedAddress.
	DenyNetworks []netip.Prefix
}

func (c Config) withDefaults() Config {
	if c.ConnectTimeout <= 0 {
		c.ConnectTimeout = 5 * time.Second
	}
	if c.Timeout <= 0 {
		c.Timeout = 15 * time.Second
	}
	if c.MaxRedirects == 0 {
		c.MaxRedirects = 3
	}
	if c.MaxBodyBytes <= 0 {
		c.MaxBodyBytes = 64 << 10
	}
	if c.UserAgent == "" {
		c.UserAgent = "Patchbay-Webhook/1"
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}

	return c
}

// Client makes signed requests to tenant URLs. It is safe for concurrent
// use; Close releases its idle connections.
type Client struct {
	cfg       Config
	log       *slog.Logger
	transport *http.Transport
}

// Request is one signed request to an application URL.
type Request struct {
	AuthToken string // signs the request; never sent or logged
	URL       string // absolute http(s) URL
	Method    string // GET or POST (POST)
	Params    url.Values
	// ConnectTimeout and Timeout override the client's for this request
	// (per-application settings); zero keeps the client's.
	ConnectTimeout time.Duration
	Timeout        time.Duration
}

// Answer is a successful (2xx) answer.
type Answer struct {
	Status      int
	ContentType string
	Body        []byte
	URL         string // the URL that answered, after redirects
	Elapsed     time.Duration
}

type connectTimeoutKey struct{}

// New returns a Client.
func New(cfg Config) *Client {
	cfg = cfg.withDefaults()
	c := &Client{cfg: cfg, log: cfg.Logger.With("component", "webhook")}
	c.transport = &http.Transport{
		DialContext:         c.dial,
		TLSClientConfig:     cfg.TLSConfig,
		TLSHandshakeTimeout: cfg.ConnectTimeout,
		MaxIdleConnsPerHost: 64,
		IdleConnTimeout:     90 * time.Second,
		ForceAttemptHTTP2:   true,
	}

	return c
}

// Close closes idle connections. Requests in flight complete.
func (c *Client) Close() { c.transport.CloseIdleConnections() }

func (c *Client) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	timeout, _ := ctx.Value(connectTimeoutKey{}).(time.Duration)
	if timeout <= 0 {
		timeout = c.cfg.ConnectTimeout
	}
	d := net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second, Control: c.checkAddress}

	return d.DialContext(ctx, network, addr)
}

// checkAddress refuses a connection to an address in Config.DenyNetworks.
// It runs after name resolution, for each address tried.
func (c *Client) checkAddress(_, address string, _ syscall.RawConn) error {
	if len(c.cfg.DenyNetworks) == 0 {
		return nil
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: %s", ErrDeniedAddress, address)
	}
	ip := ap.Addr().Unmap()
	for _, p := range c.cfg.DenyNetworks {
		if p.Contains(ip) {
			return fmt.Errorf("%w: %s is in %s", ErrDeniedAddress, ip, p)
		}
	}

	return nil
}

// Do sends req, signed, and returns the answer when its status is 2xx.
// Every failure is a *FetchError; a 2xx answer larger than the size cap
// fails with CodeTooLarge.
func (c *Client) Do(ctx context.Context, req Request) (*Answer, error) {
	method := strings.ToUpper(req.Method)
	if method == "" {
		method = http.MethodPost
	}
	fail := func(code, status int, err error) *FetchError {
		return &FetchError{Code: code, Method: method, URL: redact(req.URL), Status: status,
			Err: err}
	}
	hreq, err := c.newRequest(ctx, req, method)
	if err != nil {
		return nil, fail(CodeHTTPRetrieval, 0, err)
	}

	timeout := c.cfg.Timeout
	if req.Timeout > 0 {
		timeout = req.Timeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if req.ConnectTimeout > 0 {
		ctx = context.WithValue(ctx, connectTimeoutKey{}, req.ConnectTimeout)
	}
	hreq = hreq.WithContext(ctx)

	start := c.cfg.Now()
	hc := &http.Client{Transport: c.transport, CheckRedirect: c.redirectPolicy(req)}
	resp, err := hc.Do(hreq)
	if err != nil {
		return nil, fail(classify(err), 0, unwrapURLError(err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, int64(c.cfg.MaxBodyBytes)+1))
	elapsed := c.cfg.Now().Sub(start)
	c.log.Debug("application request", "method", method, "url", redact(req.URL),
		"status", resp.StatusCode, "elapsed", elapsed)
	switch {
	case err != nil:
		return nil, fail(CodeHTTPRetrieval, resp.StatusCode, fmt.Errorf("read body: %w", err))
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		return nil, fail(CodeHTTPRetrieval, resp.StatusCode, errors.New("status not 2xx"))
	case len(body) > c.cfg.MaxBodyBytes:
		return nil, fail(CodeTooLarge, resp.StatusCode,
			fmt.Errorf("answer exceeds %d bytes", c.cfg.MaxBodyBytes))
	}

	return &Answer{
		Status: resp.StatusCode, ContentType: resp.Header.Get("Content-Type"), Body: body,
		URL: resp.Request.URL.String(), Elapsed: elapsed,
	}, nil
}

// newRequest builds the signed request: parameters in the query for GET,
// form-encoded in the body for POST.
func (c *Client) newRequest(ctx context.Context, req Request, method string) (*http.Request,
	error) {
	if method != http.MethodGet && method != http.MethodPost {
		return nil, fmt.Errorf("%w: method %q", ErrBadTarget, req.Method)
	}
	u, err := url.Parse(req.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%w: URL must be absolute http or https", ErrBadTarget)
	}
	var body io.Reader
	var form url.Values
	var encoded string
	if method == http.MethodGet {
		q := u.Query()
		for k, vs := range req.Params {
			q[k] = append(q[k], vs...)
		}
		u.RawQuery = q.Encode()
	} else {
		form, encoded = req.Params, req.Params.Encode()
		body = strings.NewReader(encoded)
	}
	hreq, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadTarget, err)
	}
	if method == http.MethodPost {
		hreq.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	hreq.Header.Set("User-Agent", c.cfg.UserAgent)
	hreq.Header.Set("Accept", "text/xml, application/xml, text/html;q=0.5, */*;q=0.1")
	c.sign(hreq, req.AuthToken, form, encoded)

	return hreq, nil
}

// sign sets both signature headers of hreq; encoded is form.Encode() (""
// for GET).
func (c *Client) sign(hreq *http.Request, token string, form url.Values, encoded string) {
	u := hreq.URL.String()
	hreq.Header.Set(HeaderTwilioSignature, TwilioSignature(token, u, form))
	hreq.Header.Set(HeaderPatchbaySignature,
		patchbaySignatureEncoded(token, c.cfg.Now(), hreq.Method, u, encoded))
}

// redirectPolicy caps redirects and signs each redirected request for its
// own URL (and method: 301-303 turn POST into a bodiless GET).
func (c *Client) redirectPolicy(req Request) func(*http.Request, []*http.Request) error {
	return func(next *http.Request, via []*http.Request) error {
		if c.cfg.MaxRedirects < 0 || len(via) > c.cfg.MaxRedirects {
			return errTooManyRedirects
		}
		var form url.Values
		if next.Method == http.MethodPost {
			form = req.Params
		}
		c.sign(next, req.AuthToken, form, encodeForm(next.Method, form))

		return nil
	}
}

// classify maps a transport failure to its CPaaS-style code.
func classify(err error) int {
	var (
		dnsErr  *net.DNSError
		opErr   *net.OpError
		certErr *tls.CertificateVerificationError
		authErr x509.UnknownAuthorityError
		hostErr x509.HostnameError
		recErr  tls.RecordHeaderError
	)
	switch {
	case errors.Is(err, errTooManyRedirects):
		return CodeTooManyRedirects
	case errors.As(err, &dnsErr):
		return CodeBadHost
	case errors.As(err, &certErr), errors.As(err, &authErr), errors.As(err, &hostErr),
		errors.As(err, &recErr):
		return CodeTLS
	case errors.As(err, &opErr) && opErr.Op == "dial":
		return CodeConnection
	}

	return CodeHTTPRetrieval
}

// unwrapURLError drops net/http's *url.Error wrapper, whose text repeats
// the URL unredacted.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}

	return err
}

// redact hides a password in u's user information.
func redact(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "(unparsable URL)"
	}

	return p.Redacted()
}
