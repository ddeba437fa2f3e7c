package sip

import (
	"context"
	"time"

	sipmsg "github.com/emiago/sipgo/sip"

	"github.com/patchbay/patchbay/accounting"
	"github.com/patchbay/patchbay/media"
	"github.com/patchbay/patchbay/sip/callstatus"
	"github.com/patchbay/patchbay/sip/markup"
)

// bridge completes the answered child leg: ACK, media answer, the caller
// answered (when it was not), then waits until one side leaves, the
// Dial's timeLimit passes, the caller presses * (hangupOnStar) or the
// call is redirected. It returns the Dial outcome.
func (ds *dialState) bridge(ctx context.Context) (callstatus.Status, time.Duration, int) {
	c, b := ds.c, ds.winner
	tctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), teardownTimeout)
	defer cancel()
	if err := b.uac.Ack(tctx); err != nil {
		c.log.Info("ack to dialled leg failed", "leg", b.sid, "error", err)
	}
	// Peers are linked before the caller is answered, so that an in-dialog
	// request right after the ACK already finds the other side.
	c.parent.peer.Store(b)
	b.peer.Store(c.parent)
	if err := ds.connect(tctx); err != nil {
		c.log.Info("bridge failed", "leg", b.sid, "error", err)
		c.parent.peer.Store(nil)
		b.peer.Store(nil)
		b.hangup(tctx)
		ds.closeChild(accounting.StatusFailed, accounting.CauseSystem, 200, 0)

		return callstatus.Failed, 0, 488
	}
	start := time.Now()
	c.cdrEvent(b.sid, true)
	rec := ds.startRecording(ctx)
	if b.sendDigits != "" {
		dctx, stopDigits := context.WithCancel(ctx)
		defer stopDigits()
		go b.sendInfoDigits(dctx, b.sendDigits)
	}
	cause := ds.hold(ctx)
	ds.stopRecording(rec)
	c.parent.peer.Store(nil)
	b.peer.Store(nil)
	dur := time.Since(start)
	b.hangup(tctx)
	ds.closeChild(accounting.StatusCompleted, cause, 200, dur)

	return callstatus.Completed, dur, 200
}

// connect answers the caller with B's media (or bridges a locally answered
// caller to B).
func (ds *dialState) connect(ctx context.Context) error {
	c := ds.c
	body := ds.winRes.Body()
	if c.localAnswerOnly() {
		_, err := c.msess().Answer(media.LegB, body)
		c.mu.Lock()
		c.bridged = true
		c.mu.Unlock()

		return err
	}
	ans := ds.early
	if ans == nil {
		var err error
		if ans, err = c.answerFromB(body); err != nil {
			return err
		}
	}
	if c.isAnswered() {
		return nil
	}
	c.mu.Lock()
	c.bridged = true
	c.mu.Unlock()

	return c.answerWith(ans)
}

// answerWith answers the caller's INVITE with body and records the
// answer. It waits for the caller's ACK.
func (c *call) answerWith(body []byte) error {
	if c.parent.uas == nil {
		return nil
	}
	var err error
	if len(body) > 0 {
		err = c.parent.uas.RespondSDP(body)
	} else {
		err = c.parent.uas.Respond(200, "OK", nil)
	}
	c.markFinalSent()
	// A BYE processed before the ACK (state Ended, or Confirmed again when
	// the late ACK is read after it) still means the caller answered.
	if err != nil && c.parent.uas.LoadState() < sipmsg.DialogStateConfirmed {
		return err
	}
	c.markAnswered()

	return nil
}

func (c *call) markAnswered() {
	c.mu.Lock()
	first := c.answered.IsZero()
	if first {
		c.answered = time.Now()
	}
	c.mu.Unlock()
	if first {
		c.cdrEvent(c.sid, true)
		c.event("answered", callstatus.InProgress, 200)
	}
}

// startRecording starts the Dial's recording (record attribute) when the
// media is relayed and the account's recording service is on.
func (ds *dialState) startRecording(ctx context.Context) *media.Recording {
	c := ds.c
	if ds.d.Record == markup.RecordNone || ds.d.Record == "" || c.msess() == nil ||
		c.cc.cfg.RecordingsDir == "" || !c.recordingAllowed(ctx) {
		return nil
	}
	rec, err := c.msess().StartRecording(ds.d.TimeLimit)
	if err != nil {
		c.log.Info("dial recording not started", "error", err)

		return nil
	}

	return rec
}

func (ds *dialState) stopRecording(rec *media.Recording) {
	if rec == nil {
		return
	}
	sid := randomSID("RE")
	dur, err := ds.c.saveRecording(rec, sid)
	if err != nil {
		ds.c.log.Warn("dial recording lost", "error", err)

		return
	}
	ds.recSID, ds.recDur = sid, dur
}

// hold waits while A and B are bridged and returns why it ended.
func (ds *dialState) hold(ctx context.Context) accounting.EndCause {
	c, b := ds.c, ds.winner
	limit := time.NewTimer(ds.d.TimeLimit)
	defer limit.Stop()
	var dtmf <-chan media.DTMFEvent
	if ds.d.HangupOnStar && c.msess() != nil {
		dtmf = c.msess().DTMF()
	}
	var mediaDone <-chan struct{}
	if c.msess() != nil {
		mediaDone = c.msess().Done()
	}
	for {
		select {
		case <-b.gone:
			return accounting.CauseCalleeHangup
		case <-ctx.Done():
			if c.cc.ctx.Err() != nil {
				return accounting.CauseSystem // Close: shutdown or drain deadline
			}

			return accounting.CauseCallerHangup
		case <-limit.C:
			return accounting.CauseLimit
		case <-mediaDone:
			c.setEnd(callEnd{cause: accounting.CauseMediaTimeout, code: 200})
			c.cancel(errHungUp)

			return accounting.CauseMediaTimeout
		case ev := <-dtmf:
			if ev.Leg == media.LegA && ev.Digit == '*' {
				return accounting.CauseCallerHangup
			}
		}
	}
}

func (ds *dialState) closeChild(st accounting.Status, cause accounting.EndCause, code int,
	dur time.Duration) {
	c, b := ds.c, ds.winner
	c.cc.removeLeg(b.callID)
	c.closeCDR(accounting.LegEnd{SID: b.sid, Status: st, Cause: cause, SIPCode: code},
		c.quality(media.LegB))
	c.log.Info("dialled leg ended", "leg", b.sid, "status", st, "cause", cause,
		"duration", dur.Round(time.Millisecond))
}
