package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/patchbay/patchbay/conf"
	"github.com/patchbay/patchbay/tenancy"
)

// Bounds on API listener connections, so that slow or idle clients cannot
// hold connections open: headers, whole request, response, idle keep-alive.
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 30 * time.Second
	writeTimeout      = 60 * time.Second
	idleTimeout       = 2 * time.Minute
)

// server is the running process: every component, opened in order by
// openServer and closed in reverse by Close. To add a component, open it
// in openServer after what it depends on, register its Close with onClose
// right away, add its readiness check with onReady and its SIGTERM drain
// with onDrain, and mount its HTTP handlers in routes.
type server struct {
	cfg        *conf.Config
	log        *slog.Logger
	registry   *prometheus.Registry // non-global; components register here
	db         *sql.DB
	store      *tenancy.Store
	adminToken string
	api        *tenancy.API // REST API; components mount account resources on it
	apiLn      net.Listener
	http       *http.Server
	voice      components // SIP edge, media, call control, accounting

	draining atomic.Bool // set when Run starts draining; /readyz then fails

	// closers, checks and drainers are only appended to during openServer.
	closers  []namedCloser
	checks   []readyCheck
	drainers []drainer

	closeOnce sync.Once
	closeErr  error
}

type namedCloser struct {
	name  string
	close func() error
}

// readyCheck reports whether one component can serve; /readyz runs all.
type readyCheck struct {
	name  string
	check func(ctx context.Context) error
}

// drainer lets one component finish its work in progress on SIGTERM: it
// stops taking new work and returns when the old is done or ctx ends.
type drainer struct {
	name  string
	drain func(ctx context.Context) error
}

// openServer opens every component in dependency order. On failure it
// closes what it had opened and returns the first error. announce receives
// the admin token when one is generated on first start.
func openServer(ctx context.Context, cfg *conf.Config, log *slog.Logger,
	announce io.Writer) (*server, error) {
	s := &server{cfg: cfg, log: log, registry: newRegistry()}
	if err := s.open(ctx, announce); err != nil {
		return nil, errors.Join(err, s.Close())
	}

	return s, nil
}

func (s *server) open(ctx context.Context, announce io.Writer) error {
	if err := s.openDataDir(); err != nil {
		return err
	}
	// Bind before anything has visible effects, such as printing a new
	// admin token, so that a busy port fails the start cleanly.
	if err := s.listen(); err != nil {
		return err
	}
	if err := s.openStore(ctx); err != nil {
		return err
	}

	if err := s.openAPI(announce); err != nil {
		return err
	}
	if err := s.openComponents(ctx); err != nil {
		return err
	}

	return s.releaseCallbacks(ctx)
}

// openDataDir creates and locks the data folder.
func (s *server) openDataDir() error {
	if err := prepareDataDir(s.cfg.DataDir); err != nil {
		return err
	}
	unlock, err := lockDataDir(s.cfg.DataDir)
	if err != nil {
		return err
	}
	s.onClose("data folder lock", unlock)

	return nil
}

// openAPI settles the admin token and builds the REST API and the HTTP
// server around it; Run starts serving.
func (s *server) openAPI(announce io.Writer) error {
	token, err := adminToken(s.cfg.DataDir, s.cfg.AdminToken, announce)
	if err != nil {
		return err
	}
	s.adminToken = token
	if mode, exposed := tokenFileExposed(s.cfg.DataDir); exposed && s.cfg.AdminToken == "" {
		s.log.Warn("admin token file is open to other users; chmod 600 it",
			"file", filepath.Join(s.cfg.DataDir, tokenFileName), "mode", mode.String())
	}
	s.api = tenancy.NewAPI(s.store, tenancy.APIOptions{
		Logger:       s.log,
		AdminToken:   token,
		MaxBodyBytes: s.cfg.API.MaxBodyBytes,
		RateLimit:    float64(s.cfg.API.RequestsPerSecond),
		OnRequest:    s.meterAPIRequest,
	})
	s.http = &http.Server{
		Handler:           s.routes(),
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	s.onClose("api server", func() error { return ignoreClosed(s.http.Close()) })

	return nil
}

// openStore opens the SQLite database and the tenancy store on it.
func (s *server) openStore(ctx context.Context) error {
	db, err := openDB(ctx, s.cfg.DataDir)
	if err != nil {
		return err
	}
	s.db = db
	s.onClose("database", db.Close)
	s.onReady("database", db.PingContext)

	store, err := tenancy.NewStore(ctx, db)
	if err != nil {
		return err
	}
	s.store = store
	s.onClose("tenancy store", store.Close)

	return nil
}

// listen binds the API listener; Run serves on it.
func (s *server) listen() error {
	ln, err := net.Listen("tcp", s.cfg.API.Listen)
	if err != nil {
		return fmt.Errorf("%w: api.listen %s: %w", errListen, s.cfg.API.Listen, unwrapNet(err))
	}
	s.apiLn = ln
	s.onClose("api listener", func() error { return ignoreClosed(ln.Close()) })

	return nil
}

// onClose registers fn to run, in reverse order of registration, on Close.
func (s *server) onClose(name string, fn func() error) {
	s.closers = append(s.closers, namedCloser{name: name, close: fn})
}

// onReady registers a readiness check for /readyz.
func (s *server) onReady(name string, fn func(ctx context.Context) error) {
	s.checks = append(s.checks, readyCheck{name: name, check: fn})
}

// onDrain registers fn to run, concurrently with the others, when Run
// drains; ctx ends at the drain deadline or on a hard stop.
func (s *server) onDrain(name string, fn func(ctx context.Context) error) {
	s.drainers = append(s.drainers, drainer{name: name, drain: fn})
}

// apiAddr is the address the API listener is bound to.
func (s *server) apiAddr() net.Addr { return s.apiLn.Addr() }

// Run serves until ctx is done, then drains: it marks the server not
// ready, stops accepting, and lets requests in progress finish until
// calls.drain_timeout passes or hard is closed, whichever comes first.
// Run returns nil after a clean drain; it does not Close the server.
func (s *server) Run(ctx context.Context, hard <-chan struct{}) error {
	serveErr := make(chan error, 1)
	go func() { serveErr <- s.http.Serve(s.apiLn) }()
	s.log.Info("patchbay serving", "api_addr", s.apiAddr().String(),
		"public_addr", s.cfg.PublicAddr, "data_dir", s.cfg.DataDir,
		"node_id", s.cfg.Accounting.NodeID, "cluster", s.cfg.RedisURL != "",
		"version", version)

	select {
	case err := <-serveErr:
		return fmt.Errorf("api server: %w", err)
	case <-ctx.Done():
	}

	return s.drain(hard)
}

// drain stops accepting and waits for work in progress, within limits:
// the HTTP server and every registered drainer run concurrently under one
// deadline. Whatever is still running afterwards is closed by Close.
func (s *server) drain(hard <-chan struct{}) error {
	s.draining.Store(true)
	timeout := s.cfg.Calls.DrainTimeout
	s.log.Info("patchbay draining", "drain_timeout", timeout.String())
	dctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	go func() {
		select {
		case <-hard:
			cancel()
		case <-dctx.Done():
		}
	}()

	start := time.Now()
	all := append([]drainer{{name: "api server", drain: s.http.Shutdown}}, s.drainers...)
	errs := make([]error, len(all))
	var wg sync.WaitGroup
	for i, d := range all {
		wg.Go(func() { errs[i] = d.drain(dctx) })
	}
	wg.Wait()
	complete := true
	for i, err := range errs {
		if err != nil {
			complete = false
			s.log.Warn("drain cut short", "component", all[i].name,
				"after", time.Since(start).String(), "error", err)
		}
	}
	s.log.Info("patchbay drained", "duration", time.Since(start).String(),
		"complete", complete)
	if errs[0] != nil {
		return ignoreClosed(s.http.Close())
	}

	return nil
}

// Close closes every opened component in reverse order of opening and
// returns their errors joined. It is idempotent and safe after a partial
// openServer.
func (s *server) Close() error {
	s.closeOnce.Do(func() {
		var errs []error
		for i := len(s.closers) - 1; i >= 0; i-- {
			c := s.closers[i]
			if err := c.close(); err != nil {
				errs = append(errs, fmt.Errorf("close %s: %w", c.name, err))
			}
		}
		s.closeErr = errors.Join(errs...)
	})

	return s.closeErr
}

// runServe is the serve command: load settings, open, serve until a
// signal, drain, close.
func runServe(ctx context.Context, std stdio, environ []string, args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	file := fs.String("config", "", "YAML settings `file` (default: built-in defaults)")
	if err := parseFlags(fs, args, std); err != nil {
		return err
	}
	cfg, err := loadConfig(*file, environ)
	if err != nil {
		return err
	}
	log := newLogger(cfg.Log, std.err)
	for _, name := range conf.UnknownEnv(environ) {
		log.Warn("unknown environment variable ignored", "name", name)
	}
	log.Debug("garbage collector target set", "gogc", conf.ApplyGCPercent(environ))

	s, err := openServer(ctx, cfg, log, std.err)
	if err != nil {
		return err
	}
	sigCtx, hard, stop := watchSignals(ctx, log)
	defer stop()
	err = errors.Join(s.Run(sigCtx, hard), s.Close())
	if err == nil {
		log.Info("patchbay stopped")
	}

	return err
}

// ignoreClosed treats "already closed" as success, for idempotent closes.
func ignoreClosed(err error) error {
	if errors.Is(err, http.ErrServerClosed) || errors.Is(err, net.ErrClosed) {
		return nil
	}

	return err
}

// unwrapNet drops the operation and address a *net.OpError repeats.
func unwrapNet(err error) error {
	var oe *net.OpError
	if errors.As(err, &oe) {
		return oe.Err
	}

	return err
}
