package media

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// Engine owns the media port pool and every Session. It is safe for
// concurrent use. Close ends every session and returns after every
// goroutine the engine started has stopped.
type Engine struct {
	cfg   Config
	log   *slog.Logger
	pool  *portPool
	epoch time.Time

	// mu guards sessions, closed and totals.
	mu       sync.Mutex
	sessions map[*Session]struct{}
	closed   bool
	totals   engineTotals

	stop chan struct{}
	wg   sync.WaitGroup
}

// engineTotals accumulates the final stats of ended sessions for the
// metrics collector.
type engineTotals struct {
	sessions  uint64
	timeouts  uint64
	legs      [2]LegStats
	modeCount [2]uint64
}

// NewEngine validates cfg, builds the port pool (no port is bound until
// a session needs it) and starts the media-timeout monitor. It returns
// an error wrapping ErrBadConfig naming the bad field.
func NewEngine(cfg Config) (*Engine, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	e := &Engine{
		cfg:      cfg,
		log:      cfg.Logger.With("subsystem", "media"),
		pool:     newPortPool(cfg.BindAddr, cfg.PortMin, cfg.PortMax, cfg.Quarantine),
		epoch:    time.Now(),
		sessions: map[*Session]struct{}{},
		stop:     make(chan struct{}),
	}
	if cfg.Registerer != nil {
		if err := cfg.Registerer.Register(newCollector(e)); err != nil {
			return nil, fmt.Errorf("media: register metrics: %w", err)
		}
	}
	if cfg.MediaTimeout > 0 {
		e.wg.Add(1)
		go e.monitor()
	}

	return e, nil
}

// nanotime is the monotonic time in nanoseconds since the engine began.
func (e *Engine) nanotime() int64 { return int64(time.Since(e.epoch)) }

// NewSession starts an empty session; ports are bound by Offer or
// AnswerLocal. It fails with ErrEngineClosed after Close.
func (e *Engine) NewSession(opts SessionOptions) (*Session, error) {
	s := &Session{
		e:    e,
		opts: opts,
		log: e.log.With("call_id", opts.CallID, "tenant", opts.Tenant,
			"media_mode", opts.Mode.String()),
		dtmf:      make(chan DTMFEvent, 32),
		done:      make(chan struct{}),
		rtcpEvery: localRTCPInterval,
	}
	s.lastRTP.Store(e.nanotime())
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil, ErrEngineClosed
	}
	e.sessions[s] = struct{}{}
	s.log.Debug("media session started")

	return s, nil
}

// forget removes an ended session and folds its stats into the totals.
func (e *Engine) forget(s *Session, final Stats) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.sessions, s)
	e.totals.sessions++
	e.totals.modeCount[final.Mode]++
	if s.Err() == ErrMediaTimeout {
		e.totals.timeouts++
	}
	for leg := range final.Legs {
		addLegStats(&e.totals.legs[leg], final.Legs[leg])
	}
}

func addLegStats(dst *LegStats, s LegStats) {
	dst.PacketsIn += s.PacketsIn
	dst.BytesIn += s.BytesIn
	dst.PacketsOut += s.PacketsOut
	dst.BytesOut += s.BytesOut
	dst.RTCPIn += s.RTCPIn
	dst.RTCPOut += s.RTCPOut
	dst.PacketsLost += s.PacketsLost
	dst.DroppedSource += s.DroppedSource
	dst.DroppedAuth += s.DroppedAuth
	dst.DroppedReplay += s.DroppedReplay
	dst.DroppedOther += s.DroppedOther
}

// Close ends every session with ErrSessionClosed, stops the monitor and
// waits for all of it. Later calls return nil at once.
func (e *Engine) Close() error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()

		return nil
	}
	e.closed = true
	live := make([]*Session, 0, len(e.sessions))
	for s := range e.sessions {
		live = append(live, s)
	}
	e.mu.Unlock()
	close(e.stop)
	for _, s := range live {
		s.end(ErrSessionClosed)
	}
	e.wg.Wait()

	return nil
}

// monitor ends sessions whose media stopped for MediaTimeout outside
// hold. It checks five times per timeout period.
func (e *Engine) monitor() {
	defer e.wg.Done()
	defer e.recoverLoop("media_monitor")
	every := max(e.cfg.MediaTimeout/5, 10*time.Millisecond)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-e.stop:
			return
		case <-t.C:
			e.checkTimeouts()
		}
	}
}

func (e *Engine) checkTimeouts() {
	now := e.nanotime()
	limit := int64(e.cfg.MediaTimeout)
	var candidates []*Session
	e.mu.Lock()
	for s := range e.sessions {
		if s.opts.Mode == ModeRelay && !s.onHold.Load() && now-s.lastRTP.Load() > limit {
			candidates = append(candidates, s)
		}
	}
	e.mu.Unlock()
	// hasStreams takes the session lock, which end holds while it takes
	// e.mu: never call it under e.mu.
	for _, s := range candidates {
		if !s.hasStreams() {
			continue
		}
		s.log.Info("media timeout", "timeout", e.cfg.MediaTimeout.String())
		e.wg.Add(1)
		go func() {
			defer e.wg.Done()
			s.end(ErrMediaTimeout)
		}()
	}
}

// recoverLoop keeps a panic in a media goroutine from taking the
// process down; the loop ends and the panic is logged.
func (e *Engine) recoverLoop(loop string) {
	if r := recover(); r != nil {
		e.log.Error("media loop panic", "loop", loop, "panic", fmt.Sprint(r))
	}
}

func (e *Engine) bindV6() bool { return e.cfg.BindAddr.Is6() }

// PortsInUse reports the port pairs bound by live sessions and those
// free or quarantined.
func (e *Engine) PortsInUse() (inUse, free int) { return e.pool.counts() }

func randUint32() uint32 {
	var b [4]byte
	_, _ = rand.Read(b[:])

	return binary.BigEndian.Uint32(b[:])
}
