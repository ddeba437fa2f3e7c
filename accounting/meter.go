package accounting

import (
	"context"
	"fmt"
)

// Meter records use of a metered service by an account: count units and
// usage in the category's base unit (seconds for recording-minutes and
// registered-device-hours, else the same as count). It rates the use with
// the account's plan and adds it to the account's usage record of the
// category for today (UTC) and to its spend, durably, before returning.
//
// The registrar meters registrations (each successful REGISTER) and
// registered-device-hours (binding seconds, e.g. when a binding ends or
// hourly for live ones); the event sender webhook-requests and
// webhook-failures; the API api-requests; recording recordings, and
// recording-minutes for recordings not tied to a leg (a leg's recording is
// metered by CloseLeg from LegEnd.RecordingDuration, so it must not be
// metered again).
func (l *Ledger) Meter(ctx context.Context, accountSID string, c Category,
	count, usage int64) error {
	switch {
	case accountSID == "":
		return fmt.Errorf("%w: meter: account sid is empty", ErrInvalid)
	case !categories[c].metered:
		return fmt.Errorf("%w: meter: category %q is not metered by services", ErrInvalid, c)
	case count < 0 || usage < 0 || (count == 0 && usage == 0):
		return fmt.Errorf("%w: meter %s: count %d, usage %d", ErrInvalid, c, count, usage)
	}
	plan := l.plans.effective(ctx, accountSID)
	ch := plan.rateMeter(c, count, usage)
	unit := plan.unit()
	now := l.now()
	o := &op{
		apply: func(ctx context.Context, b *batch) error {
			b.add(accountSID, dayOf(now), monthOf(now), unit, ch)

			return nil
		},
		after: func() { l.spendAdded(accountSID, monthOf(now), ch.price) },
	}

	return l.submit(ctx, o)
}
