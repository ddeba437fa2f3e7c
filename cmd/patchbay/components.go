package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/patchbay/patchbay/accounting"
	"github.com/patchbay/patchbay/media"
	"github.com/patchbay/patchbay/sip"
	"github.com/patchbay/patchbay/sip/location"
	"github.com/patchbay/patchbay/sip/webhook"
	"github.com/patchbay/patchbay/tenancy"
)

// locationKeyPrefix starts every key Patchbay writes to Redis for the
// location store.
const locationKeyPrefix = "patchbay:loc:"

// notifyTimeout bounds recording a notification for an account.
const notifyTimeout = 5 * time.Second

// drainPoll is how often a SIGTERM drain looks whether live calls ended.
const drainPoll = 100 * time.Millisecond

// components are the voice parts of the server, opened after the store and
// the REST API: accounting first (every call writes to it), then media,
// the SIP edge and call control, which ties them together.
type components struct {
	ledger   *accounting.Ledger
	engine   *media.Engine
	location location.Store
	sip      *sip.Server
	outbox   *webhook.Outbox
	webhooks *webhook.Client
	calls    *sip.CallControl
}

// openComponents opens the voice components in dependency order and
// registers their Close, readiness and drain hooks.
func (s *server) openComponents(ctx context.Context) error {
	if err := s.openLedger(ctx); err != nil {
		return err
	}
	if err := s.openMedia(); err != nil {
		return err
	}
	if err := s.openSIP(ctx); err != nil {
		return err
	}

	return s.openCalls(ctx)
}

// openLedger opens accounting on the shared database: CDRs, metering,
// rating and statements. Opening it closes the legs a crash left open.
func (s *server) openLedger(ctx context.Context) error {
	ledger, err := accounting.Open(ctx, accounting.Config{
		DB:                s.db,
		Node:              s.cfg.Accounting.NodeID,
		Logger:            s.log,
		Accounts:          s.store,
		SpendCap:          s.spendCap,
		OnSpendCap:        s.onSpendCap,
		HeartbeatInterval: s.cfg.Accounting.Heartbeat,
		Registerer:        s.registry,
	})
	if err != nil {
		return fmt.Errorf("accounting: %w", err)
	}
	s.voice.ledger = ledger
	s.onClose("accounting", ledger.Close)
	ledger.Mount(s.api)

	return nil
}

// spendCap reads an account's monthly spend cap for accounting.
func (s *server) spendCap(ctx context.Context, accountSID string) (int64, error) {
	limits, err := s.store.AccountLimits(ctx, accountSID)
	if err != nil {
		return 0, err
	}

	return limits.MonthlySpendCapMicro, nil
}

// onSpendCap ends the running calls of an account whose spend crossed its
// cap; admission already refuses its new calls.
func (s *server) onSpendCap(accountSID string, spent, limit int64) {
	ended := 0
	if s.voice.calls != nil {
		ended = s.voice.calls.EndAccountCalls(accountSID)
	}
	s.log.Warn("spend cap reached; calls ended", "account", accountSID,
		"spent_micro", spent, "cap_micro", limit, "calls", ended)
	ctx, cancel := context.WithTimeout(context.Background(), notifyTimeout)
	defer cancel()
	note := tenancy.Notification{AccountSID: accountSID, ErrorCode: sip.NoteSpendCap,
		Level: tenancy.LevelWarning, Message: fmt.Sprintf("monthly spend cap %s reached "+
			"(spent %s); %d running calls ended, new calls refused",
			accounting.FormatMicro(limit), accounting.FormatMicro(spent), ended)}
	if _, err := s.store.AddNotification(ctx, note); err != nil {
		s.log.Warn("spend cap notification not recorded", "account", accountSID, "error", err)
	}
}

// openMedia starts the RTP relay engine over the configured port range.
func (s *server) openMedia() error {
	m := s.cfg.Media
	quarantine := m.Quarantine
	if quarantine == 0 {
		quarantine = -1 // conf's 0 means off; the engine's 0 means default
	}
	raiseFileLimit(m.Ports.Max-m.Ports.Min+1, s.log)
	spool := filepath.Join(s.cfg.DataDir, "recordings", "spool")
	if err := os.MkdirAll(spool, 0o700); err != nil {
		return fmt.Errorf("%w: %w", errDataDir, err)
	}
	engine, err := media.NewEngine(media.Config{
		PortMin:      m.Ports.Min,
		PortMax:      m.Ports.Max,
		BindAddr:     m.BindAddr,
		PublicAddr:   m.PublicAddr,
		MediaTimeout: m.Timeout,
		Quarantine:   quarantine,
		RecordDir:    spool,
		Logger:       s.log.With("component", "media"),
		Registerer:   s.registry,
	})
	if err != nil {
		return fmt.Errorf("media: %w", err)
	}
	s.voice.engine = engine
	s.onClose("media", engine.Close)

	return nil
}

// openSIP opens the location store (Redis when configured, else memory)
// and starts the SIP edge on its listeners.
func (s *server) openSIP(ctx context.Context) error {
	loc, err := s.openLocation(ctx)
	if err != nil {
		return err
	}
	s.voice.location = loc
	s.onClose("location store", loc.Close)

	c := s.cfg.SIP
	srv, err := sip.NewServer(sip.Config{
		Listen:            c.Listen,
		TLSListen:         c.TLSListen,
		TLSCertFile:       c.TLSCertFile,
		TLSKeyFile:        c.TLSKeyFile,
		WSListen:          c.WSListen,
		PublicAddr:        s.cfg.PublicAddr,
		MinExpires:        c.RegistrationMinExpires,
		MaxExpires:        c.RegistrationMaxExpires,
		NonceTTL:          c.NonceTTL,
		NonceSecret:       nonceSecret(c.NonceSecret),
		DigestAlgorithms:  digestAlgorithms(c.DigestAlgorithms),
		MaxMessageBytes:   c.MaxMessageBytes,
		TrustedSources:    c.TrustedSources,
		AuthExemptSources: c.AuthExemptSources,
		Guard:             guardConfig(c.Guard),
		NodeID:            s.cfg.Accounting.NodeID,
		RingTimeout:       c.RingTimeout,
		TrunkTimeout:      c.TrunkTimeout,
		CacheTTL:          cacheTTL(c.CacheTTL),
		Logger:            s.log,
		Registerer:        s.registry,
	}, s.store, loc)
	if err != nil {
		return fmt.Errorf("sip: %w", err)
	}
	s.voice.sip = srv
	srv.SetRecorder(s.voice.ledger)
	s.onClose("sip", srv.Close)
	if err := srv.Start(ctx); err != nil {
		return fmt.Errorf("%w: sip.listen %s: %w", errListen, c.Listen, unwrapNet(err))
	}
	s.log.Info("sip listening", sipAddrs(srv)...)

	return nil
}

// openLocation returns the registration store: Redis when redis_url is
// set, so that bindings survive a restart and are shared by nodes, else
// process memory.
func (s *server) openLocation(ctx context.Context) (location.Store, error) {
	if s.cfg.RedisURL == "" {
		return location.NewMemory(nil), nil
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	loc, err := location.NewRedis(ctx, s.cfg.RedisURL, locationKeyPrefix)
	if err != nil {
		return nil, fmt.Errorf("redis_url: %w", err)
	}
	s.onReady("redis", func(ctx context.Context) error {
		_, err := loc.CountAccount(ctx, "")
		return err
	})

	return loc, nil
}

// sipAddrs lists the bound SIP listeners as log attributes.
func sipAddrs(srv *sip.Server) []any {
	var attrs []any
	for _, t := range []string{"udp", "tcp", "tls", "ws"} {
		if a := srv.Addr(t); a != nil {
			attrs = append(attrs, t+"_addr", a.String())
		}
	}

	return attrs
}

// openCalls starts the status-callback outbox and call control, the B2BUA
// that runs each call's application, and mounts the Calls API.
func (s *server) openCalls(ctx context.Context) error {
	w := s.cfg.Webhooks
	s.voice.webhooks = webhook.New(webhook.Config{
		ConnectTimeout: w.ConnectTimeout,
		Timeout:        w.Timeout,
		MaxRedirects:   maxRedirects(w.MaxRedirects),
		MaxBodyBytes:   int(w.MaxResponseBytes),
		DenyNetworks:   w.DenyNetworks,
		Logger:         s.log,
	})
	s.onClose("webhook client", func() error { s.voice.webhooks.Close(); return nil })

	// One cache of tenancy lookups for call control and the outbox's
	// signing keys; API writes through s.store invalidate it at once.
	dir := sip.NewCallDirectoryCache(s.store, 0)
	outbox, err := webhook.OpenOutbox(ctx, s.db, webhook.OutboxConfig{
		Client:      s.voice.webhooks,
		Tokens:      dir.AuthToken,
		MaxAttempts: outboxAttempts(w.RetryMax),
		Logger:      s.log,
	})
	if err != nil {
		return fmt.Errorf("webhook outbox: %w", err)
	}
	s.voice.outbox = outbox
	s.onClose("webhook outbox", outbox.Close)

	recordings := filepath.Join(s.cfg.DataDir, "recordings")
	if err := os.MkdirAll(recordings, 0o700); err != nil {
		return fmt.Errorf("%w: %w", errDataDir, err)
	}
	calls, err := sip.NewCallControl(sip.CallControlConfig{
		Server:        s.voice.sip,
		Directory:     dir,
		Webhooks:      s.voice.webhooks,
		Outbox:        outbox,
		Ledger:        s.voice.ledger,
		Media:         s.voice.engine,
		RecordingsDir: recordings,
		APIBaseURL:    "http://" + s.apiPublicAddr(),
		RefuseBusy:    s.cfg.Calls.OverloadStatus == 486,
		Notifications: s.store,
		Logger:        s.log,
	})
	if err != nil {
		return fmt.Errorf("call control: %w", err)
	}
	s.voice.calls = calls
	s.onClose("call control", calls.Close)
	calls.MountAPI(s.api)
	s.onDrain("calls", s.drainCalls)

	return nil
}

// apiPublicAddr is the API's host:port as tenants reach it: the public
// address with the bound port.
func (s *server) apiPublicAddr() string {
	_, port, err := net.SplitHostPort(s.apiAddr().String())
	if err != nil || s.cfg.PublicAddr == "" {
		return s.apiAddr().String()
	}

	return net.JoinHostPort(s.cfg.PublicAddr, port)
}

// drainCalls stops the SIP edge from taking new calls and registrations,
// waits for live calls to end until ctx does, then hangs up the rest so
// that their CDRs close with the drain as their cause.
func (s *server) drainCalls(ctx context.Context) error {
	s.voice.sip.Drain()
	tick := time.NewTicker(drainPoll)
	defer tick.Stop()
	for s.voice.calls.ActiveCalls() > 0 {
		select {
		case <-ctx.Done():
			left := s.voice.calls.ActiveCalls()
			s.log.Warn("drain deadline reached; ending live calls", "calls", left)

			return errors.Join(s.voice.calls.Close(), fmt.Errorf("%d calls ended at the drain deadline", left))
		case <-tick.C:
		}
	}

	return nil
}

// meterAPIRequest counts one REST API request of an account as usage. The
// ledger opens after the API is built but before it serves.
func (s *server) meterAPIRequest(accountSID string) {
	if s.voice.ledger == nil {
		return
	}
	if err := s.voice.ledger.MeterAsync(accountSID, accounting.CatAPIRequests, 1, 1); err != nil {
		s.log.Warn("api request not metered", "account", accountSID, "error", err)
	}
}
