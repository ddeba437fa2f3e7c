package sip

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	sipmsg "github.com/emiago/sipgo/sip"

	"github.com/patchbay/patchbay/accounting"
	"github.com/patchbay/patchbay/media"
	"github.com/patchbay/patchbay/sip/callstatus"
	"github.com/patchbay/patchbay/sip/markup"
	"github.com/patchbay/patchbay/sip/webhook"
	"github.com/patchbay/patchbay/tenancy"
)

// CallDirectory is what call control reads from the tenancy store besides
// the edge's Directory. *tenancy.Store implements it.
type CallDirectory interface {
	AccountBySID(ctx context.Context, sid string) (*tenancy.Account, error)
	ServiceSetting(ctx context.Context, accountSID string,
		name tenancy.ServiceName) (*tenancy.Service, error)
	AccountLimits(ctx context.Context, accountSID string) (*tenancy.Limits, error)
	AccountTrunks(ctx context.Context, accountSID string) ([]*tenancy.Trunk, error)
	ApplicationBySID(ctx context.Context, accountSID, sid string) (*tenancy.Application, error)
	ListDomains(ctx context.Context, accountSID string,
		p tenancy.Page) ([]*tenancy.Domain, bool, error)
}

// CDRSink records call legs; *accounting.Ledger implements it.
type CDRSink interface {
	OpenLeg(ctx context.Context, s accounting.LegStart) error
	LegRinging(ctx context.Context, sid string, at time.Time) error
	LegAnswered(ctx context.Context, sid string, at time.Time) error
	CloseLeg(ctx context.Context, e accounting.LegEnd) error
	CheckSpend(ctx context.Context, accountSID string) error
	// Ready reports whether CDRs can be written now; while it fails, new
	// calls are refused rather than carried unbilled.
	Ready() error
	// MeterAsync counts use of a service by an account (webhook requests,
	// recordings) without waiting for it to be written.
	MeterAsync(accountSID string, c accounting.Category, count, usage int64) error
}

var (
	_ CallDirectory = (*tenancy.Store)(nil)
	_ CDRSink       = (*accounting.Ledger)(nil)
	_ CallHandler   = (*CallControl)(nil)
	_ DialogHandler = (*CallControl)(nil)
)

// CallControlConfig configures NewCallControl. Server, Directory and
// Webhooks are required.
type CallControlConfig struct {
	Server    *Server
	Directory CallDirectory
	Webhooks  *webhook.Client
	// Outbox delivers status callbacks; nil sends none.
	Outbox *webhook.Outbox
	// Ledger records CDRs and checks spend caps; nil records nothing.
	Ledger CDRSink
	// Media anchors media and runs Play, Gather and Record. Nil passes SDP
	// through untouched: Dial works, the media verbs fail the call.
	Media *media.Engine
	// RecordingsDir holds Record verb recordings as <RecordingSid>.wav.
	// Empty refuses Record.
	RecordingsDir string
	// APIBaseURL is the public base URL of the REST API, used to build
	// RecordingUrl ("http://127.0.0.1:8080" style, no trailing slash).
	APIBaseURL string
	// RefuseBusy answers admission refusals for limits with 486 Busy Here
	// instead of 503 Service Unavailable with Retry-After (false).
	RefuseBusy bool
	// RetryAfter is the Retry-After of 503 refusals (5s).
	RetryAfter time.Duration
	// Notifications records application failures and refusals by the
	// account's limits for the account to read; nil records none.
	Notifications Notifier
	// Markup limits the documents applications may answer with.
	Markup markup.Limits
	// DirectoryCacheTTL is how long call control reuses Directory answers
	// (DefaultCacheTTL); writes the Directory reports through a Generation
	// method take effect at once (see CallDirectoryCache). Negative: no
	// cache. A Directory that is already a *CallDirectoryCache is used as
	// it is.
	DirectoryCacheTTL time.Duration
	// Logger receives call lifecycle logs (slog.Default()).
	Logger *slog.Logger
}

// CallControl is Patchbay's B2BUA: it implements CallHandler and
// DialogHandler for a Server, runs each call's application and serves the
// Calls API. It is safe for concurrent use. Close ends every call.
type CallControl struct {
	cfg CallControlConfig
	log *slog.Logger
	srv *Server
	adm *admission

	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup // call goroutines

	// mu guards legs, calls and contactHdr.
	mu         sync.Mutex
	legs       map[string]*leg  // by SIP Call-ID
	calls      map[string]*call // live calls by parent CallSid
	contactHdr *sipmsg.ContactHeader
	closed     bool

	notes notes // when each account was last notified of each code

	started, ended, fetches, appWait atomic.Int64
}

// CallStats is a snapshot of call control's counters since it started.
type CallStats struct {
	Started int64         // parent calls started
	Ended   int64         // parent calls torn down
	Fetches int64         // documents fetched from applications
	AppWait time.Duration // total time spent waiting on applications
}

// Stats returns a snapshot of the counters.
func (cc *CallControl) Stats() CallStats {
	return CallStats{Started: cc.started.Load(), Ended: cc.ended.Load(),
		Fetches: cc.fetches.Load(), AppWait: time.Duration(cc.appWait.Load())}
}

// NewCallControl returns call control for cfg.Server and installs it as
// the server's CallHandler.
func NewCallControl(cfg CallControlConfig) (*CallControl, error) {
	if cfg.Server == nil || cfg.Directory == nil || cfg.Webhooks == nil {
		return nil, fmt.Errorf("%w: call control needs server, directory and webhooks",
			ErrConfig)
	}
	if cfg.RetryAfter <= 0 {
		cfg.RetryAfter = 5 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if _, cached := cfg.Directory.(*CallDirectoryCache); !cached && cfg.DirectoryCacheTTL >= 0 {
		cfg.Directory = NewCallDirectoryCache(cfg.Directory, cfg.DirectoryCacheTTL)
	}
	cc := &CallControl{
		cfg: cfg, srv: cfg.Server, log: cfg.Logger.With("component", "callcontrol"),
		adm: newAdmission(), legs: map[string]*leg{}, calls: map[string]*call{},
	}
	cc.ctx, cc.cancel = context.WithCancel(context.Background())
	cfg.Server.SetCallHandler(cc)

	return cc, nil
}

// Close hangs up every call, waits for their teardown and uninstalls call
// control from the server. It is idempotent.
func (cc *CallControl) Close() error {
	cc.mu.Lock()
	if cc.closed {
		cc.mu.Unlock()

		return nil
	}
	cc.closed = true
	cc.mu.Unlock()
	cc.cancel()
	cc.wg.Wait()
	cc.srv.SetCallHandler(nil)

	return nil
}

// ActiveCalls returns the number of live parent calls.
func (cc *CallControl) ActiveCalls() int {
	cc.mu.Lock()
	defer cc.mu.Unlock()

	return len(cc.calls)
}

// HandleInbound implements CallHandler: it admits the call, answers 100,
// and runs it on its own goroutine, returning once the INVITE has a final
// response.
func (cc *CallControl) HandleInbound(ctx context.Context, in *InboundCall) {
	c, err := cc.newInboundCall(ctx, in)
	if err != nil {
		cc.refuse(in, err)

		return
	}
	if !cc.start(c) {
		c.release()
		cc.refuse(in, errServiceUnavailable)

		return
	}
	select {
	case <-c.finalSent:
	case <-ctx.Done():
	}
}

// start registers c and runs it; false when call control is closed.
func (cc *CallControl) start(c *call) bool {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if cc.closed {
		return false
	}
	cc.calls[c.sid] = c
	cc.started.Add(1)
	cc.wg.Add(1)
	go func() {
		defer cc.wg.Done()
		if c.outbound != nil {
			c.runOutbound()

			return
		}
		c.run()
	}()

	return true
}

// EndAccountCalls hangs up every live call of the account, recording the
// end as a limit (for accounting's OnSpendCap, or an operator suspending
// the account). It returns the number of calls ended; it does not wait for
// their teardown.
func (cc *CallControl) EndAccountCalls(accountSID string) int {
	cc.mu.Lock()
	var live []*call
	for _, c := range cc.calls {
		if c.acct.SID == accountSID {
			live = append(live, c)
		}
	}
	cc.mu.Unlock()
	for _, c := range live {
		c.setEnd(callEnd{reason: callstatus.ReasonAPICanceled, cause: accounting.CauseLimit,
			code: 200, detail: "account limit"})
		c.cancel(errHungUp)
	}

	return len(live)
}

func (cc *CallControl) forgetCall(c *call) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	delete(cc.calls, c.sid)
	cc.ended.Add(1)
}

func (cc *CallControl) callBySID(sid string) *call {
	cc.mu.Lock()
	defer cc.mu.Unlock()

	return cc.calls[sid]
}

// refuse answers an inbound INVITE that is not run, with Retry-After on 503.
func (cc *CallControl) refuse(in *InboundCall, err error) {
	code, reason := statusOf(err)
	res := sipmsg.NewResponseFromRequest(in.Request, code, reason, nil)
	if code == 503 {
		res.AppendHeader(cc.retryAfter())
	}
	if err := in.Tx.Respond(res); err != nil {
		cc.log.Debug("refusal not sent", "error", err)
	}
	cc.log.Info("call refused", "tenant", in.Account.SID, "code", code, "cause", err)
	cc.notifyRefusal(in.Account.SID, "", err)
}

// retryAfter is the Retry-After header of Patchbay's 503 answers to callers.
func (cc *CallControl) retryAfter() sipmsg.Header {
	secs := int(cc.cfg.RetryAfter / time.Second)

	return sipmsg.NewHeader("Retry-After", strconv.Itoa(max(secs, 1)))
}

// HandleInDialog implements DialogHandler: requests inside the dialogs of
// Patchbay's legs (matched by Call-ID) are taken; others are not.
func (cc *CallControl) HandleInDialog(ctx context.Context, req *sipmsg.Request,
	tx sipmsg.ServerTransaction) bool {
	id := req.CallID()
	if id == nil {
		return false
	}
	cc.mu.Lock()
	l := cc.legs[id.Value()]
	cc.mu.Unlock()
	if l == nil {
		return false
	}
	l.inDialog(ctx, req, tx)

	return true
}

func (cc *CallControl) addLeg(callID string, l *leg) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	cc.legs[callID] = l
}

func (cc *CallControl) removeLeg(callID string) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	delete(cc.legs, callID)
}

// dialogUA returns a dialog user agent over the server's client with a
// Contact of the server's UDP (or first) listener.
func (cc *CallControl) dialogUA() (*sipgo.DialogUA, error) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if cc.contactHdr == nil {
		h, err := cc.buildContact()
		if err != nil {
			return nil, err
		}
		cc.contactHdr = h
	}

	return &sipgo.DialogUA{Client: cc.srv.Client(), ContactHDR: *cc.contactHdr}, nil
}

func (cc *CallControl) buildContact() (*sipmsg.ContactHeader, error) {
	for _, tr := range []string{"udp", "tcp"} {
		addr := cc.srv.Addr(tr)
		if addr == nil {
			continue
		}
		host, port, err := net.SplitHostPort(addr.String())
		if err != nil {
			continue
		}
		cc.srv.mu.Lock()
		if cc.srv.public != "" {
			host = cc.srv.public
		}
		cc.srv.mu.Unlock()
		p, _ := strconv.Atoi(port)
		uri := sipmsg.Uri{Scheme: "sip", User: "patchbay", Host: host, Port: p}
		if tr == "tcp" {
			uri.UriParams = sipmsg.NewParams()
			uri.UriParams.Add("transport", "tcp")
		}

		return &sipmsg.ContactHeader{Address: uri}, nil
	}

	return nil, errors.New("sip: call control: server has no udp or tcp listener")
}
