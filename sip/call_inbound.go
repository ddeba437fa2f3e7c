package sip

import (
	"context"
	"errors"
	"strings"
	"time"

	sipmsg "github.com/emiago/sipgo/sip"

	"github.com/patchbay/patchbay/accounting"
	"github.com/patchbay/patchbay/media"
	"github.com/patchbay/patchbay/sip/callstatus"
	"github.com/patchbay/patchbay/sip/webhook"
	"github.com/patchbay/patchbay/tenancy"
)

// maxSIPHeaders caps the X- headers copied into SipHeader_ parameters.
const maxSIPHeaders = 32

// newInboundCall admits in and builds its call, with the caller's dialog
// read and registered. Errors are refusals for the caller.
func (cc *CallControl) newInboundCall(ctx context.Context, in *InboundCall) (*call, error) {
	if err := cc.admitCall(ctx, in.Account); err != nil {
		return nil, err
	}
	ua, err := cc.dialogUA()
	if err != nil {
		cc.adm.release(in.Account.SID)

		return nil, refuse(errInternal, err)
	}
	uas, err := ua.ReadInvite(in.Request, in.Tx)
	if err != nil {
		cc.adm.release(in.Account.SID)

		return nil, refuse(errBadRequest, err)
	}
	req := in.Request
	callID := req.CallID().Value()
	c := &call{
		cc: cc, sid: newCallSID(), acct: in.Account, app: appFromRoute(in.Route),
		created: time.Now(), timeLimit: defaultTimeLimit, finalSent: make(chan struct{}),
		offer: req.Body(),
	}
	c.ctx, c.cancel = context.WithCancelCause(cc.ctx)
	c.base = webhook.CallParams{
		CallSID: c.sid, AccountSID: in.Account.SID, From: identityOf(req.From().Address),
		To: identityOf(req.Recipient), Direction: webhook.DirectionInbound,
		CallerName: req.From().DisplayName, SIPCallID: callID, SIPHeaders: xHeaders(req),
	}
	if h := req.GetHeader("Diversion"); h != nil {
		c.base.ForwardedFrom = diversionTarget(h.Value())
	}
	c.log = cc.log.With("call_sid", c.sid, "call_id", callID, "tenant", in.Account.SID,
		"direction", "inbound")
	c.parent = newLeg(c, c.sid, callID, media.LegA)
	c.parent.uas = uas
	c.secure = (in.Domain != nil && in.Domain.Secure) || (in.Trunk != nil && in.Trunk.Secure)
	sess, err := cc.newSession(ctx, c)
	if err != nil {
		cc.adm.release(in.Account.SID)

		return nil, refuse(errInternal, err)
	}
	c.sessp.Store(sess)
	cc.addLeg(callID, c.parent)
	c.trunkSID = trunkSIDOf(in)
	c.hooks = cc.webhookSettings(ctx, in.Account.SID, c.app)

	return c, nil
}

func trunkSIDOf(in *InboundCall) string {
	if in.Trunk != nil {
		return in.Trunk.SID
	}

	return ""
}

// newSession starts the call's media session as the account's services
// say: relayed unless media_relay is off or set to peer_to_peer. The
// caller's leg must use SRTP when it came through a secure domain or
// trunk; the dialled legs mirror the caller's choice while the srtp
// service is on and use plain RTP when it is off. Without a media engine
// it returns nil (SDP passes through).
func (cc *CallControl) newSession(ctx context.Context, c *call) (*media.Session, error) {
	if cc.cfg.Media == nil {
		return nil, nil
	}
	opts := media.SessionOptions{CallID: c.sid, Tenant: c.acct.SID, Mode: media.ModeRelay}
	svc, err := cc.cfg.Directory.ServiceSetting(ctx, c.acct.SID, tenancy.ServiceMediaRelay)
	if err != nil {
		return nil, err
	}
	if !svc.Enabled || svc.Options["media_mode"] == string(tenancy.MediaPeerToPeer) {
		opts.Mode = media.ModePeerToPeer
	}
	srtp, err := cc.cfg.Directory.ServiceSetting(ctx, c.acct.SID, tenancy.ServiceSRTP)
	if err != nil {
		return nil, err
	}
	if !srtp.Enabled {
		opts.SRTP[media.LegB] = media.SRTPOff
	}
	if c.secure {
		opts.SRTP[media.LegA] = media.SRTPRequire
	}

	return cc.cfg.Media.NewSession(opts)
}

// identityOf returns a number as E.164 when the URI's user is one, else
// the URI as "sip:user@host".
func identityOf(u sipmsg.Uri) string {
	if n, ok := ParseE164(u.User); ok {
		return n
	}
	if u.User == "" {
		return "sip:" + u.Host
	}

	return "sip:" + u.User + "@" + u.Host
}

// xHeaders collects the X- headers of req, first value of each.
func xHeaders(req *sipmsg.Request) map[string]string {
	out := map[string]string{}
	for _, h := range req.Headers() {
		name := h.Name()
		if len(name) < 3 || !strings.EqualFold(name[:2], "x-") || len(out) >= maxSIPHeaders {
			continue
		}
		if _, dup := out[name]; !dup {
			out[name] = h.Value()
		}
	}

	return out
}

// diversionTarget returns the number of a Diversion header (RFC 5806).
func diversionTarget(v string) string {
	var u sipmsg.Uri
	start, end := strings.IndexByte(v, '<'), strings.IndexByte(v, '>')
	if start >= 0 && end > start {
		v = v[start+1 : end]
	}
	if err := sipmsg.ParseUri(v, &u); err != nil {
		return ""
	}

	return identityOf(u)
}

// run is the call's goroutine: it reports the start, runs the application
// and tears the call down.
func (c *call) run() {
	defer c.teardown()
	c.log.Info("call started", "from", c.base.From, "to", c.base.To)
	c.openCDR(accounting.LegStart{
		SID: c.sid, AccountSID: c.acct.SID, Direction: accounting.Direction(c.base.Direction),
		From: c.base.From, To: c.base.To, ForwardedFrom: c.base.ForwardedFrom,
		CallerName: c.base.CallerName, CallID: c.parent.callID,
		ApplicationSID: c.app.applicationSID, TrunkSID: c.trunkSID, Created: c.created,
	})
	c.event("initiated", callstatus.Initiated, 0)
	if c.parent.uas != nil {
		c.parent.uas.Respond(100, "Trying", nil)
		c.cdrEvent(c.sid, false)
		c.event("ringing", callstatus.Ringing, 0)
	}
	go c.watch()
	c.execute(c.app.voiceURL, c.app.voiceMethod, nil)
}

// watch ends the call when the caller leaves (CANCEL or BYE) or the time
// limit passes.
func (c *call) watch() {
	limit := time.NewTimer(c.timeLimit)
	defer limit.Stop()
	var dialogDone <-chan struct{}
	if c.parent.uas != nil {
		dialogDone = c.parent.uas.Context().Done()
	}
	select {
	case <-c.ctx.Done():
		return
	case <-c.parent.gone:
		c.setEnd(callEnd{cause: accounting.CauseCallerHangup, code: 200})
	case <-dialogDone:
		c.callerLeft()
	case <-limit.C:
		c.setEnd(callEnd{reason: callstatus.ReasonTimeLimit, cause: accounting.CauseLimit})
	}
	c.cancel(errHungUp)
}

// callerLeft records how the caller's dialog ended by itself.
func (c *call) callerLeft() {
	c.parent.markGone()
	if c.isAnswered() {
		c.setEnd(callEnd{cause: accounting.CauseCallerHangup, code: 200})

		return
	}
	if errors.Is(context.Cause(c.parent.uas.Context()), sipmsg.ErrTransactionCanceled) {
		c.markFinalSent()
		c.setEnd(callEnd{reason: callstatus.ReasonCallerCanceled,
			cause: accounting.CauseCallerHangup, code: 487})
	}
}
