package sip

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	sipmsg "github.com/emiago/sipgo/sip"

	"github.com/patchbay/patchbay/media"
)

// leg is one SIP dialog of a call: the caller's (uas) or one Patchbay
// placed (uac). Exactly one of uas and uac is set.
type leg struct {
	c      *call
	sid    string
	callID string
	uas    *sipgo.DialogServerSession
	uac    *sipgo.DialogClientSession
	mleg   media.Leg

	// sendDigits are DTMF keys sent to a dialled number once it answers.
	sendDigits string

	gone     chan struct{} // closed when the far end sent BYE
	goneOnce sync.Once
	byeSent  atomic.Bool
	peer     atomic.Pointer[leg] // the bridged other side
	// reqMu serialises requests Patchbay sends on this dialog (CSeq order).
	reqMu sync.Mutex
}

func newLeg(c *call, sid, callID string, ml media.Leg) *leg {
	return &leg{c: c, sid: sid, callID: callID, mleg: ml, gone: make(chan struct{})}
}

func (l *leg) markGone() { l.goneOnce.Do(func() { close(l.gone) }) }

func (l *leg) isGone() bool {
	select {
	case <-l.gone:
		return true
	default:
		return false
	}
}

// inDialog handles a request the far end sent inside this leg's dialog.
func (l *leg) inDialog(ctx context.Context, req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	switch req.Method {
	case sipmsg.ACK:
		if l.uas != nil {
			l.uas.ReadAck(req, tx)
		}
	case sipmsg.BYE:
		l.readBye(req, tx)
	case sipmsg.INVITE, sipmsg.UPDATE:
		l.c.reoffer(ctx, l, req, tx)
	case sipmsg.INFO:
		l.c.relayInfo(ctx, l, req, tx)
	case sipmsg.OPTIONS:
		respondStatus(tx, req, 200, "OK")
	default:
		respondStatus(tx, req, 405, "Method Not Allowed")
	}
}

func (l *leg) readBye(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	var err error
	if l.uas != nil {
		err = l.uas.ReadBye(req, tx)
	} else {
		err = l.uac.ReadBye(req, tx)
	}
	if err != nil {
		respondStatus(tx, req, 200, "OK")
	}
	l.markGone()
}

// hangup sends BYE unless the far end already left; idempotent.
func (l *leg) hangup(ctx context.Context) {
	if l.isGone() || !l.byeSent.CompareAndSwap(false, true) {
		return
	}
	var err error
	if l.uas != nil {
		err = l.uas.Bye(ctx)
	} else if l.uac != nil {
		err = l.uac.Bye(ctx)
	}
	if err != nil {
		l.c.log.Debug("bye failed", "leg", l.sid, "error", err)
	}
	l.markGone()
}

// request sends a new request of method inside the leg's dialog and
// returns its final response.
func (l *leg) request(ctx context.Context, method sipmsg.RequestMethod, body []byte,
	ctype string) (*sipmsg.Response, error) {
	l.reqMu.Lock()
	defer l.reqMu.Unlock()
	var target sipmsg.Uri
	if l.uas != nil {
		target = l.uas.InviteRequest.Contact().Address
	} else {
		target = l.uac.InviteResponse.Contact().Address
	}
	req := sipmsg.NewRequest(method, *target.Clone())
	if body != nil {
		req.SetBody(body)
		req.AppendHeader(sipmsg.NewHeader("Content-Type", ctype))
	}
	if l.uas != nil {
		return l.uas.Do(ctx, req)
	}

	return l.uac.Do(ctx, req)
}

// target is the remote target of the dialog (RFC 3261 section 12.2).
func (l *leg) target() sipmsg.Uri {
	if l.uas != nil {
		return *l.uas.InviteRequest.Contact().Address.Clone()
	}

	return *l.uac.InviteResponse.Contact().Address.Clone()
}

// reinvite sends a re-INVITE without SDP and returns the body of its 2xx
// (the far end's offer). The caller must then call ackReinvite.
func (l *leg) reinvite(ctx context.Context) ([]byte, error) {
	l.reqMu.Lock()
	defer l.reqMu.Unlock()
	req := sipmsg.NewRequest(sipmsg.INVITE, l.target())
	var (
		tx  sipmsg.ClientTransaction
		err error
	)
	if l.uas != nil {
		tx, err = l.uas.TransactionRequest(ctx, req)
	} else {
		tx, err = l.uac.TransactionRequest(ctx, req)
	}
	if err != nil {
		return nil, err
	}
	defer tx.Terminate()
	for {
		select {
		case res := <-tx.Responses():
			if res.IsProvisional() {
				continue
			}
			if !res.IsSuccess() || len(res.Body()) == 0 {
				return nil, fmt.Errorf("re-INVITE answered %d without an offer",
					res.StatusCode)
			}

			return res.Body(), nil
		case <-tx.Done():
			return nil, fmt.Errorf("re-INVITE: %w", tx.Err())
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// ackReinvite acknowledges the 2xx of reinvite, carrying answer.
func (l *leg) ackReinvite(answer []byte) error {
	l.reqMu.Lock()
	defer l.reqMu.Unlock()
	ack := sipmsg.NewRequest(sipmsg.ACK, l.target())
	if len(answer) > 0 {
		ack.SetBody(answer)
		ack.AppendHeader(sipmsg.NewHeader("Content-Type", sdpType))
	}
	if l.uas != nil {
		return l.uas.WriteRequest(ack)
	}

	return l.uac.WriteRequest(ack)
}

// sendInfoDigits sends digits to the far end as SIP INFO
// application/dtmf-relay requests (RFC 6086), one per key, a 'w' waiting
// half a second. It stops at the first failure or when ctx ends.
func (l *leg) sendInfoDigits(ctx context.Context, digits string) {
	for _, d := range digits {
		if d == 'w' || d == 'W' {
			pauseFor(ctx, 500*time.Millisecond)

			continue
		}
		body := []byte("Signal=" + string(d) + "\r\nDuration=160\r\n")
		res, err := l.request(ctx, sipmsg.INFO, body, "application/dtmf-relay")
		if err != nil || !res.IsSuccess() || ctx.Err() != nil {
			return
		}
	}
}

// respondStatus answers req on tx with a bodiless final response; a nil
// tx (an ACK) is ignored.
func respondStatus(tx sipmsg.ServerTransaction, req *sipmsg.Request, code int,
	reason string) {
	if tx == nil {
		return
	}
	tx.Respond(sipmsg.NewResponseFromRequest(req, code, reason, nil))
}
