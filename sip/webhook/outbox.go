package webhook

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/patchbay/patchbay/tenancy"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// MigrationComponent names the outbox's schema in schema_migrations.
const MigrationComponent = "webhook_outbox"

// TokenFunc returns the auth token that signs requests for an account.
type TokenFunc func(ctx context.Context, accountSID string) (string, error)

// OutboxConfig tunes an Outbox. The zero value of each field selects its
// default; Client and Tokens are required.
type OutboxConfig struct {
	Client       *Client
	Tokens       TokenFunc
	Workers      int           // concurrent deliveries (4)
	MaxAttempts  int           // attempts before an event is given up (8)
	BackoffBase  time.Duration // wait after the first failure, doubled each time (1s)
	BackoffMax   time.Duration // longest wait between attempts (5m)
	PollInterval time.Duration // how often due retries are looked for (1s)
	Retention    time.Duration // delivered and given-up rows are kept this long (24h)
	Logger       *slog.Logger  // (slog.Default())
	Now          func() time.Time
}

func (c OutboxConfig) withDefaults() OutboxConfig {
	if c.Workers <= 0 {
		c.Workers = 4
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 8
	}
	if c.BackoffBase <= 0 {
		c.BackoffBase = time.Second
	}
	if c.BackoffMax <= 0 {
		c.BackoffMax = 5 * time.Minute
	}
	if c.PollInterval <= 0 {
		c.PollInterval = time.Second
	}
	if c.Retention <= 0 {
		c.Retention = 24 * time.Hour
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}

	return c
}

// Event is one status callback to deliver.
type Event struct {
	AccountSID string
	CallSID    string // events of one call are delivered strictly in order
	URL        string // absolute http(s) URL
	Method     string // GET or POST (POST)
	Params     url.Values
}

// OutboxStats is a snapshot of an Outbox's counters.
type OutboxStats struct {
	Enqueued  uint64
	Delivered uint64
	Retried   uint64 // failed attempts that will be retried
	GivenUp   uint64
}

// Outbox delivers status callbacks durably: Enqueue stores the event in
// SQLite (one insert), and a pool of workers delivers it in the background,
// retrying with exponential backoff up to MaxAttempts, strictly in order
// per call (a call's later event waits until its earlier one is delivered
// or given up). Undelivered events survive a restart: a new Outbox on the
// same database resumes them. Delivery is at least once: an event whose
// attempt was cut by Close or a crash is sent again.
//
// One Outbox must own a database's outbox table; several processes sharing
// one table would deliver events twice. Outbox is safe for concurrent use.
type Outbox struct {
	cfg    OutboxConfig
	log    *slog.Logger
	db     *sql.DB
	insert *sql.Stmt
	stmts  outboxStmts
	final  finalStmts

	opened int64 // when OpenOutbox ran, Unix ms: ReleaseArmed's cut

	ctx    context.Context // cancelled by Close
	cancel context.CancelCauseFunc
	wake   chan struct{}
	jobs   chan outboxRow
	writes chan *enqueueReq
	// writerDone is closed when the writer has stopped.
	writerDone chan struct{}
	wg         sync.WaitGroup
	once       sync.Once

	// mu guards inflight: ids of rows being delivered.
	mu       sync.Mutex
	inflight map[int64]bool

	enqueued, delivered, retried, givenUp atomic.Uint64
}

type outboxRow struct {
	id         int64
	accountSID string
	callSID    string
	seq        int64
	url        string
	method     string
	params     string
	attempts   int
}

// Migrate brings the outbox's tables in db up to date; OpenOutbox does it
// too, so only a separate migration step (patchbay migrate) needs it.
func Migrate(ctx context.Context, db *sql.DB) error {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return fmt.Errorf("webhook: outbox migrations: %w", err)
	}
	if err := tenancy.ApplyMigrations(ctx, db, MigrationComponent, sub); err != nil {
		return fmt.Errorf("webhook: outbox: %w", err)
	}

	return nil
}

// OpenOutbox applies the outbox's migrations to db and starts delivering.
// The caller keeps ownership of db and closes it after Close.
func OpenOutbox(ctx context.Context, db *sql.DB, cfg OutboxConfig) (*Outbox, error) {
	if cfg.Client == nil || cfg.Tokens == nil {
		return nil, errors.New("webhook: outbox needs a Client and a TokenFunc")
	}
	cfg = cfg.withDefaults()
	if err := Migrate(ctx, db); err != nil {
		return nil, err
	}
	insert, err := db.PrepareContext(ctx, `INSERT INTO webhook_outbox
		(account_sid, call_sid, seq, url, method, params, next_attempt, created)
		VALUES (?, ?, (SELECT COALESCE(MAX(seq), -1) + 1 FROM webhook_outbox
		WHERE call_sid = ?), ?, ?, ?, ?, ?)`)
	if err != nil {
		return nil, fmt.Errorf("webhook: outbox: prepare: %w", err)
	}

	var stmts outboxStmts
	var final finalStmts
	if err := errors.Join(stmts.prepare(ctx, db), final.prepare(ctx, db)); err != nil {
		insert.Close()
		stmts.close()
		final.close()

		return nil, fmt.Errorf("webhook: outbox: prepare: %w", err)
	}
	o := &Outbox{stmts: stmts, final: final,
		cfg: cfg, log: cfg.Logger.With("component", "webhook_outbox"), db: db,
		insert: insert, wake: make(chan struct{}, 1), jobs: make(chan outboxRow),
		writes: make(chan *enqueueReq, maxBatch), writerDone: make(chan struct{}),
		inflight: make(map[int64]bool), opened: cfg.Now().UnixMilli(),
	}
	o.ctx, o.cancel = context.WithCancelCause(context.WithoutCancel(ctx))
	o.wg.Add(2 + cfg.Workers)
	go o.write()
	go o.dispatch()
	for range cfg.Workers {
		go o.work()
	}

	return o, nil
}

// Enqueue stores ev for delivery and returns once it is durable; it does
// not wait for delivery. Concurrent Enqueues share one transaction (group
// commit), so their cost is about one fsync per batch, not per event. The
// event's SequenceNumber (from 0 per call) is assigned here. An event with
// a final CallStatus (completed, busy, no-answer, failed, canceled) also
// removes the call's armed final event (see Arm) in the same transaction.
func (o *Outbox) Enqueue(ctx context.Context, ev Event) error {
	method, err := o.checkEvent(ev)
	if err != nil {
		return err
	}
	now := o.cfg.Now().UnixMilli()
	req := &enqueueReq{args: []any{ev.AccountSID, ev.CallSID, ev.CallSID, ev.URL, method,
		ev.Params.Encode(), now, now}, done: make(chan error, 1)}
	if finalStatus(ev.Params.Get("CallStatus")) {
		req.disarm = ev.CallSID
	}
	if err := o.submit(ctx, req); err != nil {
		return err
	}
	o.enqueued.Add(1)
	o.poke()

	return nil
}

// checkEvent checks ev's target and returns its method (POST by default).
func (o *Outbox) checkEvent(ev Event) (string, error) {
	if o.ctx.Err() != nil {
		return "", ErrClosed
	}
	method := ev.Method
	if method == "" {
		method = http.MethodPost
	}
	if method != http.MethodGet && method != http.MethodPost {
		return "", fmt.Errorf("%w: method %q", ErrBadTarget, ev.Method)
	}
	if _, err := ResolveURL(ev.URL, ""); err != nil {
		return "", err
	}

	return method, nil
}

// submit hands req to the writer and waits for its commit.
func (o *Outbox) submit(ctx context.Context, req *enqueueReq) error {
	select {
	case o.writes <- req:
	case <-o.ctx.Done():
		return ErrClosed
	case <-ctx.Done():
		return fmt.Errorf("webhook: enqueue: %w", ctx.Err())
	}
	var err error
	select {
	case err = <-req.done:
	case <-o.writerDone:
		select {
		case err = <-req.done:
		default:
			return ErrClosed
		}
	case <-ctx.Done():
		return fmt.Errorf("webhook: enqueue: %w", ctx.Err())
	}
	if err != nil {
		return fmt.Errorf("webhook: enqueue: %w", err)
	}

	return nil
}

// enqueueReq is one event waiting for the writer's next commit: an event
// to deliver (args of insert), or with arm set a call's final event to
// hold (args of finalStmts.arm).
type enqueueReq struct {
	args   []any
	arm    bool
	disarm string // call whose armed final event the commit removes
	done   chan error
}

// maxBatch is the most events committed in one transaction.
const maxBatch = 256

// write commits queued events in groups, one transaction (one fsync) per
// group, so that many calls enqueueing at once share a commit. It runs
// until Close.
func (o *Outbox) write() {
	defer o.wg.Done()
	defer close(o.writerDone)
	var last time.Time // when the previous commit began
	for {
		var first *enqueueReq
		select {
		case first = <-o.writes:
		case <-o.ctx.Done():
			o.failPending()

			return
		}
		batch := o.gather([]*enqueueReq{first}, time.Until(last.Add(commitInterval)))
		last = time.Now()
		err := o.commit(batch)
		for _, r := range batch {
			r.done <- err
		}
	}
}

// commitInterval is the shortest time between the starts of two commits
// of the writer: under load, events arriving sooner wait for the next
// commit together, so that fsyncs per second stay bounded and each covers
// more events; an event after a quiet spell is committed at once.
const commitInterval = 5 * time.Millisecond

// gather adds queued events to batch, up to maxBatch: those arriving
// within wait (none when wait <= 0), then those already queued.
func (o *Outbox) gather(batch []*enqueueReq, wait time.Duration) []*enqueueReq {
	if wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
	linger:
		for len(batch) < maxBatch {
			select {
			case r := <-o.writes:
				batch = append(batch, r)
			case <-t.C:
				break linger
			case <-o.ctx.Done():
				break linger
			}
		}
	}
	for len(batch) < maxBatch {
		select {
		case r := <-o.writes:
			batch = append(batch, r)
		default:
			return batch
		}
	}

	return batch
}

func (o *Outbox) commit(batch []*enqueueReq) error {
	ctx := context.WithoutCancel(o.ctx)
	tx, err := o.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	stmt := tx.StmtContext(ctx, o.insert)
	for _, r := range batch {
		st := stmt
		if r.arm {
			st = tx.StmtContext(ctx, o.final.arm)
		}
		if _, err := st.ExecContext(ctx, r.args...); err != nil {
			return err
		}
		if r.disarm == "" {
			continue
		}
		if _, err := tx.StmtContext(ctx, o.final.disarm).ExecContext(ctx, r.disarm); err != nil {
			return err
		}
	}

	return tx.Commit()
}

// failPending answers events still queued at Close.
func (o *Outbox) failPending() {
	for {
		select {
		case r := <-o.writes:
			r.done <- ErrClosed
		default:
			return
		}
	}
}

// Stats returns a snapshot of the counters.
func (o *Outbox) Stats() OutboxStats {
	return OutboxStats{
		Enqueued: o.enqueued.Load(), Delivered: o.delivered.Load(),
		Retried: o.retried.Load(), GivenUp: o.givenUp.Load(),
	}
}

// Pending returns the number of events not yet delivered or given up.
func (o *Outbox) Pending(ctx context.Context) (int, error) {
	var n int
	err := o.db.QueryRowContext(ctx,
		`SELECT count(*) FROM webhook_outbox WHERE state = 0`).Scan(&n)

	return n, err
}

// Close stops delivery, cancelling attempts in flight (their events stay
// pending), and waits for the workers. It is idempotent and does not close
// the database.
func (o *Outbox) Close() error {
	o.once.Do(func() {
		o.cancel(ErrClosed)
		o.wg.Wait()
		o.insert.Close()
		o.stmts.close()
		o.final.close()
	})

	return nil
}

func (o *Outbox) poke() {
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

func (o *Outbox) backoff(attempts int) time.Duration {
	d := o.cfg.BackoffBase
	for i := 1; i < attempts && d < o.cfg.BackoffMax; i++ {
		d *= 2
	}
	d = min(d, o.cfg.BackoffMax)
	// Up to a fifth of jitter spreads retries of many calls to one host.
	return d - time.Duration(rand.Int64N(int64(d)/5+1))
}
