package main

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// sipLine is the log line naming the bound SIP listeners.
var sipLine = regexp.MustCompile(`msg="sip listening" udp_addr=(\S+)`)

// statusSink is a tenant's status callback receiver that refuses (503)
// until accepting is set, and records the CallSid of each accepted event.
type statusSink struct {
	accepting atomic.Bool
	mu        sync.Mutex
	got       map[string]int // CallSid → accepted events, guarded by mu
	refused   atomic.Int64
}

func (s *statusSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	if !s.accepting.Load() {
		s.refused.Add(1)
		w.WriteHeader(http.StatusServiceUnavailable)

		return
	}
	s.mu.Lock()
	s.got[r.Form.Get("CallSid")]++
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (s *statusSink) delivered() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.got))
	for k, v := range s.got {
		out[k] = v
	}

	return out
}

// startPatchbay starts the binary on dataDir and returns it with its API
// base URL and SIP address.
func startPatchbay(t *testing.T, dataDir string) (*process, string, string) {
	t.Helper()
	env := []string{"PATCHBAY_DATA_DIR=" + dataDir, "PATCHBAY_API_LISTEN=127.0.0.1:0",
		"PATCHBAY_SIP_LISTEN=127.0.0.1:0", "PATCHBAY_ADMIN_TOKEN=" + testToken,
		"PATCHBAY_ACCOUNTING_NODE_ID=crash-node", "PATCHBAY_ACCOUNTING_HEARTBEAT=1s",
		"PATCHBAY_MEDIA_PORTS=24000-27998", "PATCHBAY_CALLS_DRAIN_TIMEOUT=1s"}
	p := startBinary(t, env, "serve")
	sip := p.waitFor(t, sipLine)[1]
	api := p.waitFor(t, servingLine)[1]
	go func() { // keep stderr flowing
		for range p.lines {
		}
	}()

	return p, "http://" + api, sip
}

// TestSystemKill9 kills the server with SIGKILL while calls are up and
// status callbacks are queued, restarts it, and checks that every CDR is
// closed exactly once and the queued callbacks are delivered.
func TestSystemKill9(t *testing.T) {
	const done, live = 2, 3
	sink := &statusSink{got: map[string]int{}}
	mux := http.NewServeMux()
	mux.HandleFunc("/voice", func(w http.ResponseWriter, r *http.Request) {
		writeXML(w, dialBob)
	})
	mux.Handle("/status", sink)
	app := newHTTPServer(t, mux)

	dataDir := t.TempDir()
	p, base, sipAddr := startPatchbay(t, dataDir)
	tn := provision(t, base, "crash.test", url.Values{"VoiceUrl": {app + "/voice"},
		"VoiceStatusCallbackUrl": {app + "/status"}})
	alice := newPhone(t, "127.0.0.70", sipAddr, tn.domain, "alice")
	newPhone(t, "127.0.0.71", sipAddr, tn.domain, "bob").mustRegister()
	for i := range done + live {
		session, code, err := alice.call(t.Context(), "bob")
		if code != 200 {
			t.Fatalf("call %d: %d %v", i, code, err)
		}
		if i < done {
			if err := session.Bye(t.Context()); err != nil {
				t.Fatalf("hang up call %d: %v", i, err)
			}
		}
		t.Cleanup(func() { session.Close() })
	}
	if !eventually(5*time.Second, func() bool { return sink.refused.Load() >= done }) {
		t.Fatalf("%d status callbacks attempted before the crash, want %d", sink.refused.Load(),
			done)
	}
	time.Sleep(1500 * time.Millisecond) // a heartbeat with the calls up

	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	p.cmd.Wait()
	sink.accepting.Store(true)
	p, _, _ = startPatchbay(t, dataDir)
	delivered := func() bool { return len(sink.delivered()) >= done }
	if !eventually(15*time.Second, delivered) {
		t.Errorf("status callbacks delivered after the restart for %d calls, want %d",
			len(sink.delivered()), done)
	}
	t.Logf("status callbacks delivered after the restart: %v", sink.delivered())
	if code := p.stop(t, syscall.SIGTERM); code != 0 {
		t.Errorf("exit %d after SIGTERM:\n%s", code, p.stderr())
	}
	first := readLegs(t, dataDir)
	checkRecovered(t, first, 2*done, 2*live)

	// A further start must not close anything again.
	p, _, _ = startPatchbay(t, dataDir)
	p.stop(t, syscall.SIGTERM)
	if again := readLegs(t, dataDir); !sameLegs(first, again) {
		t.Errorf("CDRs changed on a further restart:\nbefore %+v\nafter  %+v", first, again)
	}
}

// newHTTPServer serves h on a loopback port until the test ends and
// returns its base URL.
func newHTTPServer(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)

	return srv.URL
}

// checkRecovered checks the CDRs after a crash: ended legs closed by their
// hang-up, crashed legs closed by recovery, none open.
func checkRecovered(t *testing.T, legs []legRow, ended, crashed int) {
	t.Helper()
	causes := map[string]int{}
	for _, l := range legs {
		if !l.ended || l.status != "completed" {
			t.Errorf("CDR %s: ended %v status %q, want closed and completed", l.sid, l.ended,
				l.status)
		}
		causes[l.cause]++
	}
	if len(legs) != ended+crashed || causes["node-crash"] != crashed {
		t.Errorf("%d CDRs with causes %v, want %d of them node-crash out of %d",
			len(legs), causes, crashed, ended+crashed)
	}
}

func sameLegs(a, b []legRow) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}

	return true
}
