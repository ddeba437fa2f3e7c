package sip

import (
	"context"
	"log/slog"
	"net/netip"
	"strings"

	sipmsg "github.com/emiago/sipgo/sip"

	"github.com/patchbay/patchbay/sip/guard"
)

// request is the per-request state shared by the handlers: the message,
// its transaction and where it came from.
type request struct {
	req       *sipmsg.Request
	tx        sipmsg.ServerTransaction
	source    netip.AddrPort
	transport string // lower case
	secure    bool

	// retransKey, when set, is the transaction key under which send caches
	// the final response (see absorbed); keyBuf backs it for short keys.
	retransKey []byte
	keyBuf     [96]byte
}

// dispatch is the single entry point for requests from sipgo, called on a
// goroutine of sipgo's transaction layer, one per request. The request is
// handled on a goroutine of the handler pool (see handlerPool).
func (s *Server) dispatch(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	s.handlers.run(func() { s.handle(req, tx) })
}

// handle checks req and hands it to the handler of its kind.
func (s *Server) handle(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	r := &request{req: req, tx: tx, transport: sipmsg.NetworkToLower(req.Transport())}
	r.secure = r.transport == "tls" || r.transport == "wss"
	src, err := netip.ParseAddrPort(req.Source())
	if err != nil {
		s.reply(r, errBadRequest)
		return
	}
	r.source = netip.AddrPortFrom(src.Addr().Unmap(), src.Port())
	if !s.streamGuard(r) || !s.checkRequest(r) {
		return
	}

	switch {
	case req.IsAck():
		s.handleAck(r)
	case req.IsCancel():
		// A CANCEL matching a pending INVITE is answered by sipgo itself.
		s.reply(r, errNoDialog)
	case inDialog(req):
		s.handleInDialog(r)
	case s.draining.Load():
		s.reply(r, errServiceUnavailable, sipmsg.NewHeader("Retry-After", "30"))
	case req.Recipient.IsEncrypted() && !r.secure:
		// A sips: Request-URI needs TLS on every hop (RFC 3261 26.2.2).
		s.reply(r, errSecureRequired)
	case req.Method == sipmsg.REGISTER:
		if !s.absorbed(r) {
			s.handleRegister(r)
		}
		s.dropTx(r)
	case req.Method == sipmsg.OPTIONS:
		if !s.absorbed(r) {
			s.handleOptions(r)
		}
		s.dropTx(r)
	case req.Method == sipmsg.INVITE, req.Method == sipmsg.MESSAGE:
		s.handleCall(r)
	default:
		s.reply(r, &StatusError{Code: 405, Reason: "Method Not Allowed"},
			sipmsg.NewHeader("Allow", allowMethods))
	}
}

// dropTx ends the server transaction of an answered REGISTER or OPTIONS at
// once instead of keeping it for Timer J (32s on UDP, RFC 3261 17.2.2),
// like a stateless registrar: at thousands of registrations per second
// the retained transactions would cost hundreds of MiB. Retransmissions
// over UDP are absorbed instead by the much smaller cache of final
// responses (retransmit.go); one the cache no longer holds is processed
// again, and its replayed digest nonce-count earns a fresh challenge,
// never a second binding.
func (s *Server) dropTx(r *request) {
	if r.tx != nil {
		r.tx.Terminate()
	}
}

// streamGuard applies the per-source guard to a request that came over a
// connection (UDP is guarded before parsing, in readFilter), answering 503
// when it refuses.
func (s *Server) streamGuard(r *request) bool {
	if r.transport == "udp" || r.req.IsAck() {
		return true
	}
	v := s.guard.Check(r.source.Addr())
	if v == guard.Allow {
		return true
	}
	s.m.guardDrops.WithLabelValues(v.String()).Inc()
	s.reply(r, errServiceUnavailable, sipmsg.NewHeader("Retry-After", "60"))

	return false
}

// allowMethods lists what the edge accepts.
const allowMethods = "INVITE, ACK, BYE, CANCEL, OPTIONS, REGISTER, MESSAGE, INFO, UPDATE, " +
	"PRACK, REFER, NOTIFY, SUBSCRIBE"

// inDialog reports whether req belongs to a dialog (RFC 3261 12.2: a To tag).
func inDialog(req *sipmsg.Request) bool {
	to := req.To()

	return to != nil && to.Params.Has("tag")
}

// reply answers r with the status of err and counts it. Internal errors
// are logged with the request's Call-ID and method.
func (s *Server) reply(r *request, err error, extra ...sipmsg.Header) {
	code, reason := statusOf(err)
	if code == errInternal.Code {
		s.logRequest(r, slog.LevelWarn, "request failed", "status", code, "error", err)
	}
	res := sipmsg.NewResponseFromRequest(r.req, code, reason, nil)
	for _, h := range extra {
		res.AppendHeader(h)
	}
	s.send(r, res)
}

// send sends res on r's transaction and counts it.
func (s *Server) send(r *request, res *sipmsg.Response) {
	if r.tx == nil {
		return
	}
	if !res.IsProvisional() {
		s.m.answered(string(r.req.Method), int(res.StatusCode))
	}
	if s.sendRemembered(r, res) {
		return
	}
	if err := r.tx.Respond(res); err != nil {
		s.log.Debug("respond failed", "method", string(r.req.Method), "error", err)
	}
}

// logRequest logs msg at level with r's Call-ID, method and source before
// args. It builds nothing when the level is off, and one record, not a
// child logger, when it is on: it runs for every call answered and ended.
func (s *Server) logRequest(r *request, level slog.Level, msg string, args ...any) {
	ctx := context.Background()
	if !s.log.Enabled(ctx, level) {
		return
	}
	s.log.Log(ctx, level, msg, append([]any{"call_id", callID(r.req),
		"method", string(r.req.Method), "source", r.source.String()}, args...)...)
}

// handleOptions answers keepalive and capability probes (RFC 3261 11.2).
// An OPTIONS to a user of a domain is answered by the edge as well: the
// edge does not reveal whether the user exists.
func (s *Server) handleOptions(r *request) {
	res := sipmsg.NewResponseFromRequest(r.req, 200, "OK", nil)
	res.AppendHeader(sipmsg.NewHeader("Allow", allowMethods))
	res.AppendHeader(sipmsg.NewHeader("Accept", "application/sdp"))
	s.send(r, res)
}

// normalizeAOR lower-cases an address-of-record "user@host".
func normalizeAOR(aor string) string {
	return strings.ToLower(strings.TrimPrefix(strings.TrimPrefix(aor, "sip:"), "sips:"))
}

// aorOf returns the address-of-record of uri.
func aorOf(uri sipmsg.Uri) string {
	return strings.ToLower(uri.User + "@" + uri.Host)
}
