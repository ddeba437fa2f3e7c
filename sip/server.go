package sip

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"

	"github.com/emiago/sipgo"
	sipmsg "github.com/emiago/sipgo/sip"

	"github.com/patchbay/patchbay/sip/digest"
	"github.com/patchbay/patchbay/sip/guard"
	"github.com/patchbay/patchbay/sip/internal/keyedmac"
	"github.com/patchbay/patchbay/sip/location"
	"github.com/patchbay/patchbay/tenancy"
)

// CallHandler takes an out-of-dialog INVITE that needs an account's
// application: a call to a number of the account, a call into a domain with
// a voice URL, or a trunk call to a number. Call control implements it.
//
// HandleInbound runs on the request's own goroutine and must not return
// before it has sent a final response on call.Tx (or the transaction has
// ended): when it returns, the transaction is released. ctx is cancelled
// when the server closes.
type CallHandler interface {
	HandleInbound(ctx context.Context, call *InboundCall)
}

// DialogHandler is implemented by a CallHandler that also owns dialogs
// (a B2BUA): the server passes it every in-dialog request (one with a To
// tag) that does not route through this proxy, and every ACK not consumed
// by a transaction. It reports whether it took the request; the server
// answers 481 to requests nobody took. ACKs have a nil tx.
type DialogHandler interface {
	HandleInDialog(ctx context.Context, req *sipmsg.Request, tx sipmsg.ServerTransaction) bool
}

// InboundCall is an admitted out-of-dialog INVITE handed to CallHandler.
// Exactly one of Domain, Trunk is set for where the call came from (for a
// trunk call to a number, Trunk and Number are set). Route is the voice
// application to run. Account is the account that owns the call (for a
// cross-account call into a domain, the domain's account).
type InboundCall struct {
	Request   *sipmsg.Request
	Tx        sipmsg.ServerTransaction
	Account   *tenancy.Account
	Route     *tenancy.VoiceRoute
	Domain    *tenancy.Domain
	Trunk     *tenancy.Trunk
	Number    *tenancy.IncomingNumber
	Source    netip.AddrPort
	Transport string // "udp", "tcp", "tls", "ws"
	Secure    bool   // arrived over TLS
	AuthUser  string // digest user that authenticated the caller, if any
}

// Server is the SIP edge. Create it with NewServer, then Start it; Close
// stops it. Its methods are safe for concurrent use.
type Server struct {
	cfg    Config
	dir    Directory
	loc    location.Store
	log    *slog.Logger
	m      *metrics
	auth   *digest.Server
	ua     *sipgo.UserAgent
	srv    *sipgo.Server
	client *sipgo.Client
	rrKey  []byte        // per-server secret: keys rrMAC and the decoy HA1s (auth.go)
	rrMAC  *keyedmac.Key // signs the flow tokens of our Record-Route entries
	guard  *guard.Guard
	// retrans absorbs retransmitted REGISTER and OPTIONS (retransmit.go).
	retrans *retransCache
	// handlers runs the request handlers (workers.go).
	handlers *handlerPool

	handler  atomic.Pointer[handlerBox]
	recorder atomic.Pointer[recorderBox]
	// proxyLegs are the open CDRs of proxied calls.
	proxyLegs proxyLegs
	draining  atomic.Bool
	started   atomic.Bool
	closed    atomic.Bool

	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup // listener goroutines

	// mu guards the fields below it.
	mu        sync.Mutex
	listeners []listener
	public    string // host for Via, Record-Route, Contact
}

type handlerBox struct{ h CallHandler }

// NewServer checks cfg and builds a server over dir and loc. It binds
// nothing; Start does. loc is not closed by the server.
func NewServer(cfg Config, dir Directory, loc location.Store) (*Server, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if dir == nil || loc == nil {
		return nil, fmt.Errorf("%w: directory and location store are required", ErrConfig)
	}
	if cfg.CacheTTL > 0 {
		dir = newCachedDirectory(dir, cfg.CacheTTL)
	}
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, dir: dir, loc: loc, m: m, log: cfg.Logger.With("component", "sip")}
	s.auth = digest.NewServer(digest.Options{NonceTTL: cfg.NonceTTL, Secret: cfg.NonceSecret,
		Algorithms: cfg.DigestAlgorithms})
	s.rrKey = routeKey(cfg.NonceSecret)
	s.rrMAC = keyedmac.New(s.rrKey)
	if err := s.buildUA(); err != nil {
		return nil, err
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.guard = s.newGuard()
	s.retrans = newRetransCache(s.ctx, retransTTL, retransMaxEntries, retransMaxBytes)
	s.handlers = newHandlerPool(s.ctx, defaultHandlerGoroutines)

	return s, nil
}

// routeKey derives the key signing Record-Route flow tokens from the nonce
// secret, so that nodes sharing it (and a restarted node) honour each
// other's tokens; random without a secret.
func routeKey(secret []byte) []byte {
	if len(secret) == 0 {
		k := make([]byte, 32)
		rand.Read(k)
		return k
	}
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("patchbay record-route flow token"))

	return m.Sum(nil)
}

// buildUA creates the sipgo user agent, server and client.
func (s *Server) buildUA() error {
	lib := newLibraryLogger(s.cfg.Logger)
	parser := newParser(s.cfg.MaxMessageBytes)
	ua, err := sipgo.NewUA(
		sipgo.WithUserAgent("patchbay"),
		sipgo.WithUserAgentParser(parser),
		sipgo.WithUserAgentTransportLayerOptions(
			sipmsg.WithTransportLayerLogger(lib),
			sipmsg.WithTransportLayerReadFilter(s.readFilter),
		),
		sipgo.WithUserAgentTransactionLayerOptions(
			sipmsg.WithTransactionLayerLogger(lib),
			sipmsg.WithTransactionLayerUnhandledResponseHandler(s.strayResponse),
		),
	)
	if err != nil {
		return fmt.Errorf("sip: user agent: %w", err)
	}
	srv, err := sipgo.NewServer(ua, sipgo.WithServerLogger(lib))
	if err != nil {
		return fmt.Errorf("sip: server: %w", err)
	}
	client, err := sipgo.NewClient(ua, sipgo.WithClientLogger(lib))
	if err != nil {
		return fmt.Errorf("sip: client: %w", err)
	}
	srv.OnNoRoute(s.dispatch)
	s.ua, s.srv, s.client = ua, srv, client

	return nil
}

// SetCallHandler installs h; nil removes it (INVITEs that need an
// application then get 503).
func (s *Server) SetCallHandler(h CallHandler) {
	if h == nil {
		s.handler.Store(nil)
		return
	}
	s.handler.Store(&handlerBox{h: h})
}

func (s *Server) callHandler() CallHandler {
	if b := s.handler.Load(); b != nil {
		return b.h
	}

	return nil
}

// Drain makes the server refuse new registrations and out-of-dialog
// requests with 503 (for SIGTERM); in-dialog requests still flow so that
// calls in progress can end. It cannot be undone.
func (s *Server) Drain() {
	s.draining.Store(true)
	s.log.Info("draining")
}

// Client returns the sipgo client sharing the server's transports, for
// call control to send requests (in-dialog ones, ACKs). sipgo's default
// request building fills Via with the local socket address; SendToBinding
// and DialTrunk add this server's public Via and send UDP from the
// listening socket instead.
func (s *Server) Client() *sipgo.Client { return s.client }

// UserAgent returns the sipgo user agent of the server.
func (s *Server) UserAgent() *sipgo.UserAgent { return s.ua }

// Contacts returns the unexpired bindings of aor ("user@domain").
func (s *Server) Contacts(ctx context.Context, aor string) ([]location.Binding, error) {
	b, err := s.loc.Lookup(ctx, normalizeAOR(aor))
	if err != nil {
		return nil, fmt.Errorf("sip: contacts of %s: %w", aor, err)
	}

	return b, nil
}

// Close stops the listeners, the transaction and transport layers, and
// waits for the server's goroutines. It is idempotent; the location store
// and directory stay open.
func (s *Server) Close() error {
	if !s.closed.CompareAndSwap(false, true) {
		return nil
	}
	s.cancel()
	err := s.closeListeners()
	if uerr := s.ua.Close(); uerr != nil && err == nil {
		err = fmt.Errorf("sip: close user agent: %w", uerr)
	}
	s.wg.Wait()

	return err
}

// Addr returns the bound address of transport ("udp", "tcp", "tls", "ws"),
// or nil when the server does not listen on it.
func (s *Server) Addr(transport string) net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, l := range s.listeners {
		if l.transport == transport {
			return l.addr
		}
	}

	return nil
}
