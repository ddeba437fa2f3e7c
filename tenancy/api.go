package tenancy

import (
	"context"
	"crypto/subtle"
	"errors"
	"io"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// defaultMaxBodyBytes bounds request bodies when APIOptions leaves it zero.
const defaultMaxBodyBytes = 64 << 10

// operatorUser is the HTTP Basic user name of the operator.
const operatorUser = "admin"

// APIOptions configures NewAPI.
type APIOptions struct {
	// Logger receives request logs (debug) and internal errors (error).
	// Credentials, bodies and query strings are never logged. Nil
	// discards.
	Logger *slog.Logger
	// AdminToken is the operator's password for HTTP Basic user "admin".
	// Empty disables operator access.
	AdminToken string
	// MaxBodyBytes bounds a request body (64 KiB when zero); a larger body
	// answers 400.
	MaxBodyBytes int64
	// OnRequest, when set, is called once for every authenticated request
	// with the SID of the account it acts on (the caller's own for the
	// account list and create), to meter API use. It must be safe for
	// concurrent use and should not block.
	OnRequest func(accountSID string)
	// RateLimit is the sustained number of requests per second each
	// calling account may make; beyond it requests answer 429. Zero turns
	// rate limiting off. The operator is never limited.
	RateLimit float64
	// RateBurst is how many requests an account may make at once above
	// the sustained rate (max(1, RateLimit) when zero).
	RateBurst int
}

// AccountHandler serves one request for an account the caller may see.
type AccountHandler func(w http.ResponseWriter, r *http.Request, acct *Account)

// API serves the account-management REST API: the CPaaS-shaped resources
// under /2010-04-01 and Patchbay's own under /v1. It authenticates every
// request, confines each caller to its own account and sub-accounts, and
// lets other packages mount their resources with HandleAccount. It is safe
// for concurrent use.
type API struct {
	store   *Store
	opts    APIOptions
	log     *slog.Logger
	mux     *http.ServeMux
	limiter *rateLimiter
}

// NewAPI returns the API over store with every tenancy resource mounted.
func NewAPI(store *Store, opts APIOptions) *API {
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = defaultMaxBodyBytes
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	a := &API{store: store, opts: opts, log: log.With("component", "tenancy_api"),
		mux: http.NewServeMux(), limiter: newRateLimiter(opts.RateLimit, opts.RateBurst)}
	a.mux.HandleFunc(catchAll, a.unrouted)
	a.mountAccounts()
	a.mountApplications()
	a.mountNumbers()
	a.mountDomains()
	a.mountMappings()
	a.mountCredentials()
	a.mountIPACLs()
	a.mountTrunks()
	a.mountServices()
	a.mountLimits()
	a.mountNotifications()

	return a
}

// caller is who makes a request: an account, or the operator (nil account).
type caller struct{ account *Account }

func (c caller) operator() bool { return c.account == nil }

// above reports whether the caller administers acct from above: the
// operator, or a strict ancestor of acct (visibility is checked already).
func (c caller) above(acct *Account) bool {
	return c.operator() || c.account.SID != acct.SID
}

type callerKey struct{}

func callerFrom(ctx context.Context) caller {
	c, _ := ctx.Value(callerKey{}).(caller)

	return c
}

// CallerSID returns the SID of the account that made the request with
// operator false, or "" with operator true for the operator. It is
// meaningful only inside handlers the API serves, such as those mounted
// with HandleAccount; elsewhere it reports the operator.
func CallerSID(r *http.Request) (sid string, operator bool) {
	c := callerFrom(r.Context())
	if c.operator() {
		return "", true
	}

	return c.account.SID, false
}

// ServeHTTP routes the request, authenticates the caller, applies the rate
// limit and the body limit, then serves it. Unknown paths answer 404 and
// known paths with another method 405, before authentication.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	a.mux.ServeHTTP(rec, r)
	a.log.LogAttrs(r.Context(), slog.LevelDebug, "api request",
		slog.String("method", r.Method), slog.String("path", r.URL.Path),
		slog.Int("status", rec.status), slog.Duration("duration", time.Since(start)))
}

// handle registers h under pattern behind admit, so that the mux routes a
// request once and h runs only for an admitted caller.
func (a *API) handle(pattern string, h http.HandlerFunc) {
	a.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		if r, ok := a.admit(w, r); ok {
			h(w, r)
		}
	})
}

// admit authenticates the caller, refuses an inactive account and one over
// its rate, and limits the body. It returns the request carrying the
// caller, or false once it has answered.
func (a *API) admit(w http.ResponseWriter, r *http.Request) (*http.Request, bool) {
	c, err := a.authenticate(r)
	if err != nil {
		w.Header().Set("WWW-Authenticate", `Basic realm="`+Realm+`"`)
		WriteError(w, http.StatusUnauthorized, CodeAuthentication, "authentication failed")

		return nil, false
	}
	if !c.operator() && !c.account.Active() {
		WriteError(w, http.StatusForbidden, CodeAccountInactive,
			"account is "+string(c.account.EffectiveStatus))

		return nil, false
	}
	if !c.operator() {
		if wait, ok := a.limiter.allow(c.account.SID, time.Now()); !ok {
			w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
			WriteError(w, http.StatusTooManyRequests, CodeTooManyRequests,
				"too many requests for this account")

			return nil, false
		}
	}
	r.Body = http.MaxBytesReader(w, r.Body, a.opts.MaxBodyBytes)

	return r.WithContext(context.WithValue(r.Context(), callerKey{}, c)), true
}

// catchAll is the mux pattern of unrouted, which matches every request no
// other pattern does.
const catchAll = "/"

// unrouted answers a request no route matches: 405 with an Allow header
// when the path exists for other methods, else 404.
func (a *API) unrouted(w http.ResponseWriter, r *http.Request) {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodDelete} {
		if m == r.Method {
			continue
		}
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := a.mux.Handler(probe); pattern != "" && pattern != catchAll {
			allow = append(allow, m)
		}
	}
	if len(allow) == 0 {
		WriteError(w, http.StatusNotFound, CodeNotFound, "the requested resource was not found")

		return
	}
	w.Header().Set("Allow", strings.Join(allow, ", "))
	WriteError(w, http.StatusMethodNotAllowed, CodeMethodNotAllowed,
		"method "+r.Method+" not allowed; allowed: "+strings.Join(allow, ", "))
}

// authenticate checks HTTP Basic credentials in constant time: the
// operator's admin token, or an account's auth token.
func (a *API) authenticate(r *http.Request) (caller, error) {
	user, pass, ok := r.BasicAuth()
	if !ok {
		return caller{}, errBadCredentials
	}
	if user == operatorUser {
		if a.opts.AdminToken != "" &&
			subtle.ConstantTimeCompare([]byte(pass), []byte(a.opts.AdminToken)) == 1 {
			return caller{}, nil
		}

		return caller{}, errBadCredentials
	}
	token := strings.Repeat("0", 32) // compared when the account is unknown, to even out timing
	var acct *Account
	if validSID(prefixAccount, user) {
		if got, err := a.store.AccountBySID(r.Context(), user); err == nil {
			acct, token = got, got.AuthToken
		}
	}
	if subtle.ConstantTimeCompare([]byte(pass), []byte(token)) != 1 || acct == nil {
		return caller{}, errBadCredentials
	}

	return caller{account: acct}, nil
}

// HandleAccount registers h under a net/http ServeMux pattern with an
// {AccountSid} wildcard (a trailing ".json" on it is ignored), e.g.
// "GET /2010-04-01/Accounts/{AccountSid}/Usage/Records.json". The API
// authenticates the caller, checks that the caller may see {AccountSid}
// (itself or a descendant; the operator any), answering 401 or 404
// otherwise, limits the body size, calls OnRequest, then calls h with the
// account. It panics, like ServeMux.Handle, on a conflicting pattern.
func (a *API) HandleAccount(pattern string, h AccountHandler) {
	a.handle(pattern, func(w http.ResponseWriter, r *http.Request) {
		sid := strings.TrimSuffix(r.PathValue("AccountSid"), ".json")
		acct, err := a.visibleAccount(r.Context(), callerFrom(r.Context()), sid)
		if err != nil {
			a.fail(w, r, err)

			return
		}
		if a.opts.OnRequest != nil {
			a.opts.OnRequest(acct.SID)
		}
		h(w, r, acct)
	})
}

// visibleAccount returns account sid if the caller may see it.
func (a *API) visibleAccount(ctx context.Context, c caller, sid string) (*Account, error) {
	if !validSID(prefixAccount, sid) {
		return nil, ErrNotFound
	}
	if c.operator() {
		return a.store.AccountBySID(ctx, sid)
	}
	if c.account.SID == sid {
		return c.account, nil // loaded, with its effective status, by authenticate
	}

	return a.store.visibleAccount(ctx, c.account.SID, sid)
}

// fail answers err: 400 naming the field for bad input, 404 for anything
// missing or invisible, 403 for a forbidden change, 500 otherwise.
func (a *API) fail(w http.ResponseWriter, r *http.Request, err error) {
	var fe *FieldError
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &fe):
		WriteError(w, http.StatusBadRequest, CodeInvalidParameter, fe.Field+": "+fe.Reason)
	case errors.As(err, &tooBig):
		WriteError(w, http.StatusBadRequest, CodeInvalidParameter,
			"body: larger than "+strconv.FormatInt(tooBig.Limit, 10)+" bytes")
	case errors.Is(err, ErrNotFound):
		WriteError(w, http.StatusNotFound, CodeNotFound, "the requested resource was not found")
	case errors.Is(err, ErrForbidden):
		WriteError(w, http.StatusForbidden, CodeForbidden, strings.TrimPrefix(err.Error(),
			"tenancy: "))
	default:
		a.log.LogAttrs(r.Context(), slog.LevelError, "api internal error",
			slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.String("error", err.Error()))
		WriteError(w, http.StatusInternalServerError, CodeInternal, "internal error")
	}
}

// statusWriter records the status a handler answered with.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }
