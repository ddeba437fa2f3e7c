package markup

import (
	"errors"
	"fmt"
)

// Sentinels wrapped by *Error; test with errors.Is.
var (
	// ErrDocument reports a document that is not well-formed XML, has no
	// single <Response> root, declares a document type or exceeds Limits.
	ErrDocument = errors.New("markup: bad document")
	// ErrTooLarge reports a document larger than Limits.MaxBytes.
	ErrTooLarge = errors.New("markup: document too large")
	// ErrUnknownVerb reports an element that is not a verb (or noun) Patchbay
	// runs in the place it stands.
	ErrUnknownVerb = errors.New("markup: unknown or misplaced verb")
	// ErrBadAttribute reports a known attribute (or text content) whose value
	// is out of range or malformed.
	ErrBadAttribute = errors.New("markup: bad attribute")
	// ErrSpeechUnsupported reports Say or speech input without a configured
	// speech engine.
	ErrSpeechUnsupported = errors.New("markup: no speech engine configured")
)

// Document-level error codes, as the CPaaS conventions number them.
const (
	// CodeTooLarge: the response body exceeds the size cap.
	CodeTooLarge = 11750
	// CodeDocumentParse: the document is not a well-formed <Response>.
	CodeDocumentParse = 12100
	// CodeUnknownVerb: an unknown verb or noun, or one in the wrong place.
	CodeUnknownVerb = 13000
	// CodeSpeechUnsupported: Say or Gather input="speech" without an engine.
	CodeSpeechUnsupported = 13510
	// CodeBadAttribute is the code of a bad attribute that has no code of
	// its own in the table below.
	CodeBadAttribute = 13001
)

// attrCodes gives each validated attribute its error code, keyed by
// "Verb.attribute" ("Verb." for the verb's text content). The numbering
// follows the CPaaS ranges: 132xx Dial, 133xx Gather, 134xx Play, 136xx
// Record, 137xx Reject, 138xx Redirect, 139xx Pause. It is read-only.
var attrCodes = map[string]int{
	"Dial.action":         13210,
	"Dial.method":         13211,
	"Dial.timeout":        13212,
	"Dial.callerId":       13213,
	"Dial.timeLimit":      13214,
	"Dial.record":         13215,
	"Dial.answerOnBridge": 13216,
	"Dial.hangupOnStar":   13217,
	"Dial.":               13220,
	"Number.":             13223,
	"Number.sendDigits":   13227,
	"Number.url":          13226,
	"Number.method":       13226,
	"Sip.":                13224,
	"Sip.url":             13226,
	"Sip.method":          13226,
	"Sip.username":        13228,
	"Sip.password":        13228,
	"Client.":             13225,
	"Client.url":          13226,
	"Client.method":       13226,
	"Identity.":           13225,
	"Gather.finishOnKey":  13310,
	"Gather.method":       13312,
	"Gather.timeout":      13313,
	"Gather.numDigits":    13314,
	"Gather.":             13320,
	"Gather.action":       13330,
	"Gather.input":        13335,
	"Play.loop":           13410,
	"Play.":               13420,
	"Play.digits":         13421,
	"Say.loop":            13511,
	"Say.":                13520,
	"Record.method":       13610,
	"Record.timeout":      13611,
	"Record.maxLength":    13612,
	"Record.finishOnKey":  13613,
	"Record.action":       13614,
	"Record.playBeep":     13615,
	"Record.trim":         13616,
	"Reject.reason":       13710,
	"Redirect.":           13810,
	"Redirect.method":     13811,
	"Pause.length":        13910,
}

// Error is a document Patchbay refuses to run. It names the verb and the
// attribute at fault (Attr is empty for the verb's text content or the
// document as a whole) and carries the CPaaS-style error code reported to
// the application's fallback URL as ErrorCode.
type Error struct {
	Code   int    // CPaaS-style error code, e.g. 12100 or 13212
	Verb   string // element at fault; empty for document-level errors
	Attr   string // attribute at fault; empty for text content
	Value  string // the offending value, truncated to 64 bytes
	Line   int    // line of the element, when known
	Reason string // what was wrong, lowercase
	Err    error  // one of the package's sentinels
}

// Error implements error.
func (e *Error) Error() string {
	switch {
	case e.Verb == "":
		return fmt.Sprintf("markup: code %d: %s", e.Code, e.Reason)
	case e.Attr == "" && e.Value == "":
		return fmt.Sprintf("markup: code %d: <%s> line %d: %s", e.Code, e.Verb, e.Line, e.Reason)
	case e.Attr == "":
		return fmt.Sprintf("markup: code %d: <%s> line %d: content %q: %s",
			e.Code, e.Verb, e.Line, e.Value, e.Reason)
	}

	return fmt.Sprintf("markup: code %d: <%s %s=%q> line %d: %s",
		e.Code, e.Verb, e.Attr, e.Value, e.Line, e.Reason)
}

// Unwrap returns the sentinel.
func (e *Error) Unwrap() error { return e.Err }

// ErrorCode returns the CPaaS-style code; other packages classify errors
// through this method without importing markup's types.
func (e *Error) ErrorCode() int { return e.Code }

func docError(format string, args ...any) *Error {
	return &Error{Code: CodeDocumentParse, Reason: fmt.Sprintf(format, args...), Err: ErrDocument}
}

func attrError(verb, attr, value string, line int, reason string) *Error {
	code, ok := attrCodes[verb+"."+attr]
	if !ok {
		code = CodeBadAttribute
	}
	if attr == "password" {
		value = "[redacted]"
	}

	return &Error{
		Code: code, Verb: verb, Attr: attr, Value: truncate(value, 64), Line: line,
		Reason: reason, Err: ErrBadAttribute,
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}

	return s[:n] + "..."
}
