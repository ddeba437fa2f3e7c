package webhook

import (
	"net/url"
	"strconv"
	"strings"
	"time"
)

// APIVersion is the ApiVersion parameter of every application request.
const APIVersion = "2010-04-01"

// CallbackSource is the CallbackSource parameter of status callbacks.
const CallbackSource = "call-progress-events"

// The Direction values of a leg.
const (
	DirectionInbound      = "inbound"
	DirectionOutboundAPI  = "outbound-api"
	DirectionOutboundDial = "outbound-dial"
)

// Caps on the SipHeader_X-* parameters copied from an INVITE.
const (
	maxSIPHeaderParams = 32
	maxSIPHeaderValue  = 1024
)

// CallParams are the well-known parameters describing a leg, sent with
// every request about it.
type CallParams struct {
	CallSID       string
	AccountSID    string
	From          string
	To            string
	CallStatus    string // queued, initiated, ringing, in-progress, completed, busy, ...
	Direction     string // inbound, outbound-api or outbound-dial
	ForwardedFrom string
	CallerName    string
	ParentCallSID string
	SIPCallID     string
	// SIPHeaders holds the INVITE's X- headers by name (e.g. "X-Customer");
	// others are skipped. At most 32 are sent, values cut at 1 KiB.
	SIPHeaders map[string]string
}

// Values returns the parameters: CallSid, AccountSid, From, To, Caller,
// Called, CallStatus, ApiVersion and Direction always; ForwardedFrom,
// CallerName, ParentCallSid and SipCallId when set; SipHeader_X-* for the
// X- headers.
func (p CallParams) Values() url.Values {
	v := url.Values{}
	v.Set("CallSid", p.CallSID)
	v.Set("AccountSid", p.AccountSID)
	v.Set("From", p.From)
	v.Set("To", p.To)
	v.Set("Caller", p.From)
	v.Set("Called", p.To)
	v.Set("CallStatus", p.CallStatus)
	v.Set("ApiVersion", APIVersion)
	v.Set("Direction", p.Direction)
	setIf(v, "ForwardedFrom", p.ForwardedFrom)
	setIf(v, "CallerName", p.CallerName)
	setIf(v, "ParentCallSid", p.ParentCallSID)
	setIf(v, "SipCallId", p.SIPCallID)
	n := 0
	for name, value := range p.SIPHeaders {
		if n == maxSIPHeaderParams {
			break
		}
		if len(name) < 3 || !strings.EqualFold(name[:2], "x-") {
			continue
		}
		if len(value) > maxSIPHeaderValue {
			value = value[:maxSIPHeaderValue]
		}
		v.Set("SipHeader_"+name, value)
		n++
	}

	return v
}

func setIf(v url.Values, k, s string) {
	if s != "" {
		v.Set(k, s)
	}
}

// StatusEvent is one call progress event for the status callback.
type StatusEvent struct {
	Call            CallParams // CallStatus is the event's status
	Duration        time.Duration
	SIPResponseCode int // 0: not sent
	Time            time.Time
}

// Values returns the call parameters plus CallDuration (whole seconds,
// rounded up, on the completed-class events), SipResponseCode, Timestamp
// (RFC 2822, UTC) and CallbackSource. The outbox adds SequenceNumber.
func (e StatusEvent) Values() url.Values {
	v := e.Call.Values()
	switch e.Call.CallStatus {
	case "completed", "busy", "no-answer", "failed", "canceled":
		secs := int64((e.Duration + time.Second - 1) / time.Second)
		v.Set("CallDuration", strconv.FormatInt(secs, 10))
		v.Set("Duration", strconv.FormatInt((secs+59)/60, 10))
	}
	if e.SIPResponseCode != 0 {
		v.Set("SipResponseCode", strconv.Itoa(e.SIPResponseCode))
	}
	v.Set("Timestamp", e.Time.UTC().Format("Mon, 02 Jan 2006 15:04:05 -0700"))
	v.Set("CallbackSource", CallbackSource)

	return v
}
