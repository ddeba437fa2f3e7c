package webhook

import (
	"context"
	"database/sql"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/patchbay/patchbay/tenancy"
)

// sink is a status-callback receiver recording what it accepted.
type sink struct {
	mu       sync.Mutex
	got      []url.Values // guarded by mu
	unsigned int          // guarded by mu
	status   atomic.Int32 // answer; 0 means 204
	srv      *httptest.Server
}

func newSink(t *testing.T) *sink {
	t.Helper()
	s := &sink{}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		if code := int(s.status.Load()); code != 0 {
			w.WriteHeader(code)

			return
		}
		s.mu.Lock()
		if !validTwilioSignature(testToken, r, r.PostForm) {
			s.unsigned++
		}
		s.got = append(s.got, r.PostForm)
		s.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(s.srv.Close)

	return s
}

func (s *sink) received() []url.Values {
	s.mu.Lock()
	defer s.mu.Unlock()

	return append([]url.Values(nil), s.got...)
}

func openTestDB(t *testing.T, file string) *sql.DB {
	t.Helper()
	db, err := tenancy.OpenDB(t.Context(), file)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })

	return db
}

func testOutbox(t *testing.T, db *sql.DB, cfg OutboxConfig) *Outbox {
	t.Helper()
	cfg.Client = New(Config{Timeout: time.Second, Logger: quiet()})
	cfg.Logger = quiet()
	cfg.Tokens = func(context.Context, string) (string, error) { return testToken, nil }
	if cfg.PollInterval == 0 {
		cfg.PollInterval = 10 * time.Millisecond
	}
	if cfg.BackoffBase == 0 {
		cfg.BackoffBase = 10 * time.Millisecond
	}
	o, err := OpenOutbox(t.Context(), db, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { o.Close() })

	return o
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func event(s *sink, call, status string) Event {
	return Event{AccountSID: "AC1", CallSID: call, URL: s.srv.URL + "/status",
		Params: url.Values{"CallSid": {call}, "CallStatus": {status}}}
}

func TestOutboxOrderPerCall(t *testing.T) {
	s := newSink(t)
	o := testOutbox(t, openTestDB(t, filepath.Join(t.TempDir(), "o.db")), OutboxConfig{})
	statuses := []string{"initiated", "ringing", "answered", "completed"}
	for _, st := range statuses {
		for _, call := range []string{"CA1", "CA2", "CA3"} {
			if err := o.Enqueue(t.Context(), event(s, call, st)); err != nil {
				t.Fatal(err)
			}
		}
	}
	waitFor(t, "12 deliveries", func() bool { return o.Stats().Delivered == 12 })
	seen := map[string]int{}
	for _, p := range s.received() {
		call := p.Get("CallSid")
		i := seen[call]
		if p.Get("CallStatus") != statuses[i] || p.Get("SequenceNumber") != strconv.Itoa(i) {
			t.Errorf("%s event %d = %s seq %s", call, i, p.Get("CallStatus"),
				p.Get("SequenceNumber"))
		}
		seen[call]++
	}
	if s.unsigned != 0 {
		t.Errorf("%d callbacks failed signature validation", s.unsigned)
	}
	if st := o.Stats(); st.Enqueued != 12 || len(s.received()) != 12 {
		t.Errorf("stats = %+v", st)
	}
}

// TestOutboxLaterEventWaits checks that a failing earlier event holds back
// its call's later ones until it is delivered.
func TestOutboxLaterEventWaits(t *testing.T) {
	s := newSink(t)
	s.status.Store(503)
	o := testOutbox(t, openTestDB(t, filepath.Join(t.TempDir(), "o.db")),
		OutboxConfig{MaxAttempts: 100})
	o.Enqueue(t.Context(), event(s, "CA1", "ringing"))
	o.Enqueue(t.Context(), event(s, "CA1", "completed"))
	waitFor(t, "retries", func() bool { return o.Stats().Retried >= 3 })
	s.status.Store(0)
	waitFor(t, "2 deliveries", func() bool { return len(s.received()) == 2 })
	got := s.received()
	if got[0].Get("CallStatus") != "ringing" || got[1].Get("CallStatus") != "completed" {
		t.Errorf("order = %v, %v", got[0], got[1])
	}
}

func TestOutboxGivesUp(t *testing.T) {
	tests := []struct {
		name     string
		status   int
		attempts uint64 // attempts before giving up
	}{
		{"5xx retried to the cap", 500, 3},
		{"4xx permanent", 404, 1},
		{"429 retried", 429, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSink(t)
			s.status.Store(int32(tt.status))
			db := openTestDB(t, filepath.Join(t.TempDir(), "o.db"))
			o := testOutbox(t, db, OutboxConfig{MaxAttempts: 3})
			o.Enqueue(t.Context(), event(s, "CA1", "ringing"))
			waitFor(t, "give up", func() bool { return o.Stats().GivenUp == 1 })
			if st := o.Stats(); st.Retried != tt.attempts-1 {
				t.Errorf("stats = %+v, want %d retries", st, tt.attempts-1)
			}
			var lastErr string
			db.QueryRow(`SELECT last_error FROM webhook_outbox`).Scan(&lastErr)
			if lastErr == "" {
				t.Error("last_error not recorded")
			}
			// The next event of the call is not held back by the given-up one.
			s.status.Store(0)
			o.Enqueue(t.Context(), event(s, "CA1", "completed"))
			waitFor(t, "delivery", func() bool { return len(s.received()) == 1 })
			if seq := s.received()[0].Get("SequenceNumber"); seq != "1" {
				t.Errorf("SequenceNumber = %s, want 1", seq)
			}
		})
	}
}

// TestOutboxSurvivesRestart enqueues while the receiver is down, closes the
// outbox and the database, reopens both and checks delivery.
func TestOutboxSurvivesRestart(t *testing.T) {
	s := newSink(t)
	s.status.Store(503)
	file := filepath.Join(t.TempDir(), "o.db")
	db, err := tenancy.OpenDB(t.Context(), file)
	if err != nil {
		t.Fatal(err)
	}
	o := testOutbox(t, db, OutboxConfig{BackoffBase: time.Hour})
	for _, st := range []string{"initiated", "ringing", "completed"} {
		if err := o.Enqueue(t.Context(), event(s, "CA7", st)); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "first attempt", func() bool { return o.Stats().Retried == 1 })
	o.Close()
	o.Close() // idempotent
	if err := o.Enqueue(t.Context(), event(s, "CA7", "x")); !errors.Is(err, ErrClosed) {
		t.Errorf("enqueue after close: %v", err)
	}
	db.Close()

	s.status.Store(0)
	db2 := openTestDB(t, file)
	// Make the retry due now instead of in an hour.
	if _, err := db2.Exec(`UPDATE webhook_outbox SET next_attempt = 0`); err != nil {
		t.Fatal(err)
	}
	o2 := testOutbox(t, db2, OutboxConfig{})
	waitFor(t, "3 deliveries", func() bool { return len(s.received()) == 3 })
	for i, p := range s.received() {
		if p.Get("SequenceNumber") != strconv.Itoa(i) {
			t.Errorf("delivery %d has SequenceNumber %s", i, p.Get("SequenceNumber"))
		}
	}
	// A delivery is marked done just after its answer arrives.
	waitFor(t, "no pending events", func() bool {
		n, err := o2.Pending(t.Context())
		return err == nil && n == 0
	})
}

func TestOutboxEnqueueRefusesBadTargets(t *testing.T) {
	o := testOutbox(t, openTestDB(t, filepath.Join(t.TempDir(), "o.db")), OutboxConfig{})
	for _, ev := range []Event{
		{CallSID: "CA1", URL: "/relative"},
		{CallSID: "CA1", URL: "mailto:x@example.com"},
		{CallSID: "CA1", URL: "http://example.com", Method: "DELETE"},
	} {
		if err := o.Enqueue(t.Context(), ev); !errors.Is(err, ErrBadTarget) {
			t.Errorf("%+v: err = %v", ev, err)
		}
	}
}

func TestOutboxBackoff(t *testing.T) {
	o := &Outbox{cfg: OutboxConfig{BackoffBase: time.Second, BackoffMax: 10 * time.Second}}
	tests := []struct {
		attempts int
		lo, hi   time.Duration
	}{
		{1, 800 * time.Millisecond, time.Second},
		{2, 1600 * time.Millisecond, 2 * time.Second},
		{4, 6400 * time.Millisecond, 8 * time.Second},
		{10, 8 * time.Second, 10 * time.Second},
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.attempts), func(t *testing.T) {
			if d := o.backoff(tt.attempts); d < tt.lo || d > tt.hi {
				t.Errorf("backoff = %v, want in [%v, %v]", d, tt.lo, tt.hi)
			}
		})
	}
}

// benchOutbox opens an outbox whose deliveries never run during the
// benchmark.
func benchOutbox(b *testing.B) *Outbox {
	b.Helper()
	db, err := tenancy.OpenDB(b.Context(), filepath.Join(b.TempDir(), "o.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	o, err := OpenOutbox(b.Context(), db, OutboxConfig{
		Client: New(Config{}), PollInterval: time.Hour, Logger: quiet(),
		Tokens: func(context.Context, string) (string, error) { return testToken, nil },
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { o.Close() })

	return o
}

// BenchmarkOutboxEnqueueParallel enqueues from 64 goroutines per CPU, as
// many calls ending at once do; group commit shares the fsyncs.
func BenchmarkOutboxEnqueueParallel(b *testing.B) {
	o := benchOutbox(b)
	params := StatusEvent{Call: CallParams{CallSID: "CA1", AccountSID: "AC1",
		CallStatus: "completed"}, Time: time.Now()}.Values()
	var n atomic.Int64
	b.ReportAllocs()
	b.SetParallelism(64)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			err := o.Enqueue(b.Context(), Event{AccountSID: "AC1",
				CallSID: "CA" + strconv.FormatInt(i, 10), URL: "http://127.0.0.1:1/status",
				Params: params})
			if err != nil {
				b.Error(err)
			}
		}
	})
}

func BenchmarkOutboxEnqueue(b *testing.B) {
	db, err := tenancy.OpenDB(b.Context(), filepath.Join(b.TempDir(), "o.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	o, err := OpenOutbox(b.Context(), db, OutboxConfig{
		Client: New(Config{}), PollInterval: time.Hour,
		Tokens: func(context.Context, string) (string, error) { return testToken, nil },
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { o.Close() })
	params := StatusEvent{Call: CallParams{CallSID: "CA1", AccountSID: "AC1",
		CallStatus: "completed"}, Time: time.Now()}.Values()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		err := o.Enqueue(b.Context(), Event{AccountSID: "AC1", CallSID: "CA" + strconv.Itoa(i),
			URL: "http://127.0.0.1:1/status", Params: params})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// TestOutboxConcurrentEnqueue enqueues from many goroutines at once (one
// group commit serves several) and checks every event arrives once, in
// order per call.
func TestOutboxConcurrentEnqueue(t *testing.T) {
	s := newSink(t)
	o := testOutbox(t, openTestDB(t, filepath.Join(t.TempDir(), "o.db")),
		OutboxConfig{Workers: 8})
	const calls, events = 20, 5
	var wg sync.WaitGroup
	for c := range calls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for e := range events {
				ev := event(s, "CA"+strconv.Itoa(c), strconv.Itoa(e))
				if err := o.Enqueue(t.Context(), ev); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	waitFor(t, "all deliveries", func() bool { return o.Stats().Delivered == calls*events })
	next := map[string]int{}
	for _, p := range s.received() {
		call := p.Get("CallSid")
		if p.Get("CallStatus") != strconv.Itoa(next[call]) ||
			p.Get("SequenceNumber") != strconv.Itoa(next[call]) {
			t.Fatalf("%s: got event %s seq %s, want %d", call, p.Get("CallStatus"),
				p.Get("SequenceNumber"), next[call])
		}
		next[call]++
	}
}
