package sip

import (
	"log/slog"
	"net/netip"

	sipmsg "github.com/emiago/sipgo/sip"
)

// upstream is the side a proxied request came from, and where its
// responses go.
type upstream struct {
	s    *Server
	r    *request
	dest string // response destination (RFC 3261 18.2.2, RFC 3581 4)
}

func newUpstream(s *Server, r *request) upstream {
	return upstream{s: s, r: r, dest: responseDestination(r)}
}

// responseDestination is where responses to r go, the address sipgo's
// server transaction answers r at (RFC 3261 18.2.2, RFC 3581 4): the
// source of the request over connection transports or when its top Via
// asks for rport, otherwise the source host and the Via's port.
func responseDestination(r *request) string {
	via := r.req.Via()
	if via == nil || sipmsg.IsReliable(r.transport) {
		return r.source.String()
	}
	if rport, ok := via.Params.Get("rport"); ok && rport == "" {
		return r.source.String()
	}
	port := via.Port
	if port <= 0 {
		port = sipmsg.DefaultPort(r.transport)
	}

	return netip.AddrPortFrom(r.source.Addr(), uint16(port)).String()
}

// upstreamCopy turns a downstream response into the one to send upstream:
// this server's Via removed (RFC 3261 16.7 step 3). The copy shares its
// other header values with res; neither message is changed after this
// point, and cloning every header of every relayed response was the
// proxy's largest avoidable cost.
func (u upstream) upstreamCopy(res *sipmsg.Response) *sipmsg.Response {
	out := sipmsg.NewResponse(res.StatusCode, res.Reason)
	out.SipVersion = res.SipVersion
	ourVia := true
	for _, h := range res.Headers() {
		if ourVia && h.Name() == "Via" {
			ourVia = false
			continue
		}
		out.AppendHeader(h)
	}
	out.SetBody(res.Body())
	out.SetTransport(u.r.req.Transport())
	out.SetDestination(u.dest)

	return out
}

// relay sends a downstream response upstream on the server transaction,
// falling back to the transport for 2xx the transaction no longer takes.
func (u upstream) relay(res *sipmsg.Response) {
	out := u.upstreamCopy(res)
	if !out.IsProvisional() {
		u.s.m.answered(string(u.r.req.Method), int(out.StatusCode))
	}
	if err := u.r.tx.Respond(out); err != nil && out.IsSuccess() {
		u.relayStateless(res)
	}
}

// relayStateless forwards a response without a transaction: a
// retransmitted 2xx (RFC 3261 16.7, RFC 6026).
func (u upstream) relayStateless(res *sipmsg.Response) {
	if err := u.s.srv.WriteResponse(u.upstreamCopy(res)); err != nil {
		u.s.log.Debug("relay failed", "call_id", callID(res), "error", err)
	}
}

// handleInDialog routes a request inside a dialog. One that carries this
// server's Route goes on to the other end of the proxied dialog; any other
// goes to the DialogHandler (call control), else 481.
func (s *Server) handleInDialog(r *request) {
	s.stripPreloaded(r.req)
	if rt := r.req.Route(); rt == nil || !s.isOurs(rt.Address) {
		s.toDialogHandler(r)
		return
	}
	if mf := r.req.MaxForwards(); mf != nil && mf.Val() == 0 {
		s.reply(r, errTooManyHops)
		return
	}
	req, ok := s.prepareInDialog(r)
	if !ok {
		s.reply(r, errForbidden)
		return
	}
	tx, err := s.client.TransactionRequest(s.ctx, req, noBuild)
	if err != nil {
		s.log.Debug("in-dialog forward failed", "call_id", callID(req), "error", err)
		s.reply(r, refuse(errServiceUnavailable, err))
		return
	}
	defer tx.Terminate()
	s.relayAll(r, tx)
	linger(r.tx)
}

// relayAll relays a single forwarded transaction's responses upstream.
func (s *Server) relayAll(r *request, tx sipmsg.ClientTransaction) {
	up := newUpstream(s, r)
	tx.OnRetransmission(up.relayStateless)
	for {
		select {
		case res := <-tx.Responses():
			if res.StatusCode == 100 {
				continue
			}
			if r.req.Method == sipmsg.BYE && (res.IsSuccess() || res.StatusCode == 481) {
				s.m.dialogs.Dec()
				s.logRequest(r, slog.LevelInfo, "call ended", "status", int(res.StatusCode))
				s.proxyBye(r.req)
			}
			up.relay(res)
			if res.IsProvisional() {
				continue
			}
			return
		case <-tx.Done():
			s.reply(r, errTimeout)
			return
		case <-s.ctx.Done():
			return
		}
	}
}

// prepareInDialog clones r's request for forwarding: our Route entries
// popped, Via pushed, Max-Forwards decremented and, when this server is
// the last hop, aimed at the other end's recorded flow. It reports false
// when the flow token does not verify.
func (s *Server) prepareInDialog(r *request) (*sipmsg.Request, bool) {
	req := r.req
	if !req.IsAck() {
		// The server transaction answers from the original: forward a
		// copy. An ACK for a 2xx has no transaction and is forwarded as is.
		req = req.Clone()
	}
	tok, _ := s.popOurRoutes(req)
	a, b, ok := s.parseFlowToken(tok)
	if !ok {
		return nil, false
	}
	markReceived(req, r.source)
	decMaxForwards(req)
	dst, known := pickFlow(r.source, a, b)
	if req.Route() != nil || !known {
		// A further hop, or an end we cannot place: plain routing.
		s.addVia(req, r.transport)
		return req, true
	}
	s.addVia(req, dst.transport)
	s.target(req, dst)

	return req, true
}

// pickFlow returns the end of the dialog opposite to the request's source.
func pickFlow(src netip.AddrPort, a, b flow) (flow, bool) {
	switch {
	case src == a.addr:
		return b, true
	case src == b.addr:
		return a, true
	case src.Addr() == a.addr.Addr() && src.Addr() != b.addr.Addr():
		return b, true
	case src.Addr() == b.addr.Addr() && src.Addr() != a.addr.Addr():
		return a, true
	}

	return flow{}, false
}

// handleAck forwards an ACK for a 2xx along the proxied dialog
// statelessly, or hands it to the DialogHandler. An ACK for a non-2xx
// final response never gets here: its transaction absorbs it.
func (s *Server) handleAck(r *request) {
	s.stripPreloaded(r.req)
	if rt := r.req.Route(); rt == nil || !s.isOurs(rt.Address) {
		if h, ok := s.callHandler().(DialogHandler); ok {
			h.HandleInDialog(s.ctx, r.req, nil)
		}
		return
	}
	req, ok := s.prepareInDialog(r)
	if !ok {
		return
	}
	if err := s.client.WriteRequest(req, noBuild); err != nil {
		s.log.Debug("ack forward failed", "call_id", callID(req), "error", err)
	}
}

// toDialogHandler gives an in-dialog request to call control, or answers
// 481 (RFC 3261 12.2.2).
func (s *Server) toDialogHandler(r *request) {
	if h, ok := s.callHandler().(DialogHandler); ok && h.HandleInDialog(s.ctx, r.req, r.tx) {
		return
	}
	s.reply(r, errNoDialog)
}
