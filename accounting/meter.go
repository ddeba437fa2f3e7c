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
	o, err := l.meterOp(ctx, accountSID, c, count, usage)
	if err != nil {
		return err
	}

	return l.submit(ctx, o)
}

// MeterAsync is Meter without waiting for the commit, for hot paths that
// must not wait on the disk (tenancy.APIOptions.OnRequest). It blocks only
// while the writer's queue is full. The use is committed with the next
// batch, normally within milliseconds; a crash in that window loses it, and
// a failed commit is logged, not returned.
func (l *Ledger) MeterAsync(accountSID string, c Category, count, usage int64) error {
	ctx := context.Background()
	o, err := l.meterOp(ctx, accountSID, c, count, usage)
	if err != nil {
		return err
	}

	return l.enqueue(ctx, o)
}

// maxMetered bounds the count and usage of one Meter call, so that
// pricing cannot overflow.
const maxMetered = 1_000_000_000

func (l *Ledger) meterOp(ctx context.Context, accountSID string, c Category,
	count, usage int64) (*op, error) {
	switch {
	case accountSID == "":
		return nil, fmt.Errorf("%w: meter: account sid is empty", ErrInvalid)
	case !categories[c].metered:
		return nil, fmt.Errorf("%w: meter: category %q is not metered by services",
			ErrInvalid, c)
	case count < 0 || usage < 0 || (count == 0 && usage == 0) || count > maxMetered ||
		usage > maxMetered:
		return nil, fmt.Errorf("%w: meter %s: count %d, usage %d", ErrInvalid, c, count,
			usage)
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

	return o, nil
}
