package webhook

import (
	"errors"
	"fmt"
)

// Sentinels; test with errors.Is.
var (
	// ErrSignature reports a signature that does not verify.
	ErrSignature = errors.New("webhook: bad signature")
	// ErrFetch is wrapped by every *FetchError: the application could not
	// be asked or did not answer usefully.
	ErrFetch = errors.New("webhook: application request failed")
	// ErrBadTarget reports a URL or method that cannot be requested.
	ErrBadTarget = errors.New("webhook: bad target")
	// ErrDeniedAddress reports a tenant URL that leads to an address in
	// Config.DenyNetworks.
	ErrDeniedAddress = errors.New("webhook: address not allowed")
	// ErrClosed reports use of a closed Outbox.
	ErrClosed = errors.New("webhook: outbox closed")

	errTooManyRedirects = errors.New("too many redirects")
)

// CPaaS-style error codes of failed application requests. The codes of
// bad markup (13xxx, 12100, 11750) come from package markup.
const (
	CodeHTTPRetrieval    = 11200 // timeout, non-2xx status, or another HTTP failure
	CodeConnection       = 11205 // could not connect
	CodeBadHost          = 11210 // the host name does not resolve
	CodeTooManyRedirects = 11215
	CodeTLS              = 11220 // TLS handshake or certificate failure
	CodeTooLarge         = 11750 // the answer exceeds the size cap
	CodeDocumentParse    = 12100
	CodeContentType      = 12300 // the answer is not XML
)

// FetchError is a failed request to an application URL. Code is what the
// application's fallback URL receives as ErrorCode and what the account's
// failure record shows. When the fallback was asked too and failed,
// Fallback holds its failure.
type FetchError struct {
	Code     int
	Method   string
	URL      string // with any password in it redacted
	Status   int    // HTTP status of the answer, 0 when there was none
	Err      error  // the cause
	Fallback *FetchError
}

// Error implements error.
func (e *FetchError) Error() string {
	msg := fmt.Sprintf("webhook: code %d: %s %s", e.Code, e.Method, e.URL)
	if e.Status != 0 {
		msg += fmt.Sprintf(": status %d", e.Status)
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	if e.Fallback != nil {
		msg += "; fallback: " + e.Fallback.Error()
	}

	return msg
}

// Unwrap returns ErrFetch and the cause.
func (e *FetchError) Unwrap() []error { return []error{ErrFetch, e.Err} }

// ErrorCode returns Code.
func (e *FetchError) ErrorCode() int { return e.Code }
