package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/patchbay/patchbay/accounting"
	"github.com/patchbay/patchbay/sip/callstatus"
	"github.com/patchbay/patchbay/sip/webhook"
)

// releaseCallbacks enqueues the completed status callback of every call
// the previous process did not finish (killed, or the host lost power):
// the outbox armed the callback when the call started, and opening the
// ledger closed the call's CDR, which tells how the call ended. It runs
// once the voice components are open; calls of this process are left
// alone (see webhook.Outbox.ReleaseArmed).
func (s *server) releaseCallbacks(ctx context.Context) error {
	if s.voice.outbox == nil {
		return nil
	}
	n, err := s.voice.outbox.ReleaseArmed(ctx, s.recoveredEnd)
	if err != nil {
		return fmt.Errorf("webhook outbox: %w", err)
	}
	if n > 0 {
		s.log.Warn("completed callbacks queued for calls cut short by a crash", "calls", n)
	}

	return nil
}

// recoveredEnd tells how a call cut short ended, from its CDR: the CDR's
// status (completed when it was answered, failed otherwise, as crash
// recovery closes it), its talk time, its SIP code or else 200 for a
// completed call and 500 for a failed one, and its end. A call without a
// CDR (the ledger refused it) is reported failed now; one whose CDR is
// still open (left by another node ID) is not known yet.
func (s *server) recoveredEnd(ctx context.Context, callSID string) (webhook.CallEnd, bool,
	error) {
	if s.voice.ledger == nil {
		return webhook.CallEnd{}, false, nil
	}
	cdr, err := s.voice.ledger.CDR(ctx, callSID)
	if errors.Is(err, accounting.ErrNotFound) {
		return webhook.CallEnd{Status: string(callstatus.Failed), SIPResponseCode: 500,
			Ended: time.Now()}, true, nil
	}
	if err != nil {
		return webhook.CallEnd{}, false, err
	}
	if cdr.Open() {
		return webhook.CallEnd{}, false, nil
	}
	end := webhook.CallEnd{Status: string(cdr.Status), Duration: cdr.TalkTime,
		SIPResponseCode: cdr.SIPCode, Ended: cdr.Ended}
	if end.SIPResponseCode == 0 {
		end.SIPResponseCode = callstatus.SIPCode(callstatus.Status(cdr.Status))
	}

	return end, true, nil
}
