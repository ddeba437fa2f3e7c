package accounting

import (
	"context"
	"fmt"
)

// op is one write handed to the writer goroutine. apply runs inside the
// batch transaction; after runs once the batch is committed and only if
// apply succeeded; done receives apply's error or the commit's.
type op struct {
	apply func(ctx context.Context, b *batch) error
	after func()
	done  chan error
}

// report tells the waiter, if any, how o ended.
func (o *op) report(err error) {
	if o.done != nil {
		o.done <- err
	}
}

// submit hands o to the writer and waits until it is durable. Once the
// writer has it, the write completes even if ctx ends, so that a caller
// never mistakes a committed write for a lost one.
func (l *Ledger) submit(ctx context.Context, o *op) error {
	o.done = make(chan error, 1)
	if err := l.enqueue(ctx, o); err != nil {
		return err
	}

	return <-o.done
}

// enqueue hands o to the writer without waiting for its commit. An op with
// no done channel has its error logged by the writer.
func (l *Ledger) enqueue(ctx context.Context, o *op) error {
	l.sendMu.RLock()
	if l.closed.Load() {
		l.sendMu.RUnlock()

		return ErrClosed
	}
	select {
	case l.ops <- o:
	case <-ctx.Done():
		l.sendMu.RUnlock()

		return fmt.Errorf("accounting: write not queued: %w", ctx.Err())
	}
	l.sendMu.RUnlock()

	return nil
}

// writeLoop is the single writer: it takes whatever writes are waiting (up
// to MaxBatch) and commits them in one transaction, so that one fsync
// covers them all. It ends when Close closes the ops channel.
func (l *Ledger) writeLoop() {
	defer close(l.writerDone)
	batch := make([]*op, 0, l.cfg.MaxBatch)
	errs := make([]error, 0, l.cfg.MaxBatch)
	for first := range l.ops {
		batch = append(batch[:0], first)
	fill:
		for len(batch) < l.cfg.MaxBatch {
			select {
			case o, ok := <-l.ops:
				if !ok {
					break fill
				}
				batch = append(batch, o)
			default:
				break fill
			}
		}
		errs = l.commit(batch, errs[:0])
		clear(batch)
	}
}

// commit applies batch in one transaction and reports to each op.
func (l *Ledger) commit(batch []*op, errs []error) []error {
	ctx := context.Background()
	tx, err := l.db.BeginTx(ctx, nil)
	if err != nil {
		l.log.Error("accounting batch begin failed", "error", err, "writes", len(batch))
		for _, o := range batch {
			o.report(fmt.Errorf("accounting: begin: %w", err))
		}

		return errs
	}
	b := newBatch(tx, &l.stmts)
	for _, o := range batch {
		errs = append(errs, o.apply(ctx, b))
	}
	err = b.flush(ctx)
	if err == nil {
		err = tx.Commit()
	} else {
		tx.Rollback()
	}
	if err != nil {
		l.log.Error("accounting batch commit failed", "error", err, "writes", len(batch))
		for _, o := range batch {
			o.report(fmt.Errorf("accounting: commit: %w", err))
		}

		return errs
	}
	for i, o := range batch {
		if errs[i] == nil && o.after != nil {
			o.after()
		}
		if o.done == nil && errs[i] != nil {
			l.log.Error("accounting write without waiter failed", "error", errs[i])
		}
		o.report(errs[i])
	}

	return errs
}
