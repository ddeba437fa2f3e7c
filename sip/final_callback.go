package sip

import (
	"context"

	"github.com/patchbay/patchbay/sip/webhook"
)

// armFinal stores the call's final status callback in the outbox as the
// call starts (webhook.Outbox.Arm), when its application wants the
// completed event: if the process dies before the call ends, the next
// start sends that event from the call's recovered CDR. The call's own
// completed event removes it. It runs on the call's bookkeeping queue,
// after the CDR is opened and before any later event of the call.
func (c *call) armFinal() {
	if c.cc.cfg.Outbox == nil || c.app.statusURL == "" || !c.app.events["completed"] ||
		!c.hooks.callbacks {
		return
	}
	ev := webhook.Event{AccountSID: c.acct.SID, CallSID: c.sid, URL: c.app.statusURL,
		Method: c.app.statusMethod, Params: c.base.Values()}
	c.book(func(ctx context.Context) {
		if err := c.cc.cfg.Outbox.Arm(ctx, ev); err != nil {
			c.log.Warn("final status callback not armed", "error", err)
		}
	})
}
