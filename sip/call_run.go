package sip

import (
	"context"
	"errors"
	"net/url"
	"strconv"
	"time"

	sipmsg "github.com/emiago/sipgo/sip"

	"github.com/patchbay/patchbay/accounting"
	"github.com/patchbay/patchbay/sip/callstatus"
	"github.com/patchbay/patchbay/sip/markup"
	"github.com/patchbay/patchbay/sip/webhook"
	"github.com/patchbay/patchbay/tenancy"
)

// maxDocuments bounds the documents one call may fetch, so that an
// application redirecting to itself cannot keep a call busy forever.
const maxDocuments = 100

// execute fetches the first document and runs documents until the call
// ends or the application has nothing more to say.
func (c *call) execute(rawURL, method string, extra url.Values) {
	doc, err := c.fetch(c.ctx, rawURL, method, extra)
	for n := 0; err == nil && doc != nil; n++ {
		if n == maxDocuments {
			err = errors.New("sip: too many documents for one call")

			break
		}
		doc, err = c.runDocument(doc)
	}
	if err != nil && c.ctx.Err() == nil {
		c.appFailed(err)

		return
	}
	if c.cc.ctx.Err() != nil {
		// CallControl.Close ended the call (shutdown or drain deadline).
		c.setEnd(callEnd{cause: accounting.CauseSystem, code: 200})
	}
	// Running out of verbs hangs up, like Hangup; a caller still unanswered
	// hears how the last Dial went.
	end := callEnd{status: callstatus.Completed, cause: accounting.CauseCalleeHangup, code: 200}
	if r := c.dialRefusal; r != nil && !c.isAnswered() {
		end.refusal, end.code = r, r.Code
	}
	c.setEnd(end)
}

// appFailed records an application failure: the call ends with 500 (or a
// BYE once answered) and the failure is logged for the account.
func (c *call) appFailed(err error) {
	code := 0
	var coder interface{ ErrorCode() int }
	if errors.As(err, &coder) {
		code = coder.ErrorCode()
	}
	c.log.Warn("application failed", "error_code", code, "error", err)
	requestURL := ""
	var fe *webhook.FetchError
	if errors.As(err, &fe) {
		requestURL = fe.URL
	}
	c.cc.notify(tenancy.Notification{AccountSID: c.acct.SID, CallSID: c.sid, ErrorCode: code,
		Level: tenancy.LevelError, Message: err.Error(), RequestURL: requestURL})
	c.setEnd(callEnd{reason: callstatus.ReasonError, cause: accounting.CauseAppError,
		code: 500, detail: "application error " + strconv.Itoa(code)})
}

// fetch asks the application for a document with the call's parameters
// plus extra. It records nothing: callers decide what a failure means.
func (c *call) fetch(ctx context.Context, rawURL, method string,
	extra url.Values) (*webhook.Document, error) {
	status := callstatus.Ringing
	if c.isAnswered() {
		status = callstatus.InProgress
	}
	params := c.params(string(status))
	for k, v := range extra {
		params[k] = v
	}

	start := time.Now()
	doc, err := c.cc.cfg.Webhooks.FetchMarkup(ctx, webhook.Fetch{
		AuthToken: c.acct.AuthToken, URL: rawURL, Method: method,
		FallbackURL: c.app.fallbackURL, FallbackMethod: c.app.fallbackMethod,
		Limits: c.cc.cfg.Markup, ConnectTimeout: c.hooks.connectTimeout,
		Timeout: c.hooks.timeout,
	}, params)
	c.cc.fetches.Add(1)
	c.cc.appWait.Add(int64(time.Since(start)))
	c.meter(accounting.CatWebhookRequests, 1, 1)
	if err != nil {
		c.meter(accounting.CatWebhookFailures, 1, 1)
	}

	return doc, err
}

// meter counts use of a service by the call's account; a failure to count
// is logged, never fatal to the call.
func (c *call) meter(cat accounting.Category, count, usage int64) {
	if c.cc.cfg.Ledger == nil {
		return
	}
	if err := c.cc.cfg.Ledger.MeterAsync(c.acct.SID, cat, count, usage); err != nil {
		c.log.Warn("use not metered", "category", cat, "error", err)
	}
}

// runDocument runs doc's verbs in order. It returns the next document
// (Redirect, an action, an API redirect) or nil when the call should end.
func (c *call) runDocument(doc *webhook.Document) (*webhook.Document, error) {
	for _, v := range doc.Response.Verbs {
		if c.ctx.Err() != nil {
			return nil, nil
		}
		vctx, vcancel := context.WithCancelCause(c.ctx)
		// The check for a pending update and the publication of the verb's
		// cancel are one step, so an update never slips between them.
		c.mu.Lock()
		c.verbCancel = vcancel
		pending := c.redirect != nil
		c.mu.Unlock()
		if pending {
			vcancel(errRedirected)
		}
		next, stop, err := c.runVerb(vctx, doc, v)
		vcancel(nil)
		if r := c.takeRedirect(); r != nil {
			return c.followRedirect(r)
		}
		if err != nil || next != nil || stop {
			return next, err
		}
	}

	return nil, nil
}

// runVerb runs one verb. stop ends the call; next continues with another
// document.
func (c *call) runVerb(ctx context.Context, doc *webhook.Document,
	v markup.Verb) (next *webhook.Document, stop bool, err error) {
	c.log.Debug("verb", "verb", v.VerbName())
	switch t := v.(type) {
	case *markup.Hangup:
		c.setEnd(callEnd{status: callstatus.Completed, cause: accounting.CauseCalleeHangup,
			code: 200})

		return nil, true, nil
	case *markup.Reject:
		c.reject(t)

		return nil, true, nil
	case *markup.Redirect:
		u, err := webhook.ResolveURL(doc.URL, t.URL)
		if err != nil {
			return nil, false, err
		}
		next, err := c.fetch(ctx, u, t.Method, nil)

		return next, false, err
	case *markup.Pause:
		pauseFor(ctx, t.Length)

		return nil, false, nil
	case *markup.Play:
		return nil, false, c.play(ctx, doc, t)
	case *markup.Gather:
		return c.gather(ctx, doc, t)
	case *markup.Record:
		return c.record(ctx, doc, t)
	case *markup.Dial:
		return c.dial(ctx, doc, t)
	}

	return nil, false, errors.New("sip: verb " + v.VerbName() + " cannot run")
}

// reject refuses the unanswered call with 486 or 603; once answered it
// just hangs up.
func (c *call) reject(r *markup.Reject) {
	code := r.SIPStatus()
	if c.isAnswered() || c.parent.uas == nil {
		c.setEnd(callEnd{cause: accounting.CauseCalleeHangup, code: 200})

		return
	}
	reason := "Decline"
	if code == 486 {
		reason = "Busy Here"
	}
	c.setEnd(callEnd{cause: accounting.CauseSIPError, code: code})
	if err := c.parent.uas.Respond(code, reason, nil); err != nil {
		c.log.Debug("reject not sent", "error", err)
	}
	c.markFinalSent()
}

func pauseFor(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// takeRedirect returns and clears a pending API update.
func (c *call) takeRedirect() *redirectReq {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := c.redirect
	c.redirect = nil

	return r
}

func (c *call) followRedirect(r *redirectReq) (*webhook.Document, error) {
	if r.end {
		c.setEnd(callEnd{reason: callstatus.ReasonAPICanceled,
			cause: accounting.CauseCalleeHangup, code: 200})
		c.cancel(errHungUp)

		return nil, nil
	}
	if r.twiml != "" {
		resp, err := markup.Parse([]byte(r.twiml), c.cc.cfg.Markup)
		if err != nil {
			return nil, err
		}

		return &webhook.Document{Response: resp, URL: c.app.voiceURL}, nil
	}

	return c.fetch(c.ctx, r.url, r.method, nil)
}

// teardown ends the call: answers or hangs up the caller, closes the media
// session and the CDR and reports the final status.
func (c *call) teardown() {
	c.cancel(errHungUp)
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.ctx), teardownTimeout)
	defer cancel()
	c.mu.Lock()
	end, answered := c.end, !c.answered.IsZero()
	c.mu.Unlock()
	status := end.status
	if status == "" {
		status = callstatus.End(answered, end.code, end.reason)
	}
	c.finishParent(ctx, answered, status, end)
	q := c.quality(c.parent.mleg)
	if c.msess() != nil {
		c.msess().Close()
	}
	cause := end.cause
	if cause == "" {
		cause = accounting.CauseCalleeHangup
	}
	c.closeCDR(accounting.LegEnd{SID: c.sid, Status: status,
		Cause: cause, SIPCode: end.code, SIPReason: end.detail}, q)
	c.event("completed", status, end.code)
	c.closeBooks()
	c.cc.removeLeg(c.parent.callID)
	c.cc.forgetCall(c)
	c.release()
	c.markFinalSent()
	c.log.Info("call ended", "status", status, "sip_code", end.code,
		"duration", time.Since(c.created).Round(time.Millisecond))
}

// finishParent sends the caller its final response or BYE.
func (c *call) finishParent(ctx context.Context, answered bool, status callstatus.Status,
	end callEnd) {
	select {
	case <-c.finalSent:
		if answered {
			c.parent.hangup(ctx)
		}

		return
	default:
	}
	if c.parent.uas == nil {
		c.parent.hangup(ctx)

		return
	}
	code := callstatus.SIPCode(status)
	reason := "Call Ended"
	switch {
	case end.cause == accounting.CauseAppError:
		code, reason = 500, "Application Error"
	case status == callstatus.Completed && end.refusal != nil:
		code, reason = end.refusal.Code, end.refusal.Reason
	case status == callstatus.Completed:
		code, reason = 603, "Decline"
	case code == 200:
		code = 500
	}
	var hdrs []sipmsg.Header
	if code == 503 {
		hdrs = append(hdrs, c.cc.retryAfter())
	}
	if err := c.parent.uas.Respond(code, reason, nil, hdrs...); err != nil {
		c.log.Debug("final response not sent", "error", err)
	}
}

// dialParams formats the Dial action parameters.
func dialParams(status callstatus.Status, sid string, dur time.Duration, code int) url.Values {
	v := url.Values{}
	v.Set("DialCallStatus", string(status))
	if sid != "" {
		v.Set("DialCallSid", sid)
	}
	v.Set("DialCallDuration", strconv.Itoa(int(dur.Round(time.Second)/time.Second)))
	if code != 0 {
		v.Set("DialSipResponseCode", strconv.Itoa(code))
	}

	return v
}
