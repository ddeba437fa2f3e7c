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
// until accepting is set, and records each accepted event.
type statusSink struct {
	accepting atomic.Bool
	mu        sync.Mutex
	got       map[string][]url.Values // CallSid → accepted events, guarded by mu
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
	s.got[r.Form.Get("CallSid")] = append(s.got[r.Form.Get("CallSid")], r.Form)
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// delivered returns the accepted events by CallSid.
func (s *statusSink) delivered() map[string][]url.Values {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string][]url.Values, len(s.got))
	for k, v := range s.got {
		out[k] = append([]url.Values(nil), v...)
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
// closed exactly once, that the queued callbacks are delivered, and that
// each call cut by the crash gets exactly one completed callback, sent by
// the restarted server from its recovered CDR.
func TestSystemKill9(t *testing.T) {
	const done, live = 2, 3
	sink := &statusSink{got: map[string][]url.Values{}}
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
	delivered := func() bool { return len(sink.delivered()) >= done+live }
	if !eventually(15*time.Second, delivered) {
		t.Errorf("status callbacks delivered after the restart for %d calls, want %d",
			len(sink.delivered()), done+live)
	}
	if code := p.stop(t, syscall.SIGTERM); code != 0 {
		t.Errorf("exit %d after SIGTERM:\n%s", code, p.stderr())
	}
	first := readLegs(t, dataDir)
	checkRecovered(t, first, 2*done, 2*live)

	// A further start must neither close anything nor call back again.
	p, _, _ = startPatchbay(t, dataDir)
	time.Sleep(500 * time.Millisecond) // the outbox's first polls
	p.stop(t, syscall.SIGTERM)
	if again := readLegs(t, dataDir); !sameLegs(first, again) {
		t.Errorf("CDRs changed on a further restart:\nbefore %+v\nafter  %+v", first, again)
	}
	checkCompletedCallbacks(t, sink.delivered(), first, done, live)
}

// checkCompletedCallbacks checks that each parent call got exactly one
// event, its completed callback: the calls cut by the crash (their CDR
// closed by recovery) as answered calls with a duration and code 200.
func checkCompletedCallbacks(t *testing.T, got map[string][]url.Values, legs []legRow,
	done, live int) {
	t.Helper()
	crashed := map[string]bool{}
	for _, l := range legs {
		crashed[l.sid] = l.cause == "node-crash"
	}
	cut := 0
	for sid, events := range got {
		if len(events) != 1 || events[0].Get("CallStatus") != "completed" {
			var statuses []string
			for _, ev := range events {
				statuses = append(statuses, ev.Get("CallStatus"))
			}
			t.Errorf("call %s: callbacks %v, want exactly one completed", sid, statuses)
			continue
		}
		if !crashed[sid] {
			continue
		}
		cut++
		ev := events[0]
		if ev.Get("CallDuration") == "" || ev.Get("CallDuration") == "0" ||
			ev.Get("SipResponseCode") != "200" || ev.Get("From") == "" ||
			ev.Get("Direction") != "inbound" {
			t.Errorf("call %s cut by the crash: completed callback %v", sid, ev)
		}
	}
	if len(got) != done+live || cut != live {
		t.Errorf("completed callbacks for %d calls (%d cut by the crash), want %d (%d)",
			len(got), cut, done+live, live)
	}
	t.Logf("completed callbacks: %d calls, %d of them cut by the crash", len(got), cut)
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
