package sip

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/patchbay/patchbay/accounting"
	"github.com/patchbay/patchbay/media"
	"github.com/patchbay/patchbay/sip/callstatus"
	"github.com/patchbay/patchbay/sip/webhook"
	"github.com/patchbay/patchbay/tenancy"
)

// defaultTimeLimit is the longest call when no TimeLimit is given.
const defaultTimeLimit = 4 * time.Hour

// teardownTimeout bounds BYEs, CDR writes and callbacks at hangup.
const teardownTimeout = 5 * time.Second

// errHungUp is the cause of a call's context when it ended.
var errHungUp = errors.New("sip: call ended")

// newCallSID returns "CA" + 32 hex digits.
func newCallSID() string { return randomSID("CA") }

func randomSID(prefix string) string {
	var b [16]byte
	rand.Read(b[:])

	return prefix + hex.EncodeToString(b[:])
}

// appTarget is where a call's application lives.
type appTarget struct {
	voiceURL, voiceMethod       string
	fallbackURL, fallbackMethod string
	statusURL, statusMethod     string
	events                      map[string]bool
	applicationSID              string
	// connectTimeout and timeout are the application's own webhook
	// timeouts (0: not set); they win over the account's.
	connectTimeout, timeout time.Duration
}

func appFromRoute(r *tenancy.VoiceRoute) appTarget {
	a := newAppTarget(r.ApplicationSID, r.VoiceURL, r.VoiceMethod, r.VoiceFallbackURL,
		r.VoiceFallbackMethod, r.StatusCallback, r.StatusCallbackMethod, r.StatusCallbackEvents)
	a.connectTimeout, a.timeout = r.WebhookConnectTimeout, r.WebhookTimeout

	return a
}

func appFromApplication(app *tenancy.Application) appTarget {
	a := newAppTarget(app.SID, app.VoiceURL, app.VoiceMethod, app.VoiceFallbackURL,
		app.VoiceFallbackMethod, app.StatusCallback, app.StatusCallbackMethod,
		app.StatusCallbackEvents)
	a.connectTimeout, a.timeout = app.WebhookConnectTimeout, app.WebhookTimeout

	return a
}

func newAppTarget(appSID, voice, voiceMethod, fb, fbMethod, status, statusMethod string,
	events []string) appTarget {
	a := appTarget{
		applicationSID: appSID, voiceURL: voice, voiceMethod: voiceMethod,
		fallbackURL: fb, fallbackMethod: fbMethod, statusURL: status,
		statusMethod: statusMethod, events: map[string]bool{},
	}
	for _, e := range events {
		a.events[e] = true
	}
	if len(a.events) == 0 {
		a.events["completed"] = true
	}

	return a
}

// hookSettings is how a call reaches its application: whether status
// callbacks are sent (the account's webhooks service) and the request
// timeouts (zero: the webhook client's).
type hookSettings struct {
	callbacks      bool
	connectTimeout time.Duration
	timeout        time.Duration
}

// webhookSettings reads the account's webhooks service for a call running
// app. The service's options "connect_timeout" and "timeout" are Go
// durations ("2s"); values that do not parse, or lie outside 100ms..60s,
// are ignored. The application's own timeouts, when set, win. A disabled
// service sends no status callbacks; the voice URL is still asked.
func (cc *CallControl) webhookSettings(ctx context.Context, acct string,
	app appTarget) hookSettings {
	h := hookSettings{callbacks: true}
	if svc, err := cc.cfg.Directory.ServiceSetting(ctx, acct, tenancy.ServiceWebhooks); err == nil {
		h.callbacks = svc.Enabled
		h.connectTimeout = optionDuration(svc.Options["connect_timeout"])
		h.timeout = optionDuration(svc.Options["timeout"])
	}
	if app.connectTimeout > 0 {
		h.connectTimeout = app.connectTimeout
	}
	if app.timeout > 0 {
		h.timeout = app.timeout
	}

	return h
}

func optionDuration(v string) time.Duration {
	d, err := time.ParseDuration(v)
	if err != nil || d < 100*time.Millisecond || d > time.Minute {
		return 0
	}

	return d
}

// call is one parent leg and what it runs. Its goroutine (run) owns the
// verb loop; other goroutines (in-dialog requests, the API) talk to it
// through the fields guarded by mu and through ctx.
type call struct {
	cc        *CallControl
	sid       string
	acct      *tenancy.Account
	app       appTarget
	base      webhook.CallParams
	log       *slog.Logger
	ctx       context.Context // ends at hangup
	cancel    context.CancelCauseFunc
	parent    *leg
	sessp     atomic.Pointer[media.Session] // nil: SDP passes through; see msess
	offer     []byte                        // the caller's SDP offer (inbound)
	created   time.Time
	trunkSID  string
	outbound  *createReq // set for API calls
	hooks     hookSettings
	secure    bool // came through a secure domain or trunk: SRTP required
	timeLimit time.Duration
	// dialRefusal is the outcome of the last Dial that connected no one, as
	// the final response for a still unanswered caller (nil: none, or
	// the Dial connected). Only the verb loop touches it.
	dialRefusal *StatusError
	finalSent   chan struct{} // closed once the parent INVITE has a final response
	finalOnce   sync.Once
	relOnce     sync.Once

	// booksMu guards books, booksDone and booksClosed: the call's bookkeeping queue.
	booksMu     sync.Mutex
	books       chan func(context.Context)
	booksDone   chan struct{} // closed when runBooks has done everything queued
	booksClosed bool

	// mu guards the fields below.
	mu            sync.Mutex
	answered      time.Time
	localAnswered bool // answered with Patchbay as the far end
	bridged       bool // media of A relayed to a B leg at some point
	ringing       bool
	redirect      *redirectReq
	verbCancel    context.CancelCauseFunc
	end           callEnd
}

// callEnd is how a call ended; the first setEnd wins.
type callEnd struct {
	set    bool
	status callstatus.Status // when set explicitly (Hangup before answer)
	reason callstatus.Reason
	cause  accounting.EndCause
	code   int
	detail string // SIPReason of the CDR, e.g. "application error 11200"
	// refusal is the final response of an unanswered caller whose call
	// completed without an explicit Hangup (nil: 603 Decline).
	refusal *StatusError
}

// redirectReq is an API update waiting for the verb loop.
type redirectReq struct {
	url, method string
	twiml       string
	end         bool // Status=completed|canceled
}

var errRedirected = errors.New("sip: call redirected")

// msess returns the call's media session (nil without a media engine). It
// is replaced when a caller is re-anchored after a bridge.
func (c *call) msess() *media.Session { return c.sessp.Load() }

func (c *call) setEnd(e callEnd) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.end.set {
		e.set = true
		c.end = e
	}
}

func (c *call) isAnswered() bool {
	c.mu.Lock()
	defer c.mu.Unlock()

	return !c.answered.IsZero()
}

func (c *call) markFinalSent() { c.finalOnce.Do(func() { close(c.finalSent) }) }

// release gives back the admission slot; idempotent.
func (c *call) release() { c.relOnce.Do(func() { c.cc.adm.release(c.acct.SID) }) }

// params returns the call's parameters with status.
func (c *call) params(status string) url.Values {
	p := c.base
	p.CallStatus = status

	return p.Values()
}

// event enqueues a status callback when the application wants name. The
// event's time and duration are taken now; the insert runs on the call's
// bookkeeping queue. "initiated", every call's first event, also arms the
// final one (armFinal).
func (c *call) event(name string, status callstatus.Status, code int) {
	if name == "initiated" {
		c.armFinal()
	}
	if c.cc.cfg.Outbox == nil || c.app.statusURL == "" || !c.app.events[name] ||
		!c.hooks.callbacks {
		return
	}
	p := c.base
	p.CallStatus = string(status)
	ev := webhook.StatusEvent{Call: p, SIPResponseCode: code, Time: time.Now()}
	if status.Final() {
		if at := c.answeredAt(); !at.IsZero() {
			ev.Duration = time.Since(at)
		}
	}
	out := webhook.Event{AccountSID: c.acct.SID, CallSID: c.sid, URL: c.app.statusURL,
		Method: c.app.statusMethod, Params: ev.Values()}
	c.book(func(ctx context.Context) {
		if err := c.cc.cfg.Outbox.Enqueue(ctx, out); err != nil {
			c.log.Warn("status callback not queued", "event", name, "error", err)
		}
	})
}

func (c *call) answeredAt() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()

	return c.answered
}

// book runs op on the call's bookkeeping goroutine, in order with the
// call's other CDR writes and callbacks, so that durable writes (each
// waiting for a commit) never hold up signalling. After closeBooks, op
// runs on the caller's goroutine.
func (c *call) book(op func(ctx context.Context)) {
	c.booksMu.Lock()
	if c.booksClosed {
		done := c.booksDone
		c.booksMu.Unlock()
		if done != nil {
			<-done // after what was queued: a leg's close never overtakes its open
		}
		ctx, cancel := context.WithTimeout(context.WithoutCancel(c.ctx), teardownTimeout)
		defer cancel()
		op(ctx)

		return
	}
	if c.books == nil {
		c.books = make(chan func(context.Context), 64)
		c.booksDone = make(chan struct{})
		c.cc.wg.Add(1)
		go c.runBooks(c.books, c.booksDone)
	}
	// Sent under booksMu so that closeBooks cannot close the channel
	// between the check and the send; runBooks never takes booksMu.
	c.books <- op
	c.booksMu.Unlock()
}

func (c *call) runBooks(books <-chan func(context.Context), done chan<- struct{}) {
	defer c.cc.wg.Done()
	defer close(done)
	base := context.WithoutCancel(c.ctx)
	for op := range books {
		ctx, cancel := context.WithTimeout(base, teardownTimeout)
		op(ctx)
		cancel()
	}
}

// closeBooks lets the bookkeeping goroutine finish what is queued and end.
func (c *call) closeBooks() {
	c.booksMu.Lock()
	defer c.booksMu.Unlock()
	if !c.booksClosed && c.books != nil {
		close(c.books)
	}
	c.booksClosed = true
}

// openCDR records the start of a leg; failures are logged, never fatal.
func (c *call) openCDR(s accounting.LegStart) {
	if c.cc.cfg.Ledger == nil {
		return
	}
	s.MediaMode = c.mediaMode()
	if s.Created.IsZero() {
		s.Created = time.Now()
	}
	c.book(func(ctx context.Context) {
		if err := c.cc.cfg.Ledger.OpenLeg(ctx, s); err != nil {
			c.log.Error("cdr open failed", "leg", s.SID, "error", err)
		}
	})
}

func (c *call) cdrEvent(sid string, answered bool) {
	if c.cc.cfg.Ledger == nil {
		return
	}
	at := time.Now()
	c.book(func(ctx context.Context) {
		var err error
		if answered {
			err = c.cc.cfg.Ledger.LegAnswered(ctx, sid, at)
		} else {
			err = c.cc.cfg.Ledger.LegRinging(ctx, sid, at)
		}
		if err != nil {
			c.log.Error("cdr update failed", "leg", sid, "error", err)
		}
	})
}

func (c *call) closeCDR(e accounting.LegEnd, q accounting.Quality) {
	if c.cc.cfg.Ledger == nil {
		return
	}
	e.Quality = q
	e.Ended = time.Now()
	c.book(func(ctx context.Context) {
		if err := c.cc.cfg.Ledger.CloseLeg(ctx, e); err != nil {
			c.log.Error("cdr close failed", "leg", e.SID, "error", err)
		}
	})
}

func (c *call) mediaMode() string {
	if c.msess() != nil && c.msess().Mode() == media.ModeRelay {
		return string(tenancy.MediaRelayed)
	}

	return string(tenancy.MediaPeerToPeer)
}

// quality converts media stats of leg l to a CDR quality record.
func (c *call) quality(l media.Leg) accounting.Quality {
	if c.msess() == nil {
		return accounting.Quality{}
	}
	st := c.msess().Stats()
	ls := st.Legs[l]

	return accounting.Quality{
		Codec: ls.Codec, SRTP: ls.SRTP, PacketsSent: int64(ls.PacketsOut),
		PacketsReceived: int64(ls.PacketsIn), BytesSent: int64(ls.BytesOut),
		BytesReceived: int64(ls.BytesIn), PacketsLost: int64(ls.PacketsLost),
		Jitter: ls.Jitter, RTT: ls.RTT,
	}
}
