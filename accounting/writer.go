package accounting

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mattn/go-sqlite3"
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
// to MaxBatch), lets more gather until CommitInterval has passed since the
// previous commit began, and commits them in one transaction, so that one
// fsync covers them all. It ends when Close closes the ops channel; what
// is queued by then is still committed.
func (l *Ledger) writeLoop() {
	defer close(l.writerDone)
	batch := make([]*op, 0, l.cfg.MaxBatch)
	errs := make([]error, 0, l.cfg.MaxBatch)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	var last time.Time
	for first := range l.ops {
		batch = append(batch[:0], first)
		var wait <-chan time.Time
		if rest := l.cfg.CommitInterval - time.Since(last); rest > 0 {
			timer.Reset(rest)
			wait = timer.C
		}
		batch = l.gather(batch, wait)
		timer.Stop()
		last = time.Now()
		errs = l.commit(batch, errs[:0])
		clear(batch)
	}
}

// gather adds waiting writes to batch, up to MaxBatch: those already
// queued when wait is nil, otherwise those arriving until wait fires.
func (l *Ledger) gather(batch []*op, wait <-chan time.Time) []*op {
	for len(batch) < l.cfg.MaxBatch {
		if wait == nil {
			select {
			case o, ok := <-l.ops:
				if !ok {
					return batch
				}
				batch = append(batch, o)

				continue
			default:
				return batch
			}
		}
		select {
		case o, ok := <-l.ops:
			if !ok {
				return batch
			}
			batch = append(batch, o)
		case <-wait:
			wait = nil
		}
	}

	return batch
}

// commitAttempts bounds how often a batch is retried while the database
// is locked by another writer; each attempt itself waits up to the
// connection's busy timeout (10 s with tenancy.OpenDB).
const commitAttempts = 6

// commit applies batch in one transaction and reports to each op. A batch
// that fails because the database is busy is retried whole, so that a long
// writer elsewhere delays CDRs instead of losing them.
func (l *Ledger) commit(batch []*op, errs []error) []error {
	var err error
	for attempt := 1; ; attempt++ {
		start := time.Now()
		errs, err = l.tryCommit(batch, errs[:0])
		l.metrics.commit.Observe(time.Since(start).Seconds())
		if err == nil || !busy(err) || attempt == commitAttempts {
			break
		}
		l.stalled.Store(&writeStall{err: err})
		l.log.Warn("accounting batch retried, database busy", "attempt", attempt,
			"writes", len(batch))
		l.metrics.retries.Inc()
		time.Sleep(time.Duration(attempt) * 50 * time.Millisecond)
	}
	if err != nil {
		l.stalled.Store(&writeStall{err: err})
		l.log.Error("accounting batch failed", "error", err, "writes", len(batch))
		for _, o := range batch {
			l.metrics.countWrite(err)
			o.report(err)
		}

		return errs
	}
	l.stalled.Store(nil)
	l.metrics.batches.Inc()
	l.metrics.batchSize.Observe(float64(len(batch)))
	for i, o := range batch {
		if errs[i] == nil && o.after != nil {
			o.after()
		}
		if o.done == nil && errs[i] != nil {
			l.log.Error("accounting write without waiter failed", "error", errs[i])
		}
		l.metrics.countWrite(errs[i])
		o.report(errs[i])
	}

	return errs
}

// tryCommit runs one attempt of a batch: it returns each op's error and the
// error, if any, that undid the whole batch.
func (l *Ledger) tryCommit(batch []*op, errs []error) ([]error, error) {
	ctx := context.Background()
	tx, err := l.db.BeginTx(ctx, nil)
	if err != nil {
		return errs, fmt.Errorf("accounting: begin: %w", err)
	}
	b := newBatch(tx, &l.stmts)
	for _, o := range batch {
		errs = append(errs, o.apply(ctx, b))
	}
	if err := b.flush(ctx); err != nil {
		_ = tx.Rollback()

		return errs, err
	}
	if err := tx.Commit(); err != nil {
		return errs, fmt.Errorf("accounting: commit: %w", err)
	}

	return errs, nil
}

// busy reports whether err means another connection holds the database.
func busy(err error) bool {
	var se sqlite3.Error

	return errors.As(err, &se) && (se.Code == sqlite3.ErrBusy || se.Code == sqlite3.ErrLocked)
}

// writeStall is why the writer could not commit its last batch.
type writeStall struct{ err error }

// Ready reports whether the ledger can record calls now: nil while its
// commits succeed, an error wrapping ErrUnavailable from the moment a batch
// fails or has to wait for a database locked by another writer until a
// commit succeeds again. Call control refuses new calls meanwhile, so that
// none is carried without a CDR. It costs one atomic load.
func (l *Ledger) Ready() error {
	if l.closed.Load() {
		return ErrClosed
	}
	if st := l.stalled.Load(); st != nil {
		return fmt.Errorf("%w: %w", ErrUnavailable, st.err)
	}

	return nil
}
