package sip

import (
	"errors"
	"fmt"

	sipmsg "github.com/emiago/sipgo/sip"
)

// Exported sentinels. Callers check them with errors.Is.
var (
	// ErrClosed is returned by Start and the dialling helpers after Close.
	ErrClosed = errors.New("sip: server closed")

	// ErrStarted is returned by a second Start.
	ErrStarted = errors.New("sip: server already started")

	// ErrConfig wraps every configuration problem found by NewServer.
	ErrConfig = errors.New("sip: invalid config")

	// ErrNoTargets reports a trunk without an enabled, usable origination
	// URI (for a secure trunk: without a sips: or transport=tls URI).
	ErrNoTargets = errors.New("sip: trunk has no usable origination target")

	// ErrTrunkFailed reports that every origination target of a trunk
	// failed with a failover condition (timeout, 408, 5xx, transport
	// error). It wraps the last target's failure.
	ErrTrunkFailed = errors.New("sip: every trunk target failed")

	// ErrForeignFlow reports a binding whose connection-oriented flow is
	// held by another node; this node cannot send on it.
	ErrForeignFlow = errors.New("sip: binding flow held by another node")

	// ErrNoListener reports a transport this server does not listen on.
	ErrNoListener = errors.New("sip: no listener for transport")
)

// StatusError is a refusal of a request: the SIP status and reason phrase
// the server answered (or a peer answered) with. Err, when set, is the
// cause; Unwrap returns it.
type StatusError struct {
	Code   int
	Reason string
	Err    error
}

// Error implements error.
func (e *StatusError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("sip: %d %s: %v", e.Code, e.Reason, e.Err)
	}

	return fmt.Sprintf("sip: %d %s", e.Code, e.Reason)
}

// Unwrap returns the cause.
func (e *StatusError) Unwrap() error { return e.Err }

// Is makes errors.Is match two StatusErrors with the same code and reason,
// so that the unexported refusals below work as sentinels.
func (e *StatusError) Is(target error) bool {
	t, ok := target.(*StatusError)

	return ok && t.Code == e.Code && t.Reason == e.Reason && t.Err == nil
}

// The refusals of the edge. Each maps to exactly one SIP status; the table
// test in errors_test.go pins the mapping.
var (
	errForbidden          = &StatusError{Code: 403, Reason: "Forbidden"}
	errAccountSuspended   = &StatusError{Code: 403, Reason: "Account Suspended"}
	errAccountClosed      = &StatusError{Code: 403, Reason: "Account Closed"}
	errServiceDisabled    = &StatusError{Code: 403, Reason: "Service Disabled"}
	errRegDisabled        = &StatusError{Code: 403, Reason: "Registration Disabled"}
	errSecureRequired     = &StatusError{Code: 403, Reason: "Secure Transport Required"}
	errRegLimit           = &StatusError{Code: 403, Reason: "Registration Limit Reached"}
	errBadRequest         = &StatusError{Code: 400, Reason: "Bad Request"}
	errNotFound           = &StatusError{Code: 404, Reason: "Not Found"}
	errTooBrief           = &StatusError{Code: 423, Reason: "Interval Too Brief"}
	errUnavailable        = &StatusError{Code: 480, Reason: "Temporarily Unavailable"}
	errNoDialog           = &StatusError{Code: 481, Reason: "Call/Transaction Does Not Exist"}
	errLoop               = &StatusError{Code: 482, Reason: "Loop Detected"}
	errTooManyHops        = &StatusError{Code: 483, Reason: "Too Many Hops"}
	errBusyHere           = &StatusError{Code: 486, Reason: "Busy Here"}
	errNotAcceptable      = &StatusError{Code: 488, Reason: "Not Acceptable Here"}
	errRequestPending     = &StatusError{Code: 491, Reason: "Request Pending"}
	errOutOfOrder         = &StatusError{Code: 500, Reason: "Out Of Order"}
	errInternal           = &StatusError{Code: 500, Reason: "Server Internal Error"}
	errServiceUnavailable = &StatusError{Code: 503, Reason: "Service Unavailable"}
	errTimeout            = &StatusError{Code: 408, Reason: "Request Timeout"}
)

// refuse wraps cause in a copy of the refusal r, keeping r's status.
func refuse(r *StatusError, cause error) *StatusError {
	return &StatusError{Code: r.Code, Reason: r.Reason, Err: cause}
}

// statusOf maps err to the SIP status to answer with: the StatusError in its
// chain, else 500.
func statusOf(err error) (int, string) {
	var se *StatusError
	if errors.As(err, &se) {
		return se.Code, se.Reason
	}

	return errInternal.Code, errInternal.Reason
}

// responseError makes a StatusError out of a peer's final response.
func responseError(res *sipmsg.Response) *StatusError {
	return &StatusError{Code: int(res.StatusCode), Reason: res.Reason}
}
