package sip

import (
	"context"
	"errors"
	"strings"

	sipmsg "github.com/emiago/sipgo/sip"

	"github.com/patchbay/patchbay/media"
)

const sdpType = "application/sdp"

// reoffer handles a re-INVITE or UPDATE from leg from (RFC 3311, RFC
// 3261 section 14): bridged, the offer goes through the media session to
// the peer and the peer's answer comes back; answered by Patchbay itself,
// the offer is answered locally; otherwise it is refused with 488.
func (c *call) reoffer(ctx context.Context, from *leg, req *sipmsg.Request,
	tx sipmsg.ServerTransaction) {
	if from.uas != nil {
		if err := from.uas.ReadRequest(req, tx); err != nil {
			respondStatus(tx, req, 500, "Server Internal Error")

			return
		}
	}
	body := req.Body()
	peer := from.peer.Load()
	switch {
	case peer != nil && !peer.isGone():
		c.forwardOffer(ctx, from, peer, req, tx)
	case len(body) == 0:
		respondStatus(tx, req, errNotAcceptable.Code, errNotAcceptable.Reason)
	case c.localAnswer():
		ans, err := c.msess().AnswerLocal(body)
		if err != nil {
			r := mediaRefusal(err)
			respondStatus(tx, req, r.Code, r.Reason)

			return
		}
		res := sipmsg.NewResponseFromRequest(req, 200, "OK", ans)
		res.AppendHeader(sipmsg.NewHeader("Content-Type", sdpType))
		tx.Respond(res)
	default:
		respondStatus(tx, req, errNotAcceptable.Code, errNotAcceptable.Reason)
	}
}

func (c *call) localAnswer() bool {
	c.mu.Lock()
	defer c.mu.Unlock()

	return c.msess() != nil && c.localAnswered && !c.bridged
}

// forwardOffer passes an in-dialog offer from one leg to the other.
func (c *call) forwardOffer(ctx context.Context, from, to *leg, req *sipmsg.Request,
	tx sipmsg.ServerTransaction) {
	body := req.Body()
	var err error
	if len(body) > 0 && c.msess() != nil {
		if body, err = c.msess().Offer(from.mleg, body); err != nil {
			c.log.Info("re-offer refused", "error", err)
			r := mediaRefusal(err)
			respondStatus(tx, req, r.Code, r.Reason)

			return
		}
	}
	ctype := sdpType
	if len(body) == 0 {
		ctype = ""
	}
	res, err := to.request(ctx, req.Method, body, ctype)
	if err != nil {
		respondStatus(tx, req, 500, "Server Internal Error")

		return
	}
	ans := res.Body()
	if res.IsSuccess() && len(ans) > 0 && c.msess() != nil {
		if ans, err = c.msess().Answer(to.mleg, ans); err != nil {
			c.log.Info("re-offer answer refused", "error", err)
			r := mediaRefusal(err)
			respondStatus(tx, req, r.Code, r.Reason)

			return
		}
	}
	out := sipmsg.NewResponseFromRequest(req, int(res.StatusCode), res.Reason, ans)
	if len(ans) > 0 {
		out.AppendHeader(sipmsg.NewHeader("Content-Type", sdpType))
	}
	tx.Respond(out)
}

// relayInfo passes INFO (RFC 6086, e.g. SIP INFO DTMF) to the bridged
// peer and its final status back. Unbridged, it is accepted, and an
// application/dtmf-relay digit is fed to the media session (for Gather
// and Record).
func (c *call) relayInfo(ctx context.Context, from *leg, req *sipmsg.Request,
	tx sipmsg.ServerTransaction) {
	ctype := ""
	if h := req.ContentType(); h != nil {
		ctype = h.Value()
	}
	peer := from.peer.Load()
	if peer == nil || peer.isGone() {
		if d, ok := infoDigit(ctype, req.Body()); ok && c.msess() != nil {
			c.msess().InjectDTMF(media.DTMFEvent{Digit: d, Leg: from.mleg, Source: "info"})
		}
		respondStatus(tx, req, 200, "OK")

		return
	}
	body := req.Body()
	if len(body) == 0 {
		body = nil
	}
	res, err := peer.request(ctx, sipmsg.INFO, body, ctype)
	if err != nil {
		respondStatus(tx, req, 500, "Server Internal Error")

		return
	}
	tx.Respond(sipmsg.NewResponseFromRequest(req, int(res.StatusCode), res.Reason, nil))
}

// infoDigit reads the Signal of an application/dtmf-relay INFO body.
func infoDigit(ctype string, body []byte) (rune, bool) {
	if !strings.EqualFold(strings.TrimSpace(ctype), "application/dtmf-relay") {
		return 0, false
	}
	for line := range strings.SplitSeq(string(body), "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(k), "signal") {
			continue
		}
		v = strings.TrimSpace(v)
		if len(v) == 1 && strings.ContainsAny(v, "0123456789*#ABCDabcd") {
			return rune(strings.ToUpper(v)[0]), true
		}
	}

	return 0, false
}

// mediaRefusal maps a media error to the SIP refusal its doc promises:
// 491 for a crossing offer, 503 when the port pool is exhausted, else 488.
func mediaRefusal(err error) *StatusError {
	switch {
	case errors.Is(err, media.ErrOfferPending):
		return errRequestPending
	case errors.Is(err, media.ErrNoPorts):
		return errServiceUnavailable
	}

	return errNotAcceptable
}
