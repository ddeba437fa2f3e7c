package sip

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/patchbay/patchbay/sip/digest"
	"github.com/patchbay/patchbay/sip/location"
)

// sippDir holds the sipp scenarios.
const sippDir = "../testdata/sipp"

// sippResult is what one sipp run left behind.
type sippResult struct {
	exit      int
	succeeded int    // SuccessfulCall(C) of the statistics file
	failed    int    // FailedCall(C)
	failures  string // the non-zero Failed... columns, by kind
	output    string // stdout and stderr
	errors    string // the -trace_err file
	messages  string // the -trace_msg file
}

func (r sippResult) String() string {
	return fmt.Sprintf("exit %d, %d succeeded, %d failed (%s)\nerrors:\n%s\nmessages:\n%s",
		r.exit, r.succeeded, r.failed, r.failures, redactAuth(r.errors),
		redactAuth(tail(r.messages, 6000)))
}

// sippUser is an injection line for user of acme.test: user, domain, the
// whole [authentication] keyword (sipp 3.6 does not expand fields inside
// it) and callee.
func sippUser(user, password, callee string) string {
	return fmt.Sprintf("%s;acme.test;[authentication username=%s password=%s];%s\n",
		user, user, password, callee)
}

// requireSipp fails t when sipp is not installed.
func requireSipp(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("sipp"); err != nil {
		t.Fatal("sipp not found: install it (apt-get install -y sip-tester) and run: " +
			"go test -race -run SIPp ./sip/")
	}
}

// sippRun describes one sipp process against a Patchbay server.
type sippRun struct {
	name      string // file name prefix in dir
	scenario  string // file in testdata/sipp
	oocs      string // out-of-call scenario file, or empty
	transport string // "udp" or "tcp"
	server    string // host:port
	fields    string // injection file content, first line SEQUENTIAL
	calls     int    // -m
	hold      time.Duration
	timeout   time.Duration
	rate      int // -r calls per second (sipp's default when 0)
	limit     int // -l simultaneous calls (sipp's default when 0)
	// load drops the per-message trace: a load benchmark runs sipp as
	// sip/bench/run.sh runs it against Kamailio, since writing every
	// message to a file costs sipp more CPU than the messages themselves.
	load bool
}

// start starts sipp in dir; wait with sippWait.
func (r sippRun) start(ctx context.Context, t testing.TB, dir string) (*exec.Cmd,
	*strings.Builder) {
	t.Helper()
	scen, err := filepath.Abs(filepath.Join(sippDir, r.scenario))
	if err != nil {
		t.Fatal(err)
	}
	inf := filepath.Join(dir, r.name+".csv")
	if err := os.WriteFile(inf, []byte("SEQUENTIAL\n"+r.fields), 0o600); err != nil {
		t.Fatal(err)
	}
	mode := map[string]string{"udp": "u1", "tcp": "t1"}[r.transport]
	args := []string{"-sf", scen, "-inf", inf, "-t", mode, "-i", "127.0.0.1",
		"-m", strconv.Itoa(r.calls), "-timeout", fmt.Sprintf("%ds", int(r.timeout.Seconds())),
		"-timeout_error", "-nostdin", "-d", strconv.Itoa(int(r.hold.Milliseconds())),
		"-trace_err", "-error_file", filepath.Join(dir, r.name+"_errors.log"),
		"-trace_stat", "-stf", filepath.Join(dir, r.name+"_stat.csv"),
		"-default_behaviors", "all,-bye", "-recv_timeout", "5000"}
	if !r.load {
		args = append(args, "-trace_msg", "-message_file",
			filepath.Join(dir, r.name+"_messages.log"))
	}
	if r.rate > 0 {
		args = append(args, "-r", strconv.Itoa(r.rate), "-rp", "1000")
	}
	if r.limit > 0 {
		args = append(args, "-l", strconv.Itoa(r.limit))
	}
	if r.oocs != "" {
		ooc, _ := filepath.Abs(filepath.Join(sippDir, r.oocs))
		args = append(args, "-oocsf", ooc)
	}
	args = append(args, r.server)
	cmd := exec.CommandContext(ctx, "sipp", args...)
	cmd.Dir = dir
	out := &strings.Builder{}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.WaitDelay = time.Second
	if err := cmd.Start(); err != nil {
		t.Fatalf("start sipp: %v", err)
	}

	return cmd, out
}

// wait waits for cmd and collects its results.
func (r sippRun) wait(t testing.TB, dir string, cmd *exec.Cmd, out *strings.Builder) sippResult {
	t.Helper()
	err := cmd.Wait()
	res := sippResult{output: out.String()}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		res.exit = exit.ExitCode()
	case err != nil:
		t.Fatalf("sipp %s: %v", r.name, err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, r.name+"_errors.log")); err == nil {
		res.errors = string(b)
	}
	if b, err := os.ReadFile(filepath.Join(dir, r.name+"_messages.log")); err == nil {
		res.messages = string(b)
	}
	res.succeeded, res.failed, res.failures = sippCounts(t,
		filepath.Join(dir, r.name+"_stat.csv"))

	return res
}

func (r sippRun) run(ctx context.Context, t testing.TB, dir string) sippResult {
	t.Helper()
	cmd, out := r.start(ctx, t, dir)

	return r.wait(t, dir, cmd, out)
}

// sippCounts reads the cumulative successful and failed call counts from
// the last line of a sipp statistics file, and the non-zero failure
// columns ("FailedMaxUDPRetrans: 3").
func sippCounts(t testing.TB, path string) (int, int, string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		return -1, -1, ""
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) < 2 {
		return -1, -1, ""
	}
	head := strings.Split(lines[0], ";")
	last := strings.Split(lines[len(lines)-1], ";")
	cols := map[string]int{}
	for i, h := range head {
		if n, err := strconv.Atoi(last[min(i, len(last)-1)]); err == nil && i < len(last) {
			cols[h] = n
		}
	}
	for _, col := range []string{"SuccessfulCall(C)", "FailedCall(C)"} {
		if _, ok := cols[col]; !ok {
			t.Fatalf("sipp statistics %s lack column %s", path, col)
		}
	}
	var kinds []string
	for _, h := range head {
		if strings.HasPrefix(h, "Failed") && strings.HasSuffix(h, "(C)") &&
			h != "FailedCall(C)" && cols[h] > 0 {
			kinds = append(kinds, fmt.Sprintf("%s: %d", strings.TrimSuffix(h, "(C)"), cols[h]))
		}
	}

	return cols["SuccessfulCall(C)"], cols["FailedCall(C)"], strings.Join(kinds, ", ")
}

func TestSIPpRegisterAuth(t *testing.T) {
	requireSipp(t)
	for _, transport := range []string{"udp", "tcp"} {
		t.Run(transport, func(t *testing.T) {
			e := newSippEnv(t, digest.MD5, digest.SHA256)
			dir := t.TempDir()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			res := sippRun{name: "register", scenario: "uac_register_auth.xml",
				transport: transport, server: e.addr, calls: 1, timeout: 15 * time.Second,
				fields: sippUser("alice", "alice-pw", "")}.run(ctx, t, dir)
			if res.exit != 0 || res.succeeded != 1 || res.failed != 0 {
				t.Fatalf("sipp register: %v", res)
			}
			got, err := e.srv.Contacts(ctx, "alice@acme.test")
			if err != nil || len(got) != 1 {
				t.Fatalf("bindings after the sipp REGISTER: %v, %v", got, err)
			}
			if got[0].UserAgent != "sipp" || got[0].Transport != transport {
				t.Errorf("binding %+v, want user agent sipp over %s", got[0], transport)
			}
		})
	}
}

func TestSIPpRegisterWrongPassword(t *testing.T) {
	requireSipp(t)
	e := newSippEnv(t, digest.MD5, digest.SHA256)
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res := sippRun{name: "register", scenario: "uac_register_auth.xml", transport: "udp",
		server: e.addr, calls: 1, timeout: 15 * time.Second,
		fields: sippUser("alice", "wrong", "")}.run(ctx, t, dir)
	if res.exit != 1 || res.succeeded != 0 || res.failed != 1 {
		t.Fatalf("sipp register with a wrong password: %v", res)
	}
	if !strings.Contains(res.errors, "403") {
		t.Errorf("sipp did not see a 403:\n%s", res.errors)
	}
	if got, _ := e.srv.Contacts(ctx, "alice@acme.test"); len(got) != 0 {
		t.Errorf("a wrong password left bindings %+v", got)
	}
}

// TestSIPpDefaultChallengeOrder pins a known interop gap: with the default
// challenge order (SHA-256 first, RFC 8760) sipp 3.6 gives up instead of
// answering the MD5 challenge that follows. When this test fails, sipp
// has learnt SHA-256 or to skip challenges it cannot answer.
func TestSIPpDefaultChallengeOrder(t *testing.T) {
	requireSipp(t)
	e := newSippEnv(t)
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res := sippRun{name: "register", scenario: "uac_register_auth.xml", transport: "udp",
		server: e.addr, calls: 1, timeout: 10 * time.Second,
		fields: sippUser("alice", "alice-pw", "")}.run(ctx, t, dir)
	if res.exit == 0 || !strings.Contains(res.errors, "authentication must use MD5") {
		t.Fatalf("sipp answered a SHA-256-first challenge: %v", res)
	}
}

// TestSIPpCall runs a call between two registered sipp users through the
// proxy: bob registers and answers (uac_register_auth.xml, with
// uas_answer.xml for the incoming call), alice registers and calls.
func TestSIPpCall(t *testing.T) {
	requireSipp(t)
	for _, transport := range []string{"udp", "tcp"} {
		t.Run(transport, func(t *testing.T) {
			e := newSippEnv(t, digest.MD5, digest.SHA256)
			dir := t.TempDir()
			ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
			defer cancel()
			callee := sippRun{name: "callee", scenario: "uac_register_auth.xml",
				oocs: "uas_answer.xml", transport: transport, server: e.addr, calls: 1,
				hold: 4 * time.Second, timeout: 20 * time.Second,
				fields: sippUser("bob", "bob-pw", "")}
			cmd, out := callee.start(ctx, t, dir)
			waitBinding(ctx, t, e, "bob@acme.test")

			caller := sippRun{name: "caller", scenario: "uac_call.xml", transport: transport,
				server: e.addr, calls: 1, hold: 300 * time.Millisecond,
				timeout: 15 * time.Second, fields: sippUser("alice", "alice-pw", "bob")}
			res := caller.run(ctx, t, dir)
			if res.exit != 0 || res.succeeded != 1 || res.failed != 0 {
				t.Errorf("caller: %v", res)
			}
			res = callee.wait(t, dir, cmd, out)
			if res.exit != 0 || res.failed != 0 {
				t.Errorf("callee: %v", res)
			}
			for _, want := range []string{"INVITE sip:bob@", "ACK sip:", "BYE sip:"} {
				if !strings.Contains(res.messages, want) {
					t.Errorf("the callee never got %q:\n%s", want, tail(res.messages, 4000))
				}
			}
		})
	}
}

// sippEnv is a started server for sipp: the test directory (users alice,
// bob and carol of acme.test, password "<user>-pw") and a memory location
// store.
type sippEnv struct {
	srv  *Server
	loc  *location.Memory
	addr string // host:port of the UDP and TCP listeners
}

// newSippEnv starts a server on 127.0.0.1:0 whose digest challenges offer
// algs in order (Config.DigestAlgorithms; the default when empty). sipp 3.6
// reads only the first challenge and aborts on SHA-256, so its tests offer
// MD5 first.
func newSippEnv(t *testing.T, algs ...digest.Algorithm) *sippEnv {
	t.Helper()

	return newSippEnvDir(t, newDirectory(), algs...)
}

// newSippEnvDir is newSippEnv over the directory d.
func newSippEnvDir(t *testing.T, d Directory, algs ...digest.Algorithm) *sippEnv {
	t.Helper()
	e, stop, err := startSippEnv(d, nil, algs...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)

	return e
}

// startSippEnv starts a server over d, its Config changed by mutate when
// not nil, and returns it with its stop function. It may run on any
// goroutine.
func startSippEnv(d Directory, mutate func(*Config), algs ...digest.Algorithm) (
	*sippEnv, func(), error) {
	loc := location.NewMemory(nil)
	cfg := Config{Listen: "127.0.0.1:0", RingTimeout: 10 * time.Second,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if os.Getenv("PATCHBAY_TEST_SIP_LOG") != "" {
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr,
			&slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	cfg.DigestAlgorithms = algs
	if mutate != nil {
		mutate(&cfg)
	}
	srv, err := NewServer(cfg, d, loc)
	if err != nil {
		loc.Close()
		return nil, nil, err
	}
	if err := srv.Start(context.Background()); err != nil {
		loc.Close()
		return nil, nil, err
	}
	stop := func() {
		srv.Close()
		loc.Close()
	}

	return &sippEnv{srv: srv, loc: loc, addr: srv.Addr("udp").String()}, stop, nil
}

// waitBinding waits until aor has a binding.
func waitBinding(ctx context.Context, t testing.TB, e *sippEnv, aor string) {
	t.Helper()
	for ctx.Err() == nil {
		if got, err := e.srv.Contacts(ctx, aor); err == nil && len(got) > 0 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s never registered", aor)
}

// tail returns the last n bytes of s.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}

	return "..." + s[len(s)-n:]
}

// redactAuth replaces the values of Authorization and Proxy-Authorization
// lines in a sipp trace: digest responses are not printed, not even test
// ones.
func redactAuth(trace string) string {
	lines := strings.Split(trace, "\n")
	for i, l := range lines {
		name, _, ok := strings.Cut(strings.TrimSpace(l), ":")
		if ok && (strings.EqualFold(name, "Authorization") ||
			strings.EqualFold(name, "Proxy-Authorization")) {
			lines[i] = name + ": (redacted)"
		}
	}

	return strings.Join(lines, "\n")
}

func TestRedactAuth(t *testing.T) {
	in := "REGISTER sip:acme.test SIP/2.0\n      Authorization: Digest response=\"abc\"\n" +
		"proxy-authorization: Digest response=\"def\"\nTo: <sip:alice@acme.test>"
	got := redactAuth(in)
	if strings.Contains(got, "abc") || strings.Contains(got, "def") ||
		!strings.Contains(got, "To: <sip:alice@acme.test>") {
		t.Errorf("redactAuth left %q", got)
	}
}
