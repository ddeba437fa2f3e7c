package sip

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
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

// dialTarget is one destination of a Dial: the URIs to try in order
// (origination failover for a number) and digest credentials.
type dialTarget struct {
	noun     markup.Noun
	uris     []sipmsg.Uri
	user     string
	password string
	trunkSID string
}

// dialEvent is what a ringing child leg reports to the dial loop.
type dialEvent struct {
	l    *leg
	res  *sipmsg.Response // provisional or 2xx
	code int              // final failure code (0: none)
	done bool             // the leg attempt ended (answered or failed)
}

// dialState is one running Dial.
type dialState struct {
	c        *call
	d        *markup.Dial
	offer    []byte
	events   chan dialEvent
	ringing  bool
	early    []byte // answer already sent to the caller with 183
	winner   *leg
	winRes   *sipmsg.Response
	bestCode int
	reason   callstatus.Reason // written by the dial loop only
	timedOut atomic.Bool       // read by ringing goroutines
	recSID   string            // the Dial's recording, when record was asked
	recDur   time.Duration
}

// dial runs a Dial verb: ring every target, bridge the first answer,
// then ask the action URL (or go on) with the outcome.
func (c *call) dial(ctx context.Context, doc *webhook.Document,
	d *markup.Dial) (*webhook.Document, bool, error) {
	targets, err := c.dialTargets(ctx, d)
	if err != nil {
		return nil, false, err
	}
	ds := &dialState{c: c, d: d, events: make(chan dialEvent, 8*len(targets)+8)}
	status, dur, code := callstatus.Failed, time.Duration(0), 0
	if len(targets) > 0 {
		stopRingback := func() {}
		if !d.AnswerOnBridge {
			stopRingback = c.answerEarly(ctx)
		}
		status, dur, code = ds.run(ctx, targets)
		stopRingback()
	} else {
		c.log.Info("dial has no reachable target")
	}
	var sid string
	c.dialRefusal = nil
	if ds.winner != nil {
		sid = ds.winner.sid
	} else {
		c.dialRefusal = dialRefusal(status, code)
	}
	if c.ctx.Err() != nil && d.Action == "" {
		return nil, true, nil
	}
	if d.Action == "" {
		return nil, false, nil
	}
	u, err := webhook.ResolveURL(doc.URL, d.Action)
	if err != nil {
		return nil, false, err
	}
	fctx := ctx
	if c.ctx.Err() != nil {
		// The caller left: the action is still told, its answer ignored.
		var cancel context.CancelFunc
		fctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), teardownTimeout)
		defer cancel()
	}
	params := dialParams(status, sid, dur, code)
	if ds.recSID != "" {
		params.Set("RecordingSid", ds.recSID)
		params.Set("RecordingUrl", c.recordingURL(ds.recSID))
		params.Set("RecordingDuration", strconv.Itoa(int(ds.recDur.Round(time.Second)/
			time.Second)))
	}
	next, err := c.fetch(fctx, u, d.Method, params)
	if c.ctx.Err() != nil {
		return nil, true, nil
	}

	return next, false, err
}

// answerEarly answers a still unanswered caller before a Dial rings
// anyone (answerOnBridge="false"): Patchbay's media endpoint answers, and
// the caller hears ringback until the Dial connects, which bridges the
// callee in, or ends. Without relayed media (peer-to-peer mode) the caller
// stays unanswered until the callee answers. The returned function stops
// the ringback and waits for it.
func (c *call) answerEarly(ctx context.Context) func() {
	if c.isAnswered() || c.parent.uas == nil {
		return func() {}
	}
	if err := c.answerLocal(ctx); err != nil {
		c.log.Info("caller not answered before the dial", "error", err)

		return func() {}
	}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for rctx.Err() == nil {
			// Play fails with ErrBridged once the Dial bridges the callee in.
			if err := c.msess().Play(rctx, media.Ringback()); err != nil {
				return
			}
		}
	}()

	return func() {
		cancel()
		<-done
	}
}

// run rings the targets and returns the DialCallStatus, the bridged time
// and the SIP code of the outcome.
func (ds *dialState) run(ctx context.Context, targets []dialTarget) (callstatus.Status,
	time.Duration, int) {
	c := ds.c
	offer, err := c.offerForB(len(targets))
	if err != nil {
		c.log.Info("dial offer failed", "error", err)

		return callstatus.Failed, 0, mediaRefusal(err).Code
	}
	ds.offer = offer
	rctx, cancelRing := context.WithCancel(ctx)
	defer cancelRing()
	var wg sync.WaitGroup
	for _, t := range targets {
		wg.Add(1)
		c.cc.wg.Add(1)
		go func() {
			defer c.cc.wg.Done()
			defer wg.Done()
			ds.ring(rctx, t)
		}()
	}
	allDone := make(chan struct{})
	go func() { wg.Wait(); close(allDone) }()
	ds.await(ctx, allDone)
	cancelRing()
	c.cc.wg.Add(1)
	go func() {
		defer c.cc.wg.Done()
		ds.drainLate(ctx, allDone)
	}()
	if ds.winner == nil {
		status := callstatus.End(false, ds.bestCode, ds.reason)

		return status, 0, ds.bestCode
	}

	return ds.bridge(ctx)
}

// await handles ring events until an answer, the timeout, the caller
// leaving or every target failing.
func (ds *dialState) await(ctx context.Context, allDone <-chan struct{}) {
	timeout := time.NewTimer(ds.d.Timeout)
	defer timeout.Stop()
	for ds.winner == nil {
		select {
		case ev := <-ds.events:
			ds.handle(ctx, ev)
		case <-allDone:
			for len(ds.events) > 0 {
				ds.handle(ctx, <-ds.events)
			}
			if ds.winner == nil {
				return
			}
		case <-timeout.C:
			ds.timedOut.Store(true)
			ds.reason = callstatus.ReasonTimeout

			return
		case <-ctx.Done():
			ds.reason = callstatus.ReasonCallerCanceled

			return
		}
	}
}

func (ds *dialState) handle(ctx context.Context, ev dialEvent) {
	switch {
	case ev.res != nil && ev.res.IsSuccess():
		if ds.winner != nil {
			ds.c.cc.wg.Add(1)
			go func() {
				defer ds.c.cc.wg.Done()
				ds.dropLoser(ctx, ev.l)
			}()

			return
		}
		ds.winner, ds.winRes = ev.l, ev.res
	case ev.res != nil:
		ds.progress(ev.res)
	case ev.done:
		if ds.bestCode == 0 || betterCode(ev.code, ds.bestCode) {
			ds.bestCode = ev.code
		}
	}
}

// drainLate reads what the targets still report after the Dial was
// decided, until every one has ended: a target that answers now (when the
// Dial was cancelled, timed out or another won, before its INVITE could be
// cancelled) is dropped like a second answer. Without it such a leg would
// stay up with no BYE and its CDR open.
func (ds *dialState) drainLate(ctx context.Context, allDone <-chan struct{}) {
	late := func(ev dialEvent) {
		if ev.res != nil && ev.res.IsSuccess() && ev.l != ds.winner {
			ds.dropLoser(ctx, ev.l)
		}
	}
	for {
		select {
		case ev := <-ds.events:
			late(ev)
		case <-allDone:
			// Every target has ended: what is buffered is all there is.
			for len(ds.events) > 0 {
				late(<-ds.events)
			}

			return
		}
	}
}

// dropLoser ends a dialled leg that answered when the Dial no longer
// wanted it: it is acknowledged and hung up at once, removed from the
// dialogs call control answers for, and its CDR closed as canceled (lost
// race).
func (ds *dialState) dropLoser(ctx context.Context, l *leg) {
	c := ds.c
	tctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), teardownTimeout)
	defer cancel()
	if err := l.uac.Ack(tctx); err != nil {
		c.log.Debug("ack to a losing leg failed", "leg", l.sid, "error", err)
	}
	l.hangup(tctx)
	c.cc.removeLeg(l.callID)
	c.closeCDR(accounting.LegEnd{SID: l.sid,
		Status: callstatus.End(false, 200, callstatus.ReasonLostRace),
		Cause:  accounting.CauseSystem, SIPCode: 200}, accounting.Quality{})
	c.log.Info("dialled leg dropped: the dial no longer wanted it", "leg", l.sid)
}

// dialRefusal is what an unanswered caller is told when the application's
// documents run out after a Dial that connected no one: the Dial's outcome
// rather than a blanket 603, so that a carrier hears busy as busy and an
// overloaded Patchbay as 503, which lets it try another route. nil keeps
// the 603 (the caller left, or the failure says nothing useful upstream).
func dialRefusal(status callstatus.Status, code int) *StatusError {
	switch {
	case status == callstatus.Canceled:
		return nil
	case status == callstatus.Busy:
		return errBusyHere
	case status == callstatus.NoAnswer, code == 0:
		return errUnavailable
	case code == 404, code == 604:
		return errNotFound
	case code == 488, code == 606:
		return errNotAcceptable
	case code == 503:
		return errServiceUnavailable
	}

	return nil
}

// betterCode prefers busy answers over others when several legs fail
// (RFC 3261 section 16.7 step 6, simplified: 6xx and 486 win).
func betterCode(code, best int) bool {
	return code >= 600 || (code == 486 && best < 600)
}

// progress tells the unanswered caller that a target rings: 180, or 183
// with the answer to its offer when a lone target sends early media.
func (ds *dialState) progress(res *sipmsg.Response) {
	c := ds.c
	if c.parent.uas == nil || c.isAnswered() {
		return
	}
	body := res.Body()
	if res.StatusCode == 183 && len(body) > 0 && ds.early == nil && !c.localAnswerOnly() {
		ans, err := c.answerFromB(body)
		if err == nil {
			ds.early = ans
			hdr := sipmsg.NewHeader("Content-Type", sdpType)
			c.parent.uas.Respond(183, "Session Progress", ans, hdr)

			return
		}
		c.log.Debug("early media not passed", "error", err)
	}
	if !ds.ringing {
		ds.ringing = true
		c.parent.uas.Respond(180, "Ringing", nil)
	}
}

func (c *call) localAnswerOnly() bool {
	c.mu.Lock()
	defer c.mu.Unlock()

	return c.localAnswered
}

// offerForB returns the SDP offer for the dialled legs.
func (c *call) offerForB(targets int) ([]byte, error) {
	c.mu.Lock()
	local, answered := c.localAnswered, !c.answered.IsZero()
	c.mu.Unlock()
	switch {
	case c.msess() == nil && answered:
		return nil, errors.New("sip: no media engine to bridge an answered call")
	case c.msess() == nil:
		return c.offer, nil
	case local:
		return c.msess().OfferLocal()
	case answered:
		return nil, errors.New("sip: a bridged call cannot be dialled again")
	}

	return c.msess().Offer(media.LegA, c.offer)
}

// answerFromB turns B's SDP answer into the answer for the caller.
func (c *call) answerFromB(body []byte) ([]byte, error) {
	if c.msess() == nil {
		return body, nil
	}

	return c.msess().Answer(media.LegB, body)
}

// ring places one target's INVITE, failing over through its URIs, and
// reports to the dial loop. A losing leg closes its own CDR.
func (ds *dialState) ring(ctx context.Context, t dialTarget) {
	code := 0
	for i, uri := range t.uris {
		l, res, c2, err := ds.invite(ctx, t, uri)
		if err == nil {
			ds.events <- dialEvent{l: l, res: res}

			return
		}
		code = c2
		failover := t.trunkSID != "" && i+1 < len(t.uris) && ctx.Err() == nil &&
			(code == 0 || code == 408 || code >= 500 && code < 600)
		if !failover {
			break
		}
	}
	ds.events <- dialEvent{done: true, code: code}
}

// invite sends one INVITE and waits for its answer. On failure the child
// leg is closed and its final code returned.
func (ds *dialState) invite(ctx context.Context, t dialTarget,
	uri sipmsg.Uri) (*leg, *sipmsg.Response, int, error) {
	c := ds.c
	ua, err := c.cc.dialogUA()
	if err != nil {
		return nil, nil, 0, err
	}
	l := newLeg(c, newCallSID(), sipmsg.GenerateTagN(24), media.LegB)
	l.sendDigits = t.noun.SendDigits
	req := c.childInvite(ua, l, uri, ds.d.CallerID, ds.offer)
	c.cc.addLeg(l.callID, l)
	c.openCDR(accounting.LegStart{
		SID: l.sid, ParentSID: c.sid, AccountSID: c.acct.SID,
		Direction: accounting.DirOutboundDial, From: c.base.From, To: t.noun.Target,
		CallID: l.callID, TrunkSID: t.trunkSID,
	})
	uac, err := ua.WriteInvite(ctx, req)
	if err == nil {
		l.uac = uac
		err = uac.WaitAnswer(ctx, sipgo.AnswerOptions{
			Username: t.user, Password: t.password,
			OnResponse: func(res *sipmsg.Response) error {
				if res.StatusCode == 180 || res.StatusCode == 183 {
					c.cdrEvent(l.sid, false)
					ds.events <- dialEvent{l: l, res: res}
				}

				return nil
			},
		})
	}
	if err != nil && uac != nil && uac.InviteResponse != nil && uac.InviteResponse.IsSuccess() {
		// Answered while being given up: with no provisional response no
		// CANCEL could go out, and sipgo reports the 2xx as an error. The
		// callee's dialog exists, so it is reported like any answer, for
		// the dial loop (or drainLate) to bridge or drop.
		err = nil
	}
	if err == nil {
		return l, uac.InviteResponse, 200, nil
	}
	code := failureCode(err)
	status := callstatus.FromSIP(code)
	reason := callstatus.ReasonNone
	if ctx.Err() != nil {
		reason = callstatus.ReasonCallerCanceled
		if ds.timedOut.Load() {
			reason = callstatus.ReasonTimeout
		}
		status = callstatus.End(false, code, reason)
	}
	c.cc.removeLeg(l.callID)
	c.closeCDR(accounting.LegEnd{SID: l.sid, Status: status,
		Cause: accounting.CauseSIPError, SIPCode: code}, accounting.Quality{})
	c.log.Debug("dial target failed", "leg", l.sid, "code", code, "error", err)

	return nil, nil, code, err
}

// failureCode extracts the final status of a failed INVITE (0: none).
func failureCode(err error) int {
	var re *sipgo.ErrDialogResponse
	if errors.As(err, &re) {
		return int(re.Res.StatusCode)
	}
	var rv sipgo.ErrDialogResponse
	if errors.As(err, &rv) {
		return int(rv.Res.StatusCode)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return 487
	}

	return 0
}

// childInvite builds the INVITE of a dialled leg.
func (c *call) childInvite(ua *sipgo.DialogUA, l *leg, uri sipmsg.Uri, callerID string,
	offer []byte) *sipmsg.Request {
	req := sipmsg.NewRequest(sipmsg.INVITE, uri)
	fromUser := callerID
	if fromUser == "" {
		fromUser = strings.TrimPrefix(c.base.From, "sip:")
		fromUser, _, _ = strings.Cut(fromUser, "@")
	}
	from := &sipmsg.FromHeader{Address: sipmsg.Uri{Scheme: "sip", User: fromUser,
		Host: ua.ContactHDR.Address.Host}, Params: sipmsg.NewParams()}
	from.Params.Add("tag", sipmsg.GenerateTagN(16))
	to := &sipmsg.ToHeader{Address: sipmsg.Uri{Scheme: uri.Scheme, User: uri.User,
		Host: uri.Host, Port: uri.Port}}
	callID := sipmsg.CallIDHeader(l.callID)
	req.AppendHeader(from)
	req.AppendHeader(to)
	req.AppendHeader(&callID)
	if tr, ok := uri.UriParams.Get("transport"); ok && tr != "" {
		req.SetTransport(strings.ToUpper(tr))
	}
	if req.Transport() == "UDP" {
		// Send from the listening socket, as the proxy and trunks do: its
		// buffers are sized for bursts, and the callee's responses (and the
		// ACK's) need no socket of their own that a burst could overflow.
		if a, ok := c.cc.srv.Addr("udp").(*net.UDPAddr); ok {
			req.Laddr = sipmsg.Addr{IP: a.IP, Port: a.Port}
		}
	}
	if len(offer) > 0 {
		req.SetBody(offer)
		req.AppendHeader(sipmsg.NewHeader("Content-Type", sdpType))
	}

	return req
}

// dialTargets resolves the nouns of d.
func (c *call) dialTargets(ctx context.Context, d *markup.Dial) ([]dialTarget, error) {
	var out []dialTarget
	for _, n := range d.Nouns {
		ts, err := c.nounTargets(ctx, n)
		if err != nil {
			c.log.Info("dial noun skipped", "noun", n, "error", err)

			continue
		}
		out = append(out, ts...)
	}

	return out, nil
}

func (c *call) nounTargets(ctx context.Context, n markup.Noun) ([]dialTarget, error) {
	switch n.Kind {
	case markup.NounSIP:
		var u sipmsg.Uri
		if err := sipmsg.ParseUri(n.Target, &u); err != nil {
			return nil, fmt.Errorf("sip: dial %s: %w", n.Target, err)
		}

		return []dialTarget{{noun: n, uris: []sipmsg.Uri{u}, user: n.Username,
			password: n.Password}}, nil
	case markup.NounClient:
		return c.clientTargets(ctx, n)
	case markup.NounNumber:
		return c.numberTargets(ctx, n)
	}

	return nil, fmt.Errorf("sip: noun %s cannot be dialled", n.Kind)
}

// clientTargets returns one target per registered contact of the identity
// in any SIP domain of the account.
func (c *call) clientTargets(ctx context.Context, n markup.Noun) ([]dialTarget, error) {
	domains, _, err := c.cc.cfg.Directory.ListDomains(ctx, c.acct.SID,
		tenancy.Page{Number: 0, Size: 100})
	if err != nil {
		return nil, err
	}
	var out []dialTarget
	for _, d := range domains {
		bindings, err := c.cc.srv.Contacts(ctx, n.Target+"@"+d.DomainName)
		if err != nil {
			continue
		}
		for _, b := range bindings {
			var u sipmsg.Uri
			if err := sipmsg.ParseUri(b.Contact, &u); err != nil {
				continue
			}
			if b.Received.IsValid() && b.Transport == "udp" {
				// Reach the device where it registered from (RFC 5626 flow).
				u.Host, u.Port = b.Received.Addr().String(), int(b.Received.Port())
			}
			out = append(out, dialTarget{noun: n, uris: []sipmsg.Uri{u}})
		}
	}
	if len(out) == 0 {
		return nil, errors.New("sip: client not registered")
	}

	return out, nil
}

// numberTargets returns the account's trunk origination URIs for the
// number, in priority order, after the destination rules allow it.
func (c *call) numberTargets(ctx context.Context, n markup.Noun) ([]dialTarget, error) {
	if err := c.cc.allowedNumber(ctx, c.acct.SID, n.Target); err != nil {
		c.cc.notifyRefusal(c.acct.SID, c.sid, err)

		return nil, err
	}
	trunks, err := c.cc.cfg.Directory.AccountTrunks(ctx, c.acct.SID)
	if err != nil {
		return nil, err
	}
	for _, t := range trunks {
		uris := originationURIs(t, n.Target)
		if len(uris) > 0 {
			return []dialTarget{{noun: n, uris: uris, user: t.AuthUsername,
				password: t.AuthPassword, trunkSID: t.SID}}, nil
		}
	}

	return nil, ErrNoTargets
}

// originationURIs returns the trunk's usable origination URIs, in the order
// DialTrunk tries them (trunkTargets), with the number as user.
func originationURIs(t *tenancy.Trunk, number string) []sipmsg.Uri {
	targets := trunkTargets(t, rand.IntN)
	out := make([]sipmsg.Uri, 0, len(targets))
	for _, tg := range targets {
		u := tg.uri
		u.User = number
		out = append(out, u)
	}

	return out
}
