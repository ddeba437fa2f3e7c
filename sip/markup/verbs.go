package markup

import (
	"log/slog"
	"time"
)

// Response is a parsed document: its verbs in document order. An empty
// Response is valid; the call control hangs up when it runs out of verbs.
type Response struct {
	Verbs []Verb
	// Ignored lists attributes and elements Patchbay does not act on, as
	// "Verb@attribute" or "Verb/Child", in document order.
	Ignored []string
}

// Verb is one instruction of a Response: *Dial, *Hangup, *Reject, *Redirect,
// *Pause, *Play, *Say, *Gather or *Record. The set is closed.
type Verb interface {
	// VerbName returns the element name, e.g. "Dial".
	VerbName() string
	verb()
}

// The HTTP methods an application may ask for.
const (
	MethodGET  = "GET"
	MethodPOST = "POST"
)

// Dial connects the caller to the first of its nouns that answers; all
// nouns ring at once.
type Dial struct {
	Action    string        // URL asked with DialCallStatus when the dial ends; empty: go on
	Method    string        // of Action (POST)
	Timeout   time.Duration // ringing time, 5s..600s (30s)
	CallerID  string        // caller ID presented to the called party; empty: the caller's
	TimeLimit time.Duration // longest bridged time, 1s..4h (4h)
	Record    RecordMode    // (do-not-record)
	// AnswerOnBridge answers an unanswered caller only when a noun answers
	// (true: Patchbay's default, where CPaaS defaults to false); false
	// answers it first and plays ringback while the nouns ring.
	AnswerOnBridge bool
	HangupOnStar   bool   // the caller ends the bridge by pressing * (false)
	Nouns          []Noun // at least one
}

// RecordMode says whether and from when a Dial is recorded.
type RecordMode string

// The recording modes of Dial.
const (
	RecordNone            RecordMode = "do-not-record"
	RecordFromAnswer      RecordMode = "record-from-answer"
	RecordFromRinging     RecordMode = "record-from-ringing"
	RecordFromAnswerDual  RecordMode = "record-from-answer-dual"
	RecordFromRingingDual RecordMode = "record-from-ringing-dual"
)

// NounKind says what a Dial noun reaches.
type NounKind string

// The Dial nouns Patchbay runs.
const (
	NounNumber NounKind = "Number" // a phone number, via the account's trunk
	NounSIP    NounKind = "Sip"    // a SIP URI
	NounClient NounKind = "Client" // a registered device of the account
)

// Noun is one destination of a Dial.
type Noun struct {
	Kind       NounKind
	Target     string // E.164 number (digits with optional +), sip:/sips: URI, or identity
	SendDigits string // Number only: DTMF sent after answer, [0-9*#w]
	URL        string // URL run on the called party before bridging (whisper)
	Method     string // of URL (POST)
	Username   string // Sip only: digest credentials for the far end
	Password   string // Sip only; never logged
}

// LogValue keeps the Sip password out of logs.
func (n Noun) LogValue() slog.Value {
	return slog.GroupValue(slog.String("kind", string(n.Kind)), slog.String("target", n.Target))
}

// Hangup ends the call.
type Hangup struct{}

// Reject refuses an unanswered call without answering it.
type Reject struct {
	Reason string // "rejected" (603 Decline) or "busy" (486 Busy Here) (rejected)
}

// SIPStatus returns the final response code Reject answers with.
func (r *Reject) SIPStatus() int {
	if r.Reason == "busy" {
		return 486
	}

	return 603
}

// Redirect continues the call with the document at URL.
type Redirect struct {
	URL    string // absolute or relative to the current document
	Method string // (POST)
}

// Pause waits in silence.
type Pause struct {
	Length time.Duration // 0s..600s (1s)
}

// Play plays an audio file, or sends DTMF digits when Digits is set.
type Play struct {
	URL    string // WAV (PCM, mu-law or A-law) or raw mu-law/A-law; empty when Digits is set
	Loop   int    // times to play, 0 meaning as often as Patchbay allows (1000) (1)
	Digits string // RFC 4733 digits [0-9*#w], w a half-second pause; empty when URL is set
}

// Say speaks text. It is only parsed when Limits.SpeechEngine is set.
type Say struct {
	Text     string
	Voice    string
	Language string
	Loop     int // (1)
}

// Gather collects DTMF digits while playing its nested verbs.
type Gather struct {
	Action      string        // URL asked with Digits; empty: the current document
	Method      string        // (POST)
	Timeout     time.Duration // wait after the last digit, 1s..600s (5s)
	FinishOnKey string        // one of [0-9*#] ends input, or empty (#)
	NumDigits   int           // digits to collect, 0 meaning no count (0)
	Speech      bool          // input includes speech (only with a speech engine)
	Nested      []Verb        // *Play, *Pause or *Say
}

// Record records the caller.
type Record struct {
	Action      string        // URL asked with RecordingUrl; empty: the current document
	Method      string        // (POST)
	Timeout     time.Duration // silence that ends the recording, 0 meaning never (5s)
	MaxLength   time.Duration // longest recording, 1s..4h (1h)
	FinishOnKey string        // any of these keys ends the recording (1234567890*#)
	PlayBeep    bool          // (true)
	Trim        bool          // trim leading and trailing silence (true)
}

// VerbName implements Verb.
func (*Dial) VerbName() string     { return "Dial" }
func (*Hangup) VerbName() string   { return "Hangup" }
func (*Reject) VerbName() string   { return "Reject" }
func (*Redirect) VerbName() string { return "Redirect" }
func (*Pause) VerbName() string    { return "Pause" }
func (*Play) VerbName() string     { return "Play" }
func (*Say) VerbName() string      { return "Say" }
func (*Gather) VerbName() string   { return "Gather" }
func (*Record) VerbName() string   { return "Record" }

func (*Dial) verb()     {}
func (*Hangup) verb()   {}
func (*Reject) verb()   {}
func (*Redirect) verb() {}
func (*Pause) verb()    {}
func (*Play) verb()     {}
func (*Say) verb()      {}
func (*Gather) verb()   {}
func (*Record) verb()   {}
