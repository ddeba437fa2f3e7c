// Package callstatus maps how a call leg ended (its final SIP response, or
// the reason Patchbay ended it) to the CPaaS call status reported to
// applications (CallStatus, DialCallStatus) and written to CDRs. It is the
// one table the B2BUA, the status callbacks and the Calls API share.
package callstatus

import "github.com/patchbay/patchbay/accounting"

// Status is a call leg's status as the CPaaS API spells it: the same
// values the CDRs keep, so it is accounting's type.
type Status = accounting.Status

// The call statuses. Queued, Initiated, Ringing and InProgress are live;
// the others are final (Status.Final).
const (
	Queued     = accounting.StatusQueued
	Initiated  = Status("initiated")
	Ringing    = accounting.StatusRinging
	InProgress = accounting.StatusInProgress
	Completed  = accounting.StatusCompleted
	Busy       = accounting.StatusBusy
	NoAnswer   = accounting.StatusNoAnswer
	Failed     = accounting.StatusFailed
	Canceled   = accounting.StatusCanceled
)

// Reason is why Patchbay ended a leg, when the end was not (only) a SIP
// final response from the far side.
type Reason string

// The end reasons.
const (
	// ReasonNone: the leg ended with the far side's final response (or, once
	// answered, with a BYE from either side).
	ReasonNone Reason = ""
	// ReasonTimeout: the leg rang for its whole timeout and was cancelled.
	ReasonTimeout Reason = "timeout"
	// ReasonCallerCanceled: the caller hung up (CANCEL) before the leg was
	// answered.
	ReasonCallerCanceled Reason = "caller-canceled"
	// ReasonAPICanceled: the Calls API ended the leg (Status=canceled or
	// completed) before it was answered.
	ReasonAPICanceled Reason = "api-canceled"
	// ReasonLostRace: another noun of the same Dial answered first.
	ReasonLostRace Reason = "lost-race"
	// ReasonTimeLimit: the leg's time limit ended an answered call.
	ReasonTimeLimit Reason = "time-limit"
	// ReasonError: Patchbay could not place or continue the leg (no route,
	// transport error, application failure).
	ReasonError Reason = "error"
)

// FromSIP returns the status of a leg that was never answered and ended
// with final response code (>= 300). Codes are mapped by RFC 3261 section
// 21 meaning: busy for 486 Busy Here, 600 Busy Everywhere and 603 Decline;
// no-answer for 408 Request Timeout, 480 Temporarily Unavailable and 487
// Request Terminated; failed for everything else, 3xx included (Patchbay
// does not follow redirects of dialled legs).
func FromSIP(code int) Status {
	switch code {
	case 486, 600, 603:
		return Busy
	case 408, 480, 487:
		return NoAnswer
	}

	return Failed
}

// End returns the final status of a leg. answered says whether the leg was
// ever answered (a 2xx to its INVITE); code is its final SIP response (0
// when none came); reason is why Patchbay ended it, if it did.
func End(answered bool, code int, reason Reason) Status {
	if answered {
		return Completed
	}
	switch reason {
	case ReasonTimeout:
		return NoAnswer
	case ReasonCallerCanceled, ReasonAPICanceled, ReasonLostRace:
		return Canceled
	case ReasonError:
		if code >= 300 {
			return FromSIP(code)
		}

		return Failed
	}
	if code >= 200 && code < 300 {
		return Completed
	}
	if code == 0 {
		return Failed
	}

	return FromSIP(code)
}

// SIPCode returns the final response a parent leg's caller receives when a
// call ends unanswered with status s: 486 for busy, 480 for no-answer, 487
// for canceled, 500 for failed, and 200 otherwise.
func SIPCode(s Status) int {
	switch s {
	case Busy:
		return 486
	case NoAnswer:
		return 480
	case Canceled:
		return 487
	case Failed:
		return 500
	}

	return 200
}
