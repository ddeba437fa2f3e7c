package tenancy

import (
	"errors"
	"fmt"
)

// Sentinel errors of the tenancy store. Callers check them with errors.Is;
// the store wraps them with the kind and SID of what was looked up.
var (
	// ErrNotFound reports that a resource does not exist or belongs to
	// another tenant; the two cases are deliberately indistinguishable.
	ErrNotFound = errors.New("tenancy: not found")
	// ErrInvalid reports malformed input; a *FieldError carries the field.
	ErrInvalid = errors.New("tenancy: invalid input")
	// ErrConflict reports input that is well formed but clashes with stored
	// state: a duplicate domain name, a list mapped twice. A *FieldError
	// carries the field.
	ErrConflict = errors.New("tenancy: conflict")
	// ErrForbidden reports a change the caller may not make, such as an
	// account changing its own status or limits.
	ErrForbidden = errors.New("tenancy: forbidden")
)

// errStopWalk ends a walk up the account tree early.
var errStopWalk = errors.New("tenancy: stop walk")

// FieldError names the input field (spelled as the API parameter, e.g.
// "PhoneNumber") that was rejected and why. It unwraps to ErrInvalid, or to
// ErrConflict when the value clashes with stored state.
type FieldError struct {
	Field    string
	Reason   string
	Conflict bool
}

// Error returns "tenancy: <Field>: <Reason>".
func (e *FieldError) Error() string { return "tenancy: " + e.Field + ": " + e.Reason }

// Unwrap returns ErrConflict or ErrInvalid.
func (e *FieldError) Unwrap() error {
	if e.Conflict {
		return ErrConflict
	}

	return ErrInvalid
}

// invalid returns a *FieldError for a malformed value of field.
func invalid(field, reason string) error { return &FieldError{Field: field, Reason: reason} }

// conflict returns a *FieldError for a value of field that clashes.
func conflict(field, reason string) error {
	return &FieldError{Field: field, Reason: reason, Conflict: true}
}

// Reasons a single value is rejected. They are never returned alone: they
// become the Reason of a *FieldError, which adds the package and field.
var (
	errNotE164       = errors.New("not an E.164 number (+ and up to 15 digits)")
	errNotE164Prefix = errors.New("not an E.164 prefix (+ and 1 to 15 digits)")
	errNotHTTPURL    = errors.New("not an absolute http or https URL")
	errNotSIPURL     = errors.New("not a sip: or sips: URI with a host")
	errNotMethod     = errors.New("must be GET or POST")
	errNotBool       = errors.New("must be true or false")
	errNotMoney      = errors.New("not a decimal amount with at most 6 decimals")
	errMoneyTooLarge = errors.New("amount too large")
	errNotIP         = errors.New("not an IP address")
	errNotPrefixLen  = errors.New("not a valid prefix length for the address")
	errPrefixTwice   = errors.New("prefix length given twice")
	errHostBits      = errors.New("address has bits set beyond the prefix length")
	errNotDomain     = errors.New("not a DNS host name with at least two labels")
	errNotText       = errors.New("must be UTF-8 text without control characters")
	errTooLong       = errors.New("too long")
	errNotUsername   = errors.New("must be 1 to 32 printable characters without ':', " +
		"quotes or spaces")
	errWeakPassword = errors.New("must be 12 to 128 characters with a digit, an upper-case " +
		"and a lower-case letter")
	errNotEvent = errors.New("events must be initiated, ringing, answered or completed")
)

var (
	errNotSID    = errors.New("not a SID of the expected kind")
	errBadSecret = errors.New("must be at most 128 characters of text without control characters")
)

// errBadCredentials is never shown; every authentication failure answers
// the same 401.
var errBadCredentials = errors.New("tenancy: bad credentials")

// errOutOfRange reports an integer outside [lo, hi].
func errOutOfRange(lo, hi int) error {
	return fmt.Errorf("must be an integer from %d to %d", lo, hi)
}
