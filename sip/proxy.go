package sip

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	sipmsg "github.com/emiago/sipgo/sip"

	"github.com/patchbay/patchbay/sip/location"
	"github.com/patchbay/patchbay/tenancy"
)

// cancelGrace is how long a cancelled branch may take to send its final
// response before its transaction is dropped (64*T1, RFC 3261 9.1).
const cancelGrace = 32 * time.Second

// tryingDelay is how long a proxied INVITE may go without any answer
// upstream before the edge sends 100 Trying (RFC 3261 17.2.1: the server
// transaction answers 100 unless the TU answers within 200 ms), which
// stops the caller's retransmissions. Callees that ring at once cost no
// extra message.
const tryingDelay = 200 * time.Millisecond

// txLinger is how long a proxied transaction is kept after its final
// response to absorb retransmissions, instead of sipgo's 64*T1 (32s) for
// Timers J, L, M and D: like Kamailio's default wait timer. At thousands of
// calls per second the RFC timers would hold gigabytes of transactions.
// INVITE retransmissions stop at the first provisional response and 2xx
// retransmissions still reach the caller statelessly, so 5s suffices.
const txLinger = 5 * time.Second

// linger ends tx after txLinger.
func linger(tx sipmsg.Transaction) {
	time.AfterFunc(txLinger, tx.Terminate)
}

// branchFailed is the reason phrase of the response the proxy makes up for
// a branch whose transaction ended without a final response (timeout,
// transport error).
const branchFailed = "Branch Failed"

// noBuild is a sipgo request option that leaves a prebuilt request as is.
func noBuild(*sipgo.Client, *sipmsg.Request) error { return nil }

// proxyToUser forks r to every registered contact of its Request-URI in
// domain d (RFC 3261 16, parallel forking): 404 for an unknown user, 480
// for a known user without bindings, 482 for a request that already passed
// through this server.
func (s *Server) proxyToUser(ctx context.Context, r *request, d *tenancy.Domain) {
	if s.hasOurVia(r.req) {
		s.reply(r, errLoop)
		return
	}
	aor := strings.ToLower(r.req.Recipient.User + "@" + d.DomainName)
	bindings, err := s.loc.Lookup(ctx, aor)
	if err != nil {
		s.reply(r, refuse(errInternal, err))
		return
	}
	bindings = s.reachable(bindings)
	if len(bindings) == 0 {
		s.reply(r, s.absentUser(ctx, d, r.req.Recipient.User))
		return
	}
	leg, err := s.openProxyLeg(r, d)
	if err != nil {
		s.reply(r, err)
		return
	}
	f := newFork(s, r)
	f.leg = leg
	f.run(ctx, bindings)
}

// reachable keeps the bindings this node can send to: connection flows held
// by another node are skipped.
func (s *Server) reachable(bs []location.Binding) []location.Binding {
	out := bs[:0]
	for _, b := range bs {
		if b.Transport != "udp" && b.Node != "" && b.Node != s.cfg.NodeID {
			continue
		}
		out = append(out, b)
	}

	return out
}

// absentUser tells a known user without bindings (480) from an unknown one
// (404). A user is known when a credential of the domain carries its name.
func (s *Server) absentUser(ctx context.Context, d *tenancy.Domain, user string) error {
	for _, kind := range [...]tenancy.MappingKind{tenancy.MappingRegistrations,
		tenancy.MappingCalls} {
		_, err := s.dir.DomainCredential(ctx, d.SID, kind, user)
		if err == nil {
			return errUnavailable
		}
		if !errors.Is(err, tenancy.ErrNotFound) {
			return refuse(errInternal, err)
		}
	}

	return errNotFound
}

// fork is one proxied out-of-dialog request and its branches. Only the
// goroutine running run touches its fields; branch readers talk to it
// through events.
type fork struct {
	s        *Server
	up       upstream
	events   chan branchEvent
	branches []*branch
	best     *sipmsg.Response // best final non-2xx so far (RFC 3261 16.7 step 6)
	answered bool
	upstream bool // a provisional or final response went to the caller
	stopped  bool // cancelled upstream, timed out or answered: no new branches ring
	timedOut bool
	leg      *proxyLeg // the call's CDR; nil when none is kept
}

// branch is one forwarded copy of the request.
type branch struct {
	req          *sipmsg.Request
	tx           sipmsg.ClientTransaction
	ringing      bool // got a provisional: CANCEL allowed (RFC 3261 9.1)
	cancelWanted bool
	cancelSent   bool
	done         bool
}

// branchEvent is a response (or the end) of one branch.
type branchEvent struct {
	b   *branch
	res *sipmsg.Response
	err error
}

func newFork(s *Server, r *request) *fork {
	return &fork{s: s, up: newUpstream(s, r)}
}

// run starts a branch per binding and relays responses until every branch
// has ended.
func (f *fork) run(ctx context.Context, bindings []location.Binding) {
	f.events = make(chan branchEvent, 4*len(bindings))
	for _, b := range bindings {
		f.start(ctx, b)
	}
	pending := len(f.branches)
	if pending == 0 {
		f.s.reply(f.up.r, errUnavailable)
		return
	}
	cancelled := make(chan struct{})
	var once sync.Once
	f.up.r.tx.OnCancel(func(*sipmsg.Request) { once.Do(func() { close(cancelled) }) })
	timerC := time.NewTimer(f.ringTimeout())
	defer timerC.Stop()
	var trying <-chan time.Time
	if f.up.r.req.IsInvite() {
		t := time.NewTimer(tryingDelay)
		defer t.Stop()
		trying = t.C
	}
	upDone := f.up.r.tx.Done() // the caller's transaction died (connection lost)
	for pending > 0 {
		select {
		case <-trying:
			trying = nil
			if !f.upstream {
				f.s.send(f.up.r, sipmsg.NewResponseFromRequest(f.up.r.req, 100, "Trying", nil))
			}
		case <-upDone:
			upDone = nil
			if !f.answered {
				f.stopAll(ctx)
			}
		case ev := <-f.events:
			if f.handle(ctx, ev) {
				pending--
			}
		case <-cancelled:
			cancelled = nil
			f.stopAll(ctx)
		case <-timerC.C:
			f.timedOut = true
			f.stopAll(ctx)
		}
	}
	f.finish(cancelled == nil)
	linger(f.up.r.tx)
}

// ringTimeout is Timer C for INVITE, 64*T1 for other methods.
func (f *fork) ringTimeout() time.Duration {
	if f.up.r.req.IsInvite() {
		return f.s.cfg.RingTimeout
	}

	return cancelGrace
}

// start forwards one copy of the request to binding b.
func (f *fork) start(ctx context.Context, b location.Binding) {
	up := f.up.r
	var uri sipmsg.Uri
	if err := sipmsg.ParseUri(b.Contact, &uri); err != nil {
		return
	}
	req := up.req.Clone()
	req.Recipient = uri
	consumeCredentials(req)
	markReceived(req, up.source)
	decMaxForwards(req)
	callee := flow{transport: b.Transport, addr: b.Received}
	if req.IsInvite() {
		tok := f.s.flowToken(flow{up.transport, up.source}, callee)
		f.s.addRecordRoute(req, up.transport, callee.transport, tok)
	}
	f.s.addVia(req, callee.transport)
	f.s.target(req, callee)
	tx, err := f.s.client.TransactionRequest(ctx, req, noBuild)
	if err != nil {
		f.s.log.Debug("branch failed", "call_id", callID(req), "error", err)
		return
	}
	br := &branch{req: req, tx: tx}
	tx.OnRetransmission(func(res *sipmsg.Response) { f.up.relayStateless(res) })
	f.branches = append(f.branches, br)
	go f.read(br)
}

// read passes the branch's responses to the fork until its final one.
func (f *fork) read(b *branch) {
	for {
		select {
		case res := <-b.tx.Responses():
			f.events <- branchEvent{b: b, res: res}
			if !res.IsProvisional() {
				return
			}
		case <-b.tx.Done():
			err := b.tx.Err()
			if err == nil {
				err = sipmsg.ErrTransactionTerminated
			}
			f.events <- branchEvent{b: b, err: err}
			return
		}
	}
}

// handle processes one branch event; it reports whether the branch ended.
func (f *fork) handle(ctx context.Context, ev branchEvent) bool {
	b := ev.b
	if ev.res == nil {
		b.done = true
		code := 408
		if errors.Is(ev.err, sipmsg.ErrTransactionTransport) {
			code = 503
		}
		f.consider(sipmsg.NewResponseFromRequest(b.req, code, branchFailed, nil))
		return true
	}
	res := ev.res
	switch {
	case res.IsProvisional():
		b.ringing = true
		if b.cancelWanted {
			f.s.cancelBranch(ctx, b)
		} else if res.StatusCode > 100 && !f.stopped {
			f.upstream = true
			f.up.relay(res)
		}
		return false
	case res.IsSuccess():
		b.done = true
		if b.req.IsInvite() && !f.answered {
			f.s.m.dialogs.Inc()
			f.s.logRequest(f.up.r, slog.LevelInfo, "call answered", "callee", b.req.Recipient.Host)
			f.leg.answered(f.s)
		}
		f.answered = true
		f.up.relay(res)
		f.stopAll(ctx)
		linger(b.tx)
		return true
	}
	b.done = true
	linger(b.tx)
	f.consider(res)
	if res.StatusCode >= 600 {
		f.stopAll(ctx)
	}

	return true
}

// consider keeps the best final response: a 6xx, else the lowest class.
func (f *fork) consider(res *sipmsg.Response) {
	switch {
	case f.best == nil:
		f.best = res
	case f.best.StatusCode >= 600:
	case res.StatusCode >= 600 || res.StatusCode/100 < f.best.StatusCode/100:
		f.best = res
	}
}

// stopAll cancels every branch still ringing; branches without a
// provisional response are cancelled as soon as one arrives.
func (f *fork) stopAll(ctx context.Context) {
	f.stopped = true
	for _, b := range f.branches {
		if b.done || b.cancelWanted {
			continue
		}
		b.cancelWanted = true
		if b.ringing {
			f.s.cancelBranch(ctx, b)
		}
	}
}

// finish sends the final answer upstream unless a 2xx went already or the
// caller cancelled (sipgo answered 487 to the CANCEL itself).
func (f *fork) finish(cancelled bool) {
	var answer *StatusError
	switch {
	case f.answered:
		return
	case cancelled:
		f.s.unanswered(f.leg, 487, true)

		return
	case f.timedOut:
		answer = errTimeout
	case f.best == nil:
		answer = errUnavailable
	case f.best.Reason == branchFailed:
		answer = &StatusError{Code: int(f.best.StatusCode), Reason: "Branch Failed"}
	case f.best.StatusCode == 503:
		// RFC 3261 16.7 step 6: a 503 from downstream is not passed on as is.
		answer = errInternal
	default:
		f.up.relay(f.best)
		f.s.unanswered(f.leg, int(f.best.StatusCode), false)

		return
	}
	f.s.reply(f.up.r, answer)
	f.s.unanswered(f.leg, answer.Code, false)
}

// cancelBranch sends CANCEL for a ringing branch (RFC 3261 9.1) and drops
// its transaction if no final response follows within cancelGrace.
func (s *Server) cancelBranch(ctx context.Context, b *branch) {
	if b.cancelSent {
		return
	}
	b.cancelSent = true
	c := newCancel(b.req)
	tx, err := s.client.TransactionRequest(ctx, c, noBuild)
	if err != nil {
		s.log.Debug("cancel failed", "call_id", callID(b.req), "error", err)
		return
	}
	go func() {
		select {
		case <-tx.Responses():
		case <-tx.Done():
		case <-time.After(cancelGrace):
		}
		tx.Terminate()
	}()
	time.AfterFunc(cancelGrace, b.tx.Terminate)
}

// newCancel builds the CANCEL of request inv, sharing its top Via branch.
func newCancel(inv *sipmsg.Request) *sipmsg.Request {
	c := sipmsg.NewRequest(sipmsg.CANCEL, *inv.Recipient.Clone())
	c.AppendHeader(sipmsg.HeaderClone(inv.Via()))
	c.AppendHeader(sipmsg.HeaderClone(inv.From()))
	c.AppendHeader(sipmsg.HeaderClone(inv.To()))
	c.AppendHeader(sipmsg.HeaderClone(inv.CallID()))
	c.AppendHeader(&sipmsg.CSeqHeader{SeqNo: inv.CSeq().SeqNo, MethodName: sipmsg.CANCEL})
	mf := sipmsg.MaxForwardsHeader(70)
	c.AppendHeader(&mf)
	sipmsg.CopyHeaders("Route", inv, c)
	c.SetBody(nil)
	c.SetTransport(inv.Transport())
	c.SetDestination(inv.Destination())
	c.Laddr = inv.Laddr

	return c
}

// decMaxForwards replaces Max-Forwards by one less (70 when absent). The
// header is replaced, not decremented in place, because sipgo shares it
// between a request and its clones.
func decMaxForwards(req *sipmsg.Request) {
	n := sipmsg.MaxForwardsHeader(70)
	if mf := req.MaxForwards(); mf != nil {
		n = sipmsg.MaxForwardsHeader(mf.Val() - 1)
		req.ReplaceHeader(&n)
		return
	}
	req.AppendHeader(&n)
}

// callID returns the Call-ID of a message for logs.
func callID(m sipmsg.Message) string {
	if h := m.CallID(); h != nil {
		return h.Value()
	}

	return ""
}
