package sip

import (
	"context"
	"errors"
	"sync"
	"time"

	sipmsg "github.com/emiago/sipgo/sip"

	"github.com/patchbay/patchbay/accounting"
	"github.com/patchbay/patchbay/sip/callstatus"
	"github.com/patchbay/patchbay/sip/location"
	"github.com/patchbay/patchbay/tenancy"
)

// Recorder receives what the edge itself carries for accounts, without
// call control: the CDRs of calls the proxy forks between an account's
// devices, and the registrations the registrar grants.
// *accounting.Ledger implements it.
type Recorder interface {
	OpenLeg(ctx context.Context, s accounting.LegStart) error
	LegAnswered(ctx context.Context, sid string, at time.Time) error
	CloseLeg(ctx context.Context, e accounting.LegEnd) error
	MeterAsync(accountSID string, c accounting.Category, count, usage int64) error
	Ready() error
}

var _ Recorder = (*accounting.Ledger)(nil)

// cdrWriteTimeout bounds one CDR write of a proxied call.
const cdrWriteTimeout = 10 * time.Second

// recorderBox holds a Recorder in an atomic pointer.
type recorderBox struct{ r Recorder }

// SetRecorder installs r; nil records nothing. Install it before Start.
func (s *Server) SetRecorder(r Recorder) {
	if r == nil {
		s.recorder.Store(nil)

		return
	}
	s.recorder.Store(&recorderBox{r: r})
}

func (s *Server) rec() Recorder {
	if b := s.recorder.Load(); b != nil {
		return b.r
	}

	return nil
}

// proxyLeg is the CDR of one proxied call. Its events are written in order
// by a goroutine of its own, off the signalling path.
type proxyLeg struct {
	sid       string
	callID    string
	callerTag string
	events    chan func(ctx context.Context, r Recorder)
}

// proxyLegs tracks the proxied calls whose CDR is open, by Call-ID.
type proxyLegs struct {
	// mu guards byCallID and the sending on, and closing of, each leg's
	// events: a leg in byCallID has its events channel open.
	mu       sync.Mutex
	byCallID map[string]*proxyLeg
}

// openProxyLeg starts the CDR of an INVITE the proxy forks to a user of
// domain d, or reports that calls must be refused because CDRs cannot be
// written. It returns nil when no recorder is installed.
func (s *Server) openProxyLeg(r *request, d *tenancy.Domain) (*proxyLeg, error) {
	rec := s.rec()
	if rec == nil || !r.req.IsInvite() {
		return nil, nil
	}
	if err := rec.Ready(); err != nil {
		return nil, refuse(errNoBilling, err)
	}
	l := &proxyLeg{sid: newCallSID(), callID: callID(r.req),
		events: make(chan func(context.Context, Recorder), 8)}
	if from := r.req.From(); from != nil {
		l.callerTag, _ = from.Params.Get("tag")
	}
	start := accounting.LegStart{SID: l.sid, AccountSID: d.AccountSID,
		Direction: accounting.DirInbound, From: fromUser(r.req),
		To: r.req.Recipient.User, CallID: l.callID,
		MediaMode: string(tenancy.MediaPeerToPeer), Created: time.Now()}
	l.events <- func(ctx context.Context, r Recorder) { s.recordErr(l, r.OpenLeg(ctx, start)) }
	s.proxyLegs.mu.Lock()
	if s.proxyLegs.byCallID == nil {
		s.proxyLegs.byCallID = make(map[string]*proxyLeg)
	}
	s.proxyLegs.byCallID[l.callID] = l
	s.proxyLegs.mu.Unlock()
	s.wg.Add(1)
	go s.writeProxyLeg(l, rec)

	return l, nil
}

// writeProxyLeg writes l's events in order until the leg is closed. When
// the server closes first, it closes the CDR itself (cause system): the
// proxy keeps no dialog state to carry the call past a restart.
func (s *Server) writeProxyLeg(l *proxyLeg, rec Recorder) {
	defer s.wg.Done()
	write := func(ev func(context.Context, Recorder)) {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(s.ctx), cdrWriteTimeout)
		defer cancel()
		ev(ctx, rec)
	}
	for {
		select {
		case ev, ok := <-l.events:
			if !ok {
				return
			}
			write(ev)
		case <-s.ctx.Done():
			s.closeProxyLeg(l, accounting.LegEnd{SID: l.sid, Status: callstatus.Completed,
				Cause: accounting.CauseSystem, SIPCode: 200})
			for ev := range l.events {
				write(ev)
			}

			return
		}
	}
}

func (s *Server) recordErr(l *proxyLeg, err error) {
	if err != nil {
		s.log.Error("proxied call cdr write failed", "leg", l.sid, "call_id", l.callID,
			"error", err)
	}
}

// answered records that the proxied call was answered.
func (l *proxyLeg) answered(s *Server) {
	if l == nil {
		return
	}
	at := time.Now()
	s.proxyLegs.mu.Lock()
	defer s.proxyLegs.mu.Unlock()
	if s.proxyLegs.byCallID[l.callID] == l { // not closed yet: events is open
		l.events <- func(ctx context.Context, r Recorder) {
			s.recordErr(l, r.LegAnswered(ctx, l.sid, at))
		}
	}
}

// unanswered closes the CDR of a proxied call that got no 2xx: code is the
// final answer sent upstream (487 when the caller cancelled).
func (s *Server) unanswered(l *proxyLeg, code int, cancelled bool) {
	if l == nil {
		return
	}
	reason := callstatus.ReasonNone
	cause := accounting.CauseSIPError
	if cancelled {
		reason, cause, code = callstatus.ReasonCallerCanceled, accounting.CauseCallerHangup, 487
	}
	s.closeProxyLeg(l, accounting.LegEnd{SID: l.sid, Status: callstatus.End(false, code, reason),
		Cause: cause, SIPCode: code})
}

// proxyBye closes the CDR of the proxied call a BYE ended.
func (s *Server) proxyBye(req *sipmsg.Request) {
	s.proxyLegs.mu.Lock()
	l := s.proxyLegs.byCallID[callID(req)]
	s.proxyLegs.mu.Unlock()
	if l == nil {
		return
	}
	cause := accounting.CauseCalleeHangup
	if from := req.From(); from != nil {
		if tag, _ := from.Params.Get("tag"); tag == l.callerTag {
			cause = accounting.CauseCallerHangup
		}
	}
	s.closeProxyLeg(l, accounting.LegEnd{SID: l.sid, Status: callstatus.Completed,
		Cause: cause, SIPCode: 200})
}

// closeProxyLeg writes the end of l once and lets its writer finish.
func (s *Server) closeProxyLeg(l *proxyLeg, end accounting.LegEnd) {
	end.Ended = time.Now()
	s.proxyLegs.mu.Lock()
	defer s.proxyLegs.mu.Unlock()
	if s.proxyLegs.byCallID[l.callID] != l {
		return // closed already
	}
	delete(s.proxyLegs.byCallID, l.callID)
	// Sent under the lock, so that no event follows the close; events has
	// room for the at most three of a leg, so this never blocks.
	l.events <- func(ctx context.Context, r Recorder) { s.recordErr(l, r.CloseLeg(ctx, end)) }
	close(l.events)
}

// meterRegistration counts a granted REGISTER and the registration time it
// grants, in seconds, for the account's usage.
func (s *Server) meterRegistration(accountSID string, set []location.Binding) {
	rec := s.rec()
	if rec == nil || len(set) == 0 {
		return
	}
	var granted int64
	now := time.Now()
	for _, b := range set {
		granted += int64(b.Expires.Sub(now) / time.Second)
	}
	err := errors.Join(rec.MeterAsync(accountSID, accounting.CatRegistrations, 1, 1),
		rec.MeterAsync(accountSID, accounting.CatDeviceHours, int64(len(set)), granted))
	if err != nil {
		s.log.Warn("registration not metered", "account", accountSID, "error", err)
	}
}

// fromUser returns the user part of req's From header.
func fromUser(req *sipmsg.Request) string {
	if f := req.From(); f != nil {
		return f.Address.User
	}

	return ""
}
