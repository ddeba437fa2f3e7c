package accounting

import (
	"fmt"
	"time"
)

// Direction says how a leg came to be, as the CPaaS call resource names it.
type Direction string

// The leg directions.
const (
	// DirInbound is a call that reached Patchbay from a phone or carrier.
	DirInbound Direction = "inbound"
	// DirOutboundAPI is a call created through the Calls API.
	DirOutboundAPI Direction = "outbound-api"
	// DirOutboundDial is a child leg dialled by an application's Dial verb.
	DirOutboundDial Direction = "outbound-dial"
	// DirTrunking is a leg passed through an elastic SIP trunk.
	DirTrunking Direction = "trunking"
)

// Valid reports whether d is one of the leg directions.
func (d Direction) Valid() bool {
	switch d {
	case DirInbound, DirOutboundAPI, DirOutboundDial, DirTrunking:
		return true
	}

	return false
}

// Status is a leg's call status as the CPaaS call resource names it.
type Status string

// The call statuses. Queued, Ringing and InProgress are the states of an
// open leg; the others are final and are the only ones LegEnd accepts.
const (
	StatusQueued     Status = "queued"
	StatusRinging    Status = "ringing"
	StatusInProgress Status = "in-progress"
	StatusCompleted  Status = "completed"
	StatusBusy       Status = "busy"
	StatusNoAnswer   Status = "no-answer"
	StatusFailed     Status = "failed"
	StatusCanceled   Status = "canceled"
)

// Final reports whether s ends a leg.
func (s Status) Final() bool {
	switch s {
	case StatusCompleted, StatusBusy, StatusNoAnswer, StatusFailed, StatusCanceled:
		return true
	}

	return false
}

// Valid reports whether s is a call status.
func (s Status) Valid() bool {
	return s.Final() || s == StatusQueued || s == StatusRinging || s == StatusInProgress
}

// EndCause says why a leg ended.
type EndCause string

// The end causes.
const (
	CauseCallerHangup EndCause = "caller-hangup"     // the calling side sent BYE or CANCEL
	CauseCalleeHangup EndCause = "callee-hangup"     // the called side sent BYE
	CauseSIPError     EndCause = "sip-error"         // a final SIP error; see SIPCode
	CauseMediaTimeout EndCause = "media-timeout"     // no RTP for the media timeout
	CauseLimit        EndCause = "limit"             // a time, spend or concurrency limit
	CauseAppError     EndCause = "application-error" // the application failed
	CauseSystem       EndCause = "system"            // Patchbay ended it (drain, shutdown)
	CauseNodeCrash    EndCause = "node-crash"        // closed by recovery after a crash
)

// Valid reports whether c is one of the end causes.
func (c EndCause) Valid() bool {
	switch c {
	case CauseCallerHangup, CauseCalleeHangup, CauseSIPError, CauseMediaTimeout,
		CauseLimit, CauseAppError, CauseSystem, CauseNodeCrash:
		return true
	}

	return false
}

// LegStart is what call control knows when a leg begins. OpenLeg records
// it; Created defaults to the ledger's clock when zero.
type LegStart struct {
	SID            string // "CA" + 32 hex; required
	ParentSID      string // the parent leg of a dialled child leg
	AccountSID     string // required
	Direction      Direction
	From           string
	To             string
	ForwardedFrom  string
	CallerName     string
	CallID         string // SIP Call-ID of this leg
	ApplicationSID string
	TrunkSID       string
	MediaMode      string // "relayed" or "peer_to_peer"
	Created        time.Time
}

func (s *LegStart) validate() error {
	switch {
	case s.SID == "" || len(s.SID) > 64:
		return fmt.Errorf("%w: leg sid %q", ErrInvalid, s.SID)
	case s.AccountSID == "" || len(s.AccountSID) > 64:
		return fmt.Errorf("%w: leg %s: account sid %q", ErrInvalid, s.SID, s.AccountSID)
	case !s.Direction.Valid():
		return fmt.Errorf("%w: leg %s: direction %q", ErrInvalid, s.SID, s.Direction)
	case s.MediaMode != "" && s.MediaMode != "relayed" && s.MediaMode != "peer_to_peer":
		return fmt.Errorf("%w: leg %s: media mode %q", ErrInvalid, s.SID, s.MediaMode)
	}

	return checkLengths(s.SID, map[string]string{"from": s.From, "to": s.To,
		"forwarded_from": s.ForwardedFrom, "caller_name": s.CallerName, "call_id": s.CallID,
		"application_sid": s.ApplicationSID, "trunk_sid": s.TrunkSID,
		"parent_sid": s.ParentSID})
}

// maxFieldLen bounds every text field of a leg.
const maxFieldLen = 1024

func checkLengths(sid string, fields map[string]string) error {
	for name, v := range fields {
		if len(v) > maxFieldLen {
			return fmt.Errorf("%w: leg %s: %s longer than %d bytes", ErrInvalid, sid, name,
				maxFieldLen)
		}
	}

	return nil
}

// Quality is the media layer's account of a leg. Packets and bytes are
// counted from Patchbay's point of view: sent towards the leg's endpoint and
// received from it. The zero value means no media was seen.
type Quality struct {
	Codec           string
	SRTP            bool
	PacketsSent     int64
	PacketsReceived int64
	BytesSent       int64
	BytesReceived   int64
	PacketsLost     int64         // received side, from sequence gaps or RTCP
	Jitter          time.Duration // interarrival jitter (RFC 3550 section 6.4.1)
	RTT             time.Duration // round-trip time from RTCP, zero when unknown
}

// LegEnd is what call control knows when a leg ends. Ended defaults to the
// ledger's clock when zero.
type LegEnd struct {
	SID               string
	Ended             time.Time
	Status            Status // a final status
	Cause             EndCause
	SIPCode           int    // the final SIP status of a failed leg, or of the BYE
	SIPReason         string // its reason phrase or Reason header text
	Quality           Quality
	RecordingDuration time.Duration // recorded audio of this leg
}

func (e *LegEnd) validate() error {
	switch {
	case e.SID == "":
		return fmt.Errorf("%w: leg sid is empty", ErrInvalid)
	case !e.Status.Final():
		return fmt.Errorf("%w: leg %s: final status %q", ErrInvalid, e.SID, e.Status)
	case e.Cause != "" && !e.Cause.Valid():
		return fmt.Errorf("%w: leg %s: end cause %q", ErrInvalid, e.SID, e.Cause)
	case e.SIPCode != 0 && (e.SIPCode < 100 || e.SIPCode > 699):
		return fmt.Errorf("%w: leg %s: sip code %d", ErrInvalid, e.SID, e.SIPCode)
	case e.RecordingDuration < 0:
		return fmt.Errorf("%w: leg %s: recording duration %s", ErrInvalid, e.SID,
			e.RecordingDuration)
	}
	q := e.Quality
	if q.PacketsSent < 0 || q.PacketsReceived < 0 || q.BytesSent < 0 || q.BytesReceived < 0 ||
		q.PacketsLost < 0 || q.Jitter < 0 || q.RTT < 0 {
		return fmt.Errorf("%w: leg %s: negative quality figure", ErrInvalid, e.SID)
	}

	return checkLengths(e.SID, map[string]string{"sip_reason": e.SIPReason,
		"codec": q.Codec})
}

// CDR is the durable record of one call leg, as read back from the ledger.
// Times are UTC; a zero time means the event did not happen (yet).
type CDR struct {
	LegStart
	Node       string
	Ringing    time.Time
	Answered   time.Time
	Ended      time.Time
	Status     Status
	Cause      EndCause
	SIPCode    int
	SIPReason  string
	RingTime   time.Duration // from ringing (or creation) to answer or end
	TalkTime   time.Duration // from answer to end
	Billable   time.Duration // talk time rounded by the price plan
	Quality    Quality
	Recording  time.Duration
	PriceMicro int64  // positive: the amount charged
	PriceUnit  string // ISO 4217 code of the price plan, e.g. "USD"
	Recovered  bool   // closed by crash recovery at the node's last heartbeat
}

// Open reports whether the leg has not ended yet.
func (c *CDR) Open() bool { return c.Ended.IsZero() }
