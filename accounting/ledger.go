package accounting

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/patchbay/patchbay/tenancy"
	"github.com/prometheus/client_golang/prometheus"
)

// AccountTree is the view of the account hierarchy the ledger needs for
// price plan inheritance, sub-account roll-ups and IncludeSubaccounts.
// *tenancy.Store satisfies it.
type AccountTree interface {
	// AccountBySID returns an account; the ledger reads only its ParentSID.
	AccountBySID(ctx context.Context, sid string) (*tenancy.Account, error)
	// SubAccountSIDs lists every descendant of sid, at all depths.
	SubAccountSIDs(ctx context.Context, sid string) ([]string, error)
}

// parentOf returns the parent of sid, "" for a top-level account or when
// the ledger has no account tree.
func (l *Ledger) parentOf(ctx context.Context, sid string) (string, error) {
	if l.cfg.Accounts == nil {
		return "", nil
	}
	a, err := l.cfg.Accounts.AccountBySID(ctx, sid)
	if err != nil {
		return "", fmt.Errorf("accounting: parent of %s: %w", sid, err)
	}

	return a.ParentSID, nil
}

// Config configures a Ledger. DB and Node are required.
type Config struct {
	// DB is the shared database from tenancy.OpenDB. The ledger does not
	// close it.
	DB *sql.DB
	// Node names this server. Legs are tagged with it, and crash recovery
	// closes only this node's open legs.
	Node string
	// Logger receives the ledger's logs (slog.Default() when nil).
	Logger *slog.Logger
	// Accounts gives the account hierarchy. Nil means every account is
	// top-level: no plan inheritance and no sub-accounts.
	Accounts AccountTree
	// SpendCap returns an account's monthly spend cap in micro-units, zero
	// for none (tenancy.Limits.MonthlySpendCapMicro). Nil means no caps.
	SpendCap func(ctx context.Context, accountSID string) (int64, error)
	// OnSpendCap, when set, is called once per account, month and cap when
	// the account's spend with its running legs (SpendWithRunning) reaches
	// its cap, in its own goroutine, so that call control can end the account's
	// running calls. It must not call Close, which waits for it.
	OnSpendCap func(accountSID string, spentMicro, capMicro int64)
	// MaxBatch is the most writes committed in one transaction (512).
	MaxBatch int
	// CommitInterval is the shortest time between the starts of two
	// commits (5ms): a write arriving sooner waits, with the writes that
	// join it, until the interval has passed or MaxBatch writes are
	// waiting. Under load this bounds the commits (and fsyncs) per second
	// and makes each one carry more writes; a write after a quiet spell is
	// committed at once. Every write is still durable when it returns.
	// Negative: commit as soon as a write arrives.
	CommitInterval time.Duration
	// HeartbeatInterval is how often the node's heartbeat is recorded (1s).
	// A crashed node's open legs are closed at its last heartbeat, so this
	// bounds the talk time lost to a crash.
	HeartbeatInterval time.Duration
	// Now is the clock (time.Now when nil). Tests set it.
	Now func() time.Time
	// Registerer receives the ledger's metrics (patchbay_accounting_*);
	// nil keeps them in a private registry.
	Registerer prometheus.Registerer
}

// Ledger records CDRs and usage, rates them and reads them back. It is safe
// for concurrent use. Close stops its writer and heartbeat; it does not
// close the database.
type Ledger struct {
	db    *sql.DB
	cfg   Config
	log   *slog.Logger
	now   func() time.Time
	stmts statements

	// sendMu is held shared while a write is handed to the writer and
	// exclusively by Close, so that no write is sent on a closed channel.
	sendMu sync.RWMutex
	closed atomic.Bool
	ops    chan *op
	// stalled holds why the writer cannot commit (a *writeStall), or nil
	// once a commit succeeds again; Ready reads it.
	stalled atomic.Pointer[writeStall]

	stop       chan struct{}
	writerDone chan struct{}
	beatDone   chan struct{}
	closeOnce  sync.Once
	// bg counts background spend cap checks; Close waits for them.
	bg sync.WaitGroup

	// legsMu guards legs and byAccount: the open legs of this process, for
	// rating at close and for the spend of running legs.
	legsMu    sync.Mutex
	legs      map[string]*legState
	byAccount map[string]map[string]*legState

	// capMu guards notified, the month and cap each account was last
	// reported at (so that OnSpendCap fires once per account, month and
	// cap), and caps, the spend caps looked up lately.
	capMu    sync.Mutex
	notified map[string]string
	caps     map[string]cachedCap

	spend   spendBook
	plans   planCache
	metrics *metrics
}

// Open migrates the accounting tables, closes the legs a crash left open on
// cfg.Node, loads this month's spend totals and starts the writer and the
// heartbeat. The caller must Close the ledger.
func Open(ctx context.Context, cfg Config) (*Ledger, error) {
	if cfg.DB == nil || cfg.Node == "" {
		return nil, fmt.Errorf("%w: config needs db and node", ErrInvalid)
	}
	cfg = withDefaults(cfg)
	if err := Migrate(ctx, cfg.DB); err != nil {
		return nil, err
	}
	l := &Ledger{
		db:         cfg.DB,
		cfg:        cfg,
		log:        cfg.Logger.With("component", "accounting", "node", cfg.Node),
		now:        cfg.Now,
		ops:        make(chan *op, 2*cfg.MaxBatch),
		stop:       make(chan struct{}),
		writerDone: make(chan struct{}),
		beatDone:   make(chan struct{}),
		legs:       make(map[string]*legState),
		byAccount:  make(map[string]map[string]*legState),
		notified:   make(map[string]string),
		caps:       make(map[string]cachedCap),
	}
	l.spend.init()
	l.plans.init(l)
	m, err := newMetrics(cfg.Registerer, l.openLegCount)
	if err != nil {
		return nil, err
	}
	l.metrics = m
	if err := l.stmts.prepare(ctx, l.db); err != nil {
		return nil, err
	}
	if err := l.recover(ctx); err != nil {
		l.stmts.close()

		return nil, err
	}
	if err := l.spend.load(ctx, l.db, monthOf(l.now())); err != nil {
		l.stmts.close()

		return nil, err
	}
	go l.writeLoop()
	go l.heartbeatLoop()

	return l, nil
}

func withDefaults(cfg Config) Config {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = 512
	}
	if cfg.CommitInterval == 0 {
		cfg.CommitInterval = 5 * time.Millisecond
	}
	if cfg.HeartbeatInterval <= 0 {
		cfg.HeartbeatInterval = time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}

	return cfg
}

// Close stops the heartbeat, commits every write already handed to the
// writer and stops it. Later writes fail with ErrClosed. Open legs stay
// open in the database; the next Open on this node closes them. Close is
// idempotent.
func (l *Ledger) Close() error {
	l.closeOnce.Do(func() {
		close(l.stop)
		<-l.beatDone
		l.sendMu.Lock()
		l.closed.Store(true)
		close(l.ops)
		l.sendMu.Unlock()
		<-l.writerDone
		l.bg.Wait()
		l.stmts.close()
	})

	return nil
}

func (l *Ledger) openLegCount() float64 {
	l.legsMu.Lock()
	defer l.legsMu.Unlock()

	return float64(len(l.legs))
}

// Node returns the node name the ledger records legs under.
func (l *Ledger) Node() string { return l.cfg.Node }

// capLookupTimeout bounds one Config.SpendCap call made after a commit.
const capLookupTimeout = 5 * time.Second

// ms converts t to Unix milliseconds; the zero time is 0.
func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}

	return t.UnixMilli()
}

// fromMS converts Unix milliseconds to a UTC time; NULL or 0 is zero.
func fromMS(v sql.NullInt64) time.Time {
	if !v.Valid || v.Int64 == 0 {
		return time.Time{}
	}

	return time.UnixMilli(v.Int64).UTC()
}

func dayOf(t time.Time) string   { return t.UTC().Format(time.DateOnly) }
func monthOf(t time.Time) string { return t.UTC().Format("2006-01") }

// The tenancy store is the account tree and the limits source.
var (
	_ AccountTree  = (*tenancy.Store)(nil)
	_ LimitsSource = (*tenancy.Store)(nil)
)
