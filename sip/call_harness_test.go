package sip

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	sipmsg "github.com/emiago/sipgo/sip"

	"github.com/patchbay/patchbay/accounting"
	"github.com/patchbay/patchbay/media"
	"github.com/patchbay/patchbay/sip/location"
	"github.com/patchbay/patchbay/sip/webhook"
	"github.com/patchbay/patchbay/tenancy"
)

// ccEnv is a running B2BUA: a Server with call control over a real
// tenancy store, ledger and outbox in SQLite, a media engine, and a tenant
// application served by httptest.
type ccEnv struct {
	t      *testing.T
	store  *tenancy.Store
	ledger *accounting.Ledger
	outbox *webhook.Outbox
	srv    *Server
	cc     *CallControl
	acct   *tenancy.Account
	domain *tenancy.Domain
	app    *ccApp
	addr   string // server UDP host:port
	dir    string

	portMin, portMax int
}

// ccApp is the tenant's web application: a table of paths to handlers,
// recording every request.
type ccApp struct {
	srv *httptest.Server
	mu  sync.Mutex
	// routes and reqs are guarded by mu.
	routes map[string]func(url.Values) string
	files  map[string][]byte
	reqs   []ccAppReq
}

// file serves body as audio/wav at path.
func (a *ccApp) file(path string, body []byte) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.files[path] = body
}

type ccAppReq struct {
	path   string
	params url.Values
	sig    string // X-Twilio-Signature
	url    string // the full URL as requested
	post   url.Values
}

func (a *ccApp) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	a.mu.Lock()
	a.reqs = append(a.reqs, ccAppReq{path: r.URL.Path, params: r.Form,
		sig: r.Header.Get("X-Twilio-Signature"),
		url: "http://" + r.Host + r.URL.RequestURI(), post: r.PostForm})
	h := a.routes[r.URL.Path]
	file := a.files[r.URL.Path]
	a.mu.Unlock()
	if file != nil {
		w.Header().Set("Content-Type", "audio/wav")
		w.Write(file)

		return
	}
	if h == nil {
		w.WriteHeader(http.StatusNoContent)

		return
	}
	body := h(r.Form)
	if code, err := strconv.Atoi(strings.TrimPrefix(body, "!")); err == nil {
		w.WriteHeader(code)

		return
	}
	w.Header().Set("Content-Type", "text/xml")
	io.WriteString(w, body)
}

// route serves a fixed document (or a function of the parameters) at path.
func (a *ccApp) route(path string, h func(url.Values) string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.routes[path] = h
}

func (a *ccApp) doc(path, doc string) { a.route(path, func(url.Values) string { return doc }) }

func (a *ccApp) requests(path string) []url.Values {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []url.Values
	for _, r := range a.reqs {
		if r.path == path {
			out = append(out, r.params)
		}
	}

	return out
}

func (a *ccApp) url(path string) string { return a.srv.URL + path }

// signedWith reports whether every request to path carried a valid
// X-Twilio-Signature for token, checked as the published scheme says:
// base64 HMAC-SHA1 over the full URL followed by the POST parameters
// sorted by name, each name then its value.
func (a *ccApp) signedWith(path, token string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for _, r := range a.reqs {
		if r.path != path {
			continue
		}
		n++
		data := r.url
		names := make([]string, 0, len(r.post))
		for k := range r.post {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			for _, v := range r.post[k] {
				data += k + v
			}
		}
		mac := hmac.New(sha1.New, []byte(token))
		mac.Write([]byte(data))
		if base64.StdEncoding.EncodeToString(mac.Sum(nil)) != r.sig {
			return false
		}
	}

	return n > 0
}

// quietLog discards logs unless PATCHBAY_TEST_LOG is set.
func quietLog() *slog.Logger {
	if os.Getenv("PATCHBAY_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr,
			&slog.HandlerOptions{Level: slog.LevelDebug}))
	}

	return slog.New(slog.DiscardHandler)
}

// waitRequests waits until path was requested n times and returns them.
func (e *ccEnv) waitRequests(path string, n int) []url.Values {
	e.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if r := e.app.requests(path); len(r) >= n {
			return r
		}
		time.Sleep(10 * time.Millisecond)
	}
	e.t.Fatalf("%s requested %d times, want %d", path, len(e.app.requests(path)), n)

	return nil
}

// newCCEnv starts everything; the domain "acme.test" runs /voice.
func newCCEnv(t *testing.T) *ccEnv { return newCCEnvPorts(t, 41000, 49999) }

// newCCEnvPorts is newCCEnv with the media engine on ports lo..hi.
func newCCEnvPorts(t *testing.T, lo, hi int) *ccEnv {
	t.Helper()
	ctx := t.Context()
	e := &ccEnv{t: t, dir: t.TempDir(), portMin: lo, portMax: hi}
	db, err := tenancy.OpenDB(ctx, filepath.Join(e.dir, "pb.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if e.store, err = tenancy.NewStore(ctx, db); err != nil {
		t.Fatal(err)
	}
	if e.ledger, err = accounting.Open(ctx, accounting.Config{DB: db, Node: "test",
		Logger: quietLog()}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.ledger.Close() })
	e.app = &ccApp{routes: map[string]func(url.Values) string{}, files: map[string][]byte{}}
	e.app.srv = httptest.NewServer(e.app)
	t.Cleanup(e.app.srv.Close)
	e.setupTenant(ctx)
	e.startServer(ctx, db)

	return e
}

func (e *ccEnv) setupTenant(ctx context.Context) {
	var err error
	if e.acct, err = e.store.CreateAccount(ctx, "", "acme"); err != nil {
		e.t.Fatal(err)
	}
	e.domain, err = e.store.CreateDomain(ctx, &tenancy.Domain{AccountSID: e.acct.SID,
		DomainName: "acme.test", VoiceURL: e.app.url("/voice"), VoiceMethod: "POST",
		VoiceFallbackURL:    e.app.url("/fallback"),
		VoiceStatusCallback: e.app.url("/status"), SIPRegistration: true})
	if err != nil {
		e.t.Fatal(err)
	}
}

func (e *ccEnv) startServer(ctx context.Context, db interface{}) {
	t := e.t
	var err error
	loopback := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	e.srv, err = NewServer(Config{Listen: "127.0.0.1:0", Logger: quietLog(),
		TrustedSources: loopback, AuthExemptSources: loopback},
		e.store, location.NewMemory(nil))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.srv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.srv.Close() })
	e.addr = e.srv.Addr("udp").String()
	client := webhook.New(webhook.Config{Logger: quietLog(), Timeout: 2 * time.Second})
	// Wired as cmd/patchbay wires it: one lookup cache for call control
	// and the outbox's signing keys.
	dir := NewCallDirectoryCache(e.store, 0)
	e.outbox = e.openOutbox(ctx, client, dir.AuthToken)
	eng, err := media.NewEngine(media.Config{Logger: quietLog(), PortMin: e.portMin,
		PortMax: e.portMax})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	e.cc, err = NewCallControl(CallControlConfig{Server: e.srv, Directory: dir,
		Webhooks: client, Outbox: e.outbox, Ledger: e.ledger, Media: eng, Notifications: e.store,
		RecordingsDir: filepath.Join(e.dir, "recordings"), APIBaseURL: "http://api.test",
		Logger: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.cc.Close() })
}

func (e *ccEnv) openOutbox(ctx context.Context, client *webhook.Client,
	tokens webhook.TokenFunc) *webhook.Outbox {
	db, err := tenancy.OpenDB(ctx, filepath.Join(e.dir, "pb.db"))
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { db.Close() })
	ob, err := webhook.OpenOutbox(ctx, db, webhook.OutboxConfig{Client: client,
		PollInterval: 20 * time.Millisecond, BackoffBase: 20 * time.Millisecond,
		Logger: quietLog(), Tokens: tokens})
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { ob.Close() })

	return ob
}

// waitCallback waits for a status callback with CallStatus status.
func (e *ccEnv) waitCallback(status string) url.Values {
	e.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		for _, p := range e.app.requests("/status") {
			if p.Get("CallStatus") == status {
				return p
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	e.t.Fatalf("no %s status callback; got %v", status, e.app.requests("/status"))

	return nil
}

// cdr reads the CDR of leg sid once it is closed.
func (e *ccEnv) cdr(sid string) *accounting.CDR {
	e.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		c, err := e.ledger.CDR(e.t.Context(), sid)
		if err == nil && !c.Open() {
			return c
		}
		time.Sleep(10 * time.Millisecond)
	}
	e.t.Fatalf("cdr %s not closed", sid)

	return nil
}

// ccUA is a SIP endpoint for tests: it places calls (caller) or answers
// them (callee) on its own UDP socket on loopback.
type ccUA struct {
	t      *testing.T
	ua     *sipgo.UserAgent
	cli    *sipgo.Client
	srv    *sipgo.Server
	port   int
	rtp    *net.UDPConn
	dc     *sipgo.DialogClientCache
	ds     *sipgo.DialogServerCache
	answer func(d *sipgo.DialogServerSession)
	srtp   bool // offer SDES-SRTP

	mu      sync.Mutex
	invites []*sipmsg.Request // guarded by mu
	infos   []*sipmsg.Request // INFO and UPDATE; guarded by mu
	acks    []*sipmsg.Request // guarded by mu
	byes    chan struct{}
}

func newCCUA(t *testing.T, user string) *ccUA {
	t.Helper()
	u := &ccUA{t: t, byes: make(chan struct{}, 16)}
	var err error
	if u.ua, err = sipgo.NewUA(sipgo.WithUserAgent(user)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { u.ua.Close() })
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	u.port = conn.LocalAddr().(*net.UDPAddr).Port
	if u.rtp, err = net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { u.rtp.Close() })
	u.srv, _ = sipgo.NewServer(u.ua)
	t.Cleanup(func() { conn.Close() })
	u.cli, err = sipgo.NewClient(u.ua, sipgo.WithClientHostname("127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	contact := sipmsg.ContactHeader{Address: sipmsg.Uri{Scheme: "sip", User: user,
		Host: "127.0.0.1", Port: u.port}}
	u.dc = sipgo.NewDialogClientCache(u.cli, contact)
	u.ds = sipgo.NewDialogServerCache(u.cli, contact)
	u.srv.OnInvite(u.onInvite)
	u.srv.OnAck(func(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
		u.mu.Lock()
		u.acks = append(u.acks, req)
		u.mu.Unlock()
		u.ds.ReadAck(req, tx)
	})
	u.srv.OnBye(u.onBye)
	u.srv.OnRequest(sipmsg.UPDATE, func(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
		u.mu.Lock()
		u.infos = append(u.infos, req)
		u.mu.Unlock()
		res := sipmsg.NewResponseFromRequest(req, 200, "OK", u.sdp())
		res.AppendHeader(sipmsg.NewHeader("Content-Type", "application/sdp"))
		tx.Respond(res)
	})
	u.srv.OnInfo(func(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
		u.mu.Lock()
		u.infos = append(u.infos, req)
		u.mu.Unlock()
		tx.Respond(sipmsg.NewResponseFromRequest(req, 200, "OK", nil))
	})
	go u.srv.ServeUDP(conn)

	return u
}

func (u *ccUA) uri(user string) string {
	return fmt.Sprintf("sip:%s@127.0.0.1:%d", user, u.port)
}

func (u *ccUA) onInvite(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	u.mu.Lock()
	u.invites = append(u.invites, req)
	answer := u.answer
	u.mu.Unlock()
	if to := req.To(); to != nil && to.Params.Has("tag") {
		// A re-INVITE: accept it with our SDP.
		res := sipmsg.NewResponseFromRequest(req, 200, "OK", u.sdp())
		res.AppendHeader(sipmsg.NewHeader("Content-Type", "application/sdp"))
		tx.Respond(res)

		return
	}
	d, err := u.ds.ReadInvite(req, tx)
	if err != nil {
		return
	}
	if answer == nil {
		answer = answerNow(u)
	}
	answer(d)
}

func (u *ccUA) onBye(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	if err := u.ds.ReadBye(req, tx); err != nil {
		if err := u.dc.ReadBye(req, tx); err != nil {
			tx.Respond(sipmsg.NewResponseFromRequest(req, 481, "No Dialog", nil))

			return
		}
	}
	u.byes <- struct{}{}
}

func (u *ccUA) invitesSeen() []*sipmsg.Request {
	u.mu.Lock()
	defer u.mu.Unlock()

	return append([]*sipmsg.Request(nil), u.invites...)
}

func (u *ccUA) infosSeen() []*sipmsg.Request {
	u.mu.Lock()
	defer u.mu.Unlock()

	return append([]*sipmsg.Request(nil), u.infos...)
}

// register binds user@acme.test to this UA at the server (trusted source,
// no digest).
func (u *ccUA) register(ctx context.Context, server, user string) error {
	var to sipmsg.Uri
	sipmsg.ParseUri("sip:"+user+"@acme.test", &to)
	req := sipmsg.NewRequest(sipmsg.REGISTER, sipmsg.Uri{Scheme: "sip", Host: "acme.test"})
	req.SetDestination(server)
	req.AppendHeader(&sipmsg.ToHeader{Address: to})
	from := &sipmsg.FromHeader{Address: to, Params: sipmsg.NewParams()}
	from.Params.Add("tag", sipmsg.GenerateTagN(10))
	req.AppendHeader(from)
	req.AppendHeader(&sipmsg.ContactHeader{Address: sipmsg.Uri{Scheme: "sip", User: user,
		Host: "127.0.0.1", Port: u.port}})
	req.AppendHeader(sipmsg.NewHeader("Expires", "300"))
	res, err := u.cli.Do(ctx, req)
	if err != nil {
		return err
	}
	if res.StatusCode != 200 {
		return fmt.Errorf("register: %d %s", res.StatusCode, res.Reason)
	}

	return nil
}

func (u *ccUA) setAnswer(f func(d *sipgo.DialogServerSession)) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.answer = f
}

// sdp returns an audio offer/answer with PCMU and telephone-event on the
// UA's RTP socket.
func (u *ccUA) sdp() []byte {
	port := u.rtp.LocalAddr().(*net.UDPAddr).Port
	proto, crypto := "RTP/AVP", ""
	if u.srtp {
		proto = "RTP/SAVP"
		crypto = "a=crypto:1 AES_CM_128_HMAC_SHA1_80 " +
			"inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz\r\n"
	}

	return []byte(fmt.Sprintf("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\n"+
		"c=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio %d %s 0 101\r\n"+
		"a=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n"+
		"a=fmtp:101 0-16\r\n%sa=sendrecv\r\n", port, proto, crypto))
}

// answerNow answers with 180 then 200.
func answerNow(u *ccUA) func(d *sipgo.DialogServerSession) {
	return func(d *sipgo.DialogServerSession) {
		d.Respond(180, "Ringing", nil)
		d.RespondSDP(u.sdp())
	}
}

func answerCode(code int) func(d *sipgo.DialogServerSession) {
	return func(d *sipgo.DialogServerSession) { d.Respond(code, "Test", nil) }
}

func ringForeverUA(d *sipgo.DialogServerSession) {
	d.Respond(180, "Ringing", nil)
	<-d.Context().Done()
}

// callNumber has a new UA, alice, call the account's number through e.
// The returned context ends with the test, or after 10 s.
func callNumber(t *testing.T, e *ccEnv) (context.Context, *sipgo.DialogClientSession) {
	t.Helper()
	alice := newCCUA(t, "alice")
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	t.Cleanup(cancel)
	d, err := alice.call(ctx, e.addr, "+14155550100")
	if err != nil {
		t.Fatal(err)
	}

	return ctx, d
}

// call places a call from the UA to user@acme.test through the server.
func (u *ccUA) call(ctx context.Context, server, user string,
	hdrs ...sipmsg.Header) (*sipgo.DialogClientSession, error) {
	var ruri, to sipmsg.Uri
	sipmsg.ParseUri("sip:"+user+"@"+server, &ruri)
	sipmsg.ParseUri("sip:"+user+"@acme.test", &to)
	req := sipmsg.NewRequest(sipmsg.INVITE, ruri)
	req.AppendHeader(&sipmsg.ToHeader{Address: to})
	from := &sipmsg.FromHeader{Address: sipmsg.Uri{Scheme: "sip", User: "alice",
		Host: "acme.test"}, Params: sipmsg.NewParams()}
	from.Params.Add("tag", sipmsg.GenerateTagN(10))
	req.AppendHeader(from)
	req.AppendHeader(sipmsg.NewHeader("Content-Type", "application/sdp"))
	for _, h := range hdrs {
		req.AppendHeader(h)
	}
	req.SetBody(u.sdp())

	return u.dc.WriteInvite(ctx, req)
}
