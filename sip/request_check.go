package sip

import (
	"slices"
	"strings"

	sipmsg "github.com/emiago/sipgo/sip"
)

// The refusals of the request check (RFC 3261 8.2, 16.3). Each maps to one
// SIP status; a duplicate or missing header and a CSeq mismatch are 400
// with a reason phrase naming the fault (see badHeader).
var (
	errVersion      = &StatusError{Code: 505, Reason: "Version Not Supported"}
	errNotImpl      = &StatusError{Code: 501, Reason: "Not Implemented"}
	errURIScheme    = &StatusError{Code: 416, Reason: "Unsupported URI Scheme"}
	errBadExtension = &StatusError{Code: 420, Reason: "Bad Extension"}
	errCSeqMismatch = &StatusError{Code: 400, Reason: "CSeq Method Does Not Match"}
)

// sipVersion is the only protocol version the edge speaks.
const sipVersion = "SIP/2.0"

// singleHeaders are the headers a request carries exactly once (RFC 3261
// 7.3.1 and 20: they are not comma-separated lists), and whether they are
// mandatory (RFC 3261 8.1.1). Max-Forwards and Content-Length may be
// absent. Via is mandatory and may repeat. sipgo names a header parsed
// from its compact form ("i", "l") by its full name.
var singleHeaders = [...]struct {
	name      string
	mandatory bool
}{
	{"Call-ID", true}, {"From", true}, {"To", true}, {"CSeq", true},
	{"Max-Forwards", false}, {"Content-Length", false},
}

// checkRequest runs the checks of RFC 3261 8.2 and 16.3 that need no
// routing decision, before dispatch. It answers a refused request and
// returns false; it returns true, having sent nothing, for a request that
// passes (see inspectRequest).
func (s *Server) checkRequest(r *request) bool {
	extra, err := inspectRequest(r.req)
	if err == nil {
		return true
	}
	code, reason := statusOf(err)
	res := sipmsg.NewResponseFromRequest(r.req, code, reason, nil)
	// A 505 states the version the edge speaks; every answer is SIP/2.0.
	res.SipVersion = sipVersion
	for _, h := range extra {
		res.AppendHeader(h)
	}
	s.send(r, res)

	return false
}

// inspectRequest returns the refusal of req, with the headers its answer
// needs (Allow with 501, Unsupported with 420), or nil when req passes.
// The order follows RFC 3261 8.2: the version, then the framing headers,
// the method (8.2.1), the Request-URI (8.2.2.1), the extensions (8.2.2.3)
// and Max-Forwards (16.3 step 2). An ACK always passes: it is never
// answered (RFC 3261 17.2.1).
func inspectRequest(req *sipmsg.Request) ([]sipmsg.Header, error) {
	if req.IsAck() {
		return nil, nil
	}
	if !strings.EqualFold(req.SipVersion, sipVersion) {
		return nil, errVersion
	}
	if err := checkSingleHeaders(req); err != nil {
		return nil, err
	}
	out := !inDialog(req)
	if out && !knownMethod(req.Method) {
		return []sipmsg.Header{sipmsg.NewHeader("Allow", allowMethods)}, errNotImpl
	}
	if cseq := req.CSeq(); cseq == nil || cseq.MethodName != req.Method {
		return nil, errCSeqMismatch
	}
	if sc := req.Recipient.Scheme; sc != "sip" && sc != "sips" {
		return nil, errURIScheme
	}
	if req.IsCancel() {
		// RFC 3261 9.2 and 16.10: a CANCEL is never refused for an
		// extension, and it is not forwarded on its own Max-Forwards.
		return nil, nil
	}
	if tags := unsupportedTags(req); len(tags) > 0 {
		return []sipmsg.Header{sipmsg.NewHeader("Unsupported", strings.Join(tags, ", "))},
			errBadExtension
	}
	if out && wouldForwardOptions(req) {
		return nil, errTooManyHops
	}

	return nil, nil
}

// checkSingleHeaders refuses a request that lacks a mandatory header or
// repeats a single-value one (RFC 4475 3.3.1 and 3.3.8) with 400, its
// reason phrase naming the header. A Via is mandatory too.
func checkSingleHeaders(req *sipmsg.Request) error {
	var count [len(singleHeaders)]int
	vias := 0
	for _, h := range req.Headers() {
		name := h.Name()
		if strings.EqualFold(name, "Via") {
			vias++
			continue
		}
		for i := range singleHeaders {
			if strings.EqualFold(singleHeaders[i].name, name) {
				count[i]++
				break
			}
		}
	}
	for i, h := range singleHeaders {
		switch {
		case count[i] > 1:
			return badHeader("Duplicate " + h.name)
		case count[i] == 0 && h.mandatory:
			return badHeader("Missing " + h.name)
		}
	}
	if vias == 0 {
		return badHeader("Missing Via")
	}

	return nil
}

// badHeader is a 400 whose reason phrase names the fault, e.g. "Duplicate
// Call-ID".
func badHeader(reason string) *StatusError {
	return &StatusError{Code: errBadRequest.Code, Reason: reason}
}

// knownMethod reports whether m is a method of RFC 3261 or of a common
// extension (RFC 3262, 3265, 3311, 3428, 3515, 3903, 6086). The edge
// answers a known method it does not allow with 405 (dispatch) and any
// other method with 501 (RFC 3261 8.2.1). Methods are case-sensitive.
func knownMethod(m sipmsg.RequestMethod) bool {
	switch m {
	case sipmsg.INVITE, sipmsg.ACK, sipmsg.BYE, sipmsg.CANCEL, sipmsg.REGISTER,
		sipmsg.OPTIONS, sipmsg.PRACK, sipmsg.SUBSCRIBE, sipmsg.NOTIFY, sipmsg.PUBLISH,
		sipmsg.INFO, sipmsg.REFER, sipmsg.MESSAGE, sipmsg.UPDATE:
		return true
	}

	return false
}

// unsupportedTags lists the option tags req requires that the edge does
// not implement, in the order they appear. The edge implements no SIP
// extension a peer can require, so every tag is listed. Proxy-Require is
// checked on every request (the edge is the first proxy, RFC 3261 16.3
// step 5); Require only on the requests the edge answers itself, OPTIONS
// and REGISTER (8.2.2.3): on an INVITE, MESSAGE or in-dialog request it
// is the far end's to check when the edge proxies it.
func unsupportedTags(req *sipmsg.Request) []string {
	uas := !inDialog(req) && (req.Method == sipmsg.OPTIONS || req.Method == sipmsg.REGISTER)
	var tags []string
	for _, h := range req.Headers() {
		name := h.Name()
		if !strings.EqualFold(name, "Proxy-Require") &&
			!(uas && strings.EqualFold(name, "Require")) {
			continue
		}
		for tag := range strings.SplitSeq(h.Value(), ",") {
			if tag = strings.TrimSpace(tag); tag != "" && !slices.Contains(tags, tag) {
				tags = append(tags, tag)
			}
		}
	}

	return tags
}

// wouldForwardOptions reports whether req is an OPTIONS with Max-Forwards
// 0 addressed to a user (the Request-URI has a user part): a request for
// a user the edge, as a proxy, would route on, so RFC 3261 16.3 step 2 and
// RFC 4475 3.3.11 want 483. An OPTIONS to the edge or a domain (no user
// part, the usual keepalive probe) is answered by the edge as its final
// recipient, which 16.3 allows for OPTIONS (RFC 3261 11). INVITE, MESSAGE
// and proxied in-dialog requests are refused with 483 on their own paths;
// a REGISTER ends at the registrar and is not forwarded.
func wouldForwardOptions(req *sipmsg.Request) bool {
	if req.Method != sipmsg.OPTIONS || req.Recipient.User == "" {
		return false
	}
	mf := req.MaxForwards()

	return mf != nil && mf.Val() == 0
}
