package sip

import (
	"context"
	"errors"
	"time"

	"github.com/emiago/sipgo"
	sipmsg "github.com/emiago/sipgo/sip"

	"github.com/patchbay/patchbay/accounting"
	"github.com/patchbay/patchbay/media"
	"github.com/patchbay/patchbay/sip/callstatus"
	"github.com/patchbay/patchbay/sip/markup"
	"github.com/patchbay/patchbay/sip/webhook"
	"github.com/patchbay/patchbay/tenancy"
)

// newOutboundCall admits an API-created call and builds it; run rings it.
func (cc *CallControl) newOutboundCall(ctx context.Context, acct *tenancy.Account,
	req createReq) (*call, error) {
	if cc.cfg.Media == nil {
		return nil, refuse(errServiceUnavailable, errors.New("sip: API calls need a media engine"))
	}
	if err := cc.admitCall(ctx, acct); err != nil {
		cc.notifyRefusal(acct.SID, "", err)

		return nil, err
	}
	c := &call{
		cc: cc, sid: newCallSID(), acct: acct, app: req.app, created: time.Now(),
		timeLimit: req.timeLimit, finalSent: make(chan struct{}),
	}
	c.ctx, c.cancel = context.WithCancelCause(cc.ctx)
	c.base = webhook.CallParams{CallSID: c.sid, AccountSID: acct.SID, From: req.from,
		To: req.to, Direction: webhook.DirectionOutboundAPI}
	c.log = cc.log.With("call_sid", c.sid, "tenant", acct.SID, "direction", "outbound-api")
	c.parent = newLeg(c, c.sid, sipmsg.GenerateTagN(24), media.LegA)
	c.outbound = &req
	c.hooks = cc.webhookSettings(ctx, acct.SID, c.app)
	sess, err := cc.newSession(ctx, c)
	if err != nil {
		c.release()

		return nil, refuse(errInternal, err)
	}
	c.sessp.Store(sess)

	return c, nil
}

// nounFor turns a Calls API To into a Dial noun: "client:alice", a SIP
// URI, or a number.
func nounFor(to string) (markup.Noun, error) {
	switch {
	case len(to) > 7 && to[:7] == "client:":
		return markup.Noun{Kind: markup.NounClient, Target: to[7:]}, nil
	case len(to) > 4 && (to[:4] == "sip:" || to[:5] == "sips:"):
		return markup.Noun{Kind: markup.NounSIP, Target: to}, nil
	}
	n, ok := ParseE164(to)
	if !ok {
		return markup.Noun{}, errors.New("sip: To is not a number, SIP URI or client")
	}

	return markup.Noun{Kind: markup.NounNumber, Target: n}, nil
}

// ringOutbound rings the API call's To and answers it with Patchbay as the
// far end. The INVITE carries no SDP (RFC 3264 delayed offer): the callee
// offers in its 2xx and Patchbay answers in the ACK.
func (c *call) ringOutbound() error {
	noun, err := nounFor(c.base.To)
	if err != nil {
		return err
	}
	targets, err := c.nounTargets(c.ctx, noun)
	if err != nil || len(targets) == 0 {
		c.setEnd(callEnd{reason: callstatus.ReasonError, cause: accounting.CauseSIPError,
			code: 404})

		return errors.New("sip: no route to " + c.base.To)
	}
	t := targets[0]
	ua, err := c.cc.dialogUA()
	if err != nil {
		return err
	}
	req := c.childInvite(ua, c.parent, t.uris[0], c.base.From, nil)
	c.cc.addLeg(c.parent.callID, c.parent)
	rctx, cancel := context.WithTimeout(c.ctx, c.outbound.timeout)
	defer cancel()
	uac, err := ua.WriteInvite(rctx, req)
	if err == nil {
		c.parent.uac = uac
		err = uac.WaitAnswer(rctx, sipgo.AnswerOptions{Username: t.user, Password: t.password,
			OnResponse: func(res *sipmsg.Response) error {
				if res.StatusCode == 180 || res.StatusCode == 183 {
					c.ringingOnce()
				}

				return nil
			}})
	}
	if err != nil {
		return c.outboundFailed(rctx, err)
	}

	return c.ackOutbound(uac)
}

func (c *call) ringingOnce() {
	c.mu.Lock()
	first := !c.ringing
	c.ringing = true
	c.mu.Unlock()
	if first {
		c.cdrEvent(c.sid, false)
		c.event("ringing", callstatus.Ringing, 180)
	}
}

func (c *call) outboundFailed(rctx context.Context, err error) error {
	code := failureCode(err)
	reason := callstatus.ReasonNone
	switch {
	case c.ctx.Err() != nil:
		reason = callstatus.ReasonAPICanceled
	case rctx.Err() != nil:
		reason = callstatus.ReasonTimeout
	}
	c.setEnd(callEnd{reason: reason, cause: accounting.CauseSIPError, code: code})

	return err
}

// ackOutbound answers the callee's offer locally and sends it in the ACK.
func (c *call) ackOutbound(uac *sipgo.DialogClientSession) error {
	ans, err := c.msess().AnswerLocal(uac.InviteResponse.Body())
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.ctx), teardownTimeout)
	defer cancel()
	ack := sipmsg.NewRequest(sipmsg.ACK, uac.InviteResponse.Contact().Address)
	if err == nil {
		ack.SetBody(ans)
		ack.AppendHeader(sipmsg.NewHeader("Content-Type", sdpType))
	}
	if werr := uac.WriteAck(ctx, ack); werr != nil {
		return werr
	}
	c.markFinalSent()
	if err != nil {
		c.setEnd(callEnd{reason: callstatus.ReasonError, cause: accounting.CauseSystem,
			code: 488})
		c.parent.hangup(ctx)

		return err
	}
	c.mu.Lock()
	c.localAnswered = true
	c.mu.Unlock()
	c.markAnswered()

	return nil
}

// runOutbound is the goroutine of an API call.
func (c *call) runOutbound() {
	defer c.teardown()
	c.log.Info("call started", "from", c.base.From, "to", c.base.To)
	c.openCDR(accounting.LegStart{SID: c.sid, AccountSID: c.acct.SID,
		Direction: accounting.DirOutboundAPI, From: c.base.From, To: c.base.To,
		CallID: c.parent.callID, ApplicationSID: c.app.applicationSID, Created: c.created})
	c.event("initiated", callstatus.Initiated, 0)
	if err := c.ringOutbound(); err != nil {
		c.log.Info("outbound call not answered", "error", err)

		return
	}
	go c.watch()
	if c.outbound.twiml != "" {
		resp, err := markup.Parse([]byte(c.outbound.twiml), c.cc.cfg.Markup)
		if err != nil {
			c.appFailed(err)

			return
		}
		doc := &webhook.Document{Response: resp, URL: c.app.voiceURL}
		for n := 0; doc != nil && err == nil && n < maxDocuments; n++ {
			doc, err = c.runDocument(doc)
		}
		if err != nil && c.ctx.Err() == nil {
			c.appFailed(err)
		}

		return
	}
	c.execute(c.app.voiceURL, c.app.voiceMethod, nil)
}
