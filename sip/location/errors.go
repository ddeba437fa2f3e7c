package location

import "errors"

var (
	// ErrLimit means the update would put the account over its
	// AccountLimit of unexpired bindings. Nothing was changed. Answer 403.
	ErrLimit = errors.New("location: account registration limit reached")

	// ErrOutOfOrder means a binding with the update's Call-ID holds a CSeq
	// not lower than the update's (RFC 3261 section 10.3 step 7). Nothing
	// was changed. Answer 500 or 400.
	ErrOutOfOrder = errors.New("location: cseq not higher than the stored binding's")

	// ErrInvalid means the update or a binding in it breaks the rules of
	// Update; the wrapping error names the field. Nothing was changed.
	ErrInvalid = errors.New("location: invalid update")

	// ErrUnavailable means the backing store could not be reached or
	// answered with an error; the wrapping error holds the cause. Whether
	// the change was applied is unknown. Answer 500 or 503.
	ErrUnavailable = errors.New("location: store unavailable")

	// ErrClosed means the Store was closed.
	ErrClosed = errors.New("location: store closed")
)

// errCorrupt reports a stored value this package did not write.
var errCorrupt = errors.New("corrupt stored binding")
