package conf

import (
	"errors"
	"fmt"
)

var (
	// ErrInvalid marks a setting whose value does not parse or is out of
	// range. It is wrapped by a *FieldError naming the key.
	ErrInvalid = errors.New("conf: invalid value")

	// ErrUnknownKey marks a key of the file that Patchbay does not know,
	// usually a typing error. It is wrapped by a *FieldError naming the key.
	ErrUnknownKey = errors.New("conf: unknown key")

	// ErrDuplicateKey marks a key set twice in the same mapping of the file.
	ErrDuplicateKey = errors.New("conf: duplicate key")

	// ErrSyntax marks a file that is not well-formed YAML or whose top level
	// is not a mapping of keys.
	ErrSyntax = errors.New("conf: syntax")
)

// hiddenValue stands in for a secret in error messages.
const hiddenValue = "(hidden)"

// FieldError is one bad setting. Load and Validate return several of them
// joined with errors.Join; errors.As finds the first, and errors.Is matches
// ErrInvalid, ErrUnknownKey or ErrDuplicateKey.
type FieldError struct {
	Key    string // dotted YAML path, e.g. "media.ports"
	Env    string // the variable the value came from, e.g. "PATCHBAY_MEDIA_PORTS"; or ""
	Value  string // the value as given; hiddenValue for secrets
	Reason string // why it is refused, e.g. "start must be below end"
	Line   int    // line in the YAML file; 0 when not from a file
	Kind   error  // ErrInvalid, ErrUnknownKey or ErrDuplicateKey
}

// Error formats the problem as `conf: key: "value": reason`, with the
// variable after the key when the value came from the environment and the
// file line appended when it came from the file.
func (e *FieldError) Error() string {
	msg := "conf: " + e.Key
	if e.Env != "" {
		msg += " (" + e.Env + ")"
	}
	msg += ": "
	switch {
	case e.Kind == ErrUnknownKey || e.Kind == ErrDuplicateKey:
	case e.Value == hiddenValue:
		msg += hiddenValue + ": "
	default:
		msg += fmt.Sprintf("%q: ", e.Value)
	}
	msg += e.Reason
	if e.Line > 0 {
		msg += fmt.Sprintf(" (line %d)", e.Line)
	}

	return msg
}

// Unwrap returns the kind of the problem.
func (e *FieldError) Unwrap() error { return e.Kind }

// invalid builds the FieldError of a refused value.
func invalid(key, value, reason string) *FieldError {
	return &FieldError{Key: key, Value: value, Reason: reason, Kind: ErrInvalid}
}
