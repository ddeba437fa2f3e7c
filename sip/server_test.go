package sip

import (
	"context"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"testing"
	"time"

	sipmsg "github.com/emiago/sipgo/sip"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/patchbay/patchbay/sip/location"
	"github.com/patchbay/patchbay/tenancy"
)

// Test accounts: A owns acme.test (alice, bob, carol), B owns other.test
// (mallory), B2 owns hooks.test which has a voice URL.
const (
	acctA   = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	acctB   = "ACbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	acctSub = "ACcccccccccccccccccccccccccccccccc"
	domA    = "SDaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	domB    = "SDbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	domHook = "SDdddddddddddddddddddddddddddddddd"
	domSub  = "SDcccccccccccccccccccccccccccccccc"
	domSec  = "SDeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"
)

// testEnv is a started server over a fake directory and a memory store.
type testEnv struct {
	t     testing.TB
	srv   *Server
	dir   *fakeDirectory
	loc   location.Store
	reg   *prometheus.Registry
	addr  string // udp/tcp host:port
	calls chan *InboundCall
}

func newDirectory() *fakeDirectory {
	d := newFakeDirectory()
	d.addAccount(acctA, "", tenancy.StatusActive)
	d.addAccount(acctB, "", tenancy.StatusActive)
	d.addAccount(acctSub, acctA, tenancy.StatusActive)
	d.addDomain(tenancy.Domain{SID: domA, AccountSID: acctA, DomainName: "acme.test",
		SIPRegistration: true})
	d.addDomain(tenancy.Domain{SID: domB, AccountSID: acctB, DomainName: "other.test",
		SIPRegistration: true})
	d.addDomain(tenancy.Domain{SID: domHook, AccountSID: acctB, DomainName: "hooks.test",
		SIPRegistration: true, VoiceURL: "https://app.test/voice"})
	d.addDomain(tenancy.Domain{SID: domSub, AccountSID: acctSub, DomainName: "sub.test",
		SIPRegistration: true})
	d.addDomain(tenancy.Domain{SID: domSec, AccountSID: acctA, DomainName: "secure.test",
		SIPRegistration: true, Secure: true})
	for _, u := range []string{"alice", "bob", "carol"} {
		d.addUser(domA, acctA, u, u+"-pw")
	}
	d.addUser(domB, acctB, "mallory", "mallory-pw")
	d.addUser(domSub, acctSub, "sam", "sam-pw")
	d.addUser(domSec, acctA, "alice", "alice-pw")

	return d
}

// newEnv starts a server on 127.0.0.1:0 (UDP and TCP).
func newEnv(t testing.TB, mutate ...func(*Config)) *testEnv {
	t.Helper()

	return newEnvStore(t, location.NewMemory(nil), mutate...)
}

// newEnvStore is newEnv over the location store loc, closed at cleanup.
func newEnvStore(t testing.TB, loc location.Store, mutate ...func(*Config)) *testEnv {
	t.Helper()
	e := &testEnv{t: t, dir: newDirectory(), loc: loc,
		reg: prometheus.NewRegistry(), calls: make(chan *InboundCall, 8)}
	cfg := Config{Listen: "127.0.0.1:0", Registerer: e.reg, RingTimeout: 5 * time.Second,
		TrunkTimeout: 500 * time.Millisecond, CacheTTL: -1,
		Logger: testLogger()}
	for _, m := range mutate {
		m(&cfg)
	}
	srv, err := NewServer(cfg, e.dir, e.loc)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		srv.Close()
		e.loc.Close()
	})
	e.srv = srv
	e.addr = srv.Addr("udp").String()

	return e
}

// phone makes a phone of user@domain talking to the server.
func (e *testEnv) phone(transport, user, domain, password string) *phone {
	return newPhone(e.t, transport, e.addr, user, domain, password)
}

// appHandler is a CallHandler answering every inbound call with 200 and
// reporting it on the env's calls channel.
type appHandler struct{ calls chan *InboundCall }

func (h appHandler) HandleInbound(_ context.Context, c *InboundCall) {
	h.calls <- c
	res := sipmsgResponse(c, 200)
	c.Tx.Respond(res)
}

// testLogger discards logs unless PATCHBAY_TEST_LOG is set.
func testLogger() *slog.Logger {
	if os.Getenv("PATCHBAY_TEST_LOG") != "" {
		opts := &slog.HandlerOptions{Level: slog.LevelDebug}
		return slog.New(slog.NewTextHandler(os.Stderr, opts))
	}

	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func mustPrefix(s string) netip.Prefix { return netip.MustParsePrefix(s) }

func sipmsgResponse(c *InboundCall, code int) *sipmsg.Response {
	return sipmsg.NewResponseFromRequest(c.Request, code, "OK", nil)
}

func contextWithTimeout(t *testing.T, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(t.Context(), d)
}
