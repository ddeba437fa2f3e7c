package webhook

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/patchbay/patchbay/sip/markup"
)

const testToken = "f00dfeedf00dfeedf00dfeedf00dfeed"

// app is a tenant application under test: it records each request (after
// checking its signature) and answers from a table of paths.
type app struct {
	t    *testing.T
	srv  *httptest.Server
	mu   sync.Mutex
	reqs []recorded // guarded by mu
}

type recorded struct {
	method string
	path   string
	params url.Values
	signed bool
}

func newApp(t *testing.T, routes map[string]http.HandlerFunc) *app {
	t.Helper()
	a := &app{t: t}
	a.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		params := r.PostForm
		if r.Method == http.MethodGet {
			params = r.URL.Query()
		}
		a.mu.Lock()
		a.reqs = append(a.reqs, recorded{r.Method, r.URL.Path, params,
			validTwilioSignature(testToken, r, r.PostForm)})
		a.mu.Unlock()
		h, ok := routes[r.URL.Path]
		if !ok {
			http.NotFound(w, r)

			return
		}
		h(w, r)
	}))
	t.Cleanup(a.srv.Close)

	return a
}

func (a *app) requests() []recorded {
	a.mu.Lock()
	defer a.mu.Unlock()

	return append([]recorded(nil), a.reqs...)
}

func xmlAnswer(doc string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/xml")
		w.Write([]byte(doc))
	}
}

func TestFetchMarkup(t *testing.T) {
	hang := make(chan struct{})
	t.Cleanup(func() { close(hang) })
	routes := map[string]http.HandlerFunc{
		"/ok":       xmlAnswer(`<Response><Hangup/></Response>`),
		"/fallback": xmlAnswer(`<Response><Reject reason="busy"/></Response>`),
		"/500":      func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(500) },
		"/json": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{}`))
		},
		"/big": xmlAnswer("<Response>" + strings.Repeat("<Hangup/>", 20000) + "</Response>"),
		"/bad": xmlAnswer(`<Response><Dial timeout="x">+1555</Dial></Response>`),
		"/say": xmlAnswer(`<Response><Say>hi</Say></Response>`),
		"/slow": func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-hang:
			case <-r.Context().Done():
			}
		},
		"/loop": func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "/loop", http.StatusFound)
		},
		"/moved": func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "/ok", http.StatusTemporaryRedirect)
		},
		"/html": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Write([]byte(`<Response><Pause/></Response>`))
		},
	}
	a := newApp(t, routes)
	refused := closedPortURL(t)
	tests := []struct {
		name     string
		path     string
		url      string
		fallback string
		code     int // 0: success
		fromFB   bool
		verb     string
	}{
		{"ok", "/ok", "", "", 0, false, "Hangup"},
		{"html content type", "/html", "", "", 0, false, "Pause"},
		{"redirect 307 keeps POST", "/moved", "", "", 0, false, "Hangup"},
		{"500 no fallback", "/500", "", "", CodeHTTPRetrieval, false, ""},
		{"500 fallback", "/500", "", "/fallback", 0, true, "Reject"},
		{"content type", "/json", "", "", CodeContentType, false, ""},
		{"too large", "/big", "", "/fallback", 0, true, "Reject"},
		{"bad attribute", "/bad", "", "", 13212, false, ""},
		{"say", "/say", "", "/fallback", 0, true, "Reject"},
		{"timeout", "/slow", "", "", CodeHTTPRetrieval, false, ""},
		{"redirect loop", "/loop", "", "", CodeTooManyRedirects, false, ""},
		{"connection refused", "", refused, "/fallback", 0, true, "Reject"},
		{"both fail", "/500", "", "/json", CodeHTTPRetrieval, false, ""},
	}
	c := New(Config{Timeout: 300 * time.Millisecond, MaxBodyBytes: 64 << 10,
		Logger: quiet()})
	t.Cleanup(c.Close)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := Fetch{AuthToken: testToken, URL: a.srv.URL + tt.path}
			if tt.url != "" {
				f.URL = tt.url
			}
			if tt.fallback != "" {
				f.FallbackURL = a.srv.URL + tt.fallback
			}
			params := url.Values{"CallSid": {"CA1"}}
			doc, err := c.FetchMarkup(t.Context(), f, params)
			if tt.code != 0 {
				var fe *FetchError
				if !errors.As(err, &fe) || fe.Code != tt.code || !errors.Is(err, ErrFetch) {
					t.Fatalf("err = %v, want code %d", err, tt.code)
				}

				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if doc.Fallback != tt.fromFB || doc.Response.Verbs[0].VerbName() != tt.verb {
				t.Errorf("doc = %+v, want fallback=%v verb %s", doc, tt.fromFB, tt.verb)
			}
		})
	}
	for _, r := range a.requests() {
		if !r.signed {
			t.Errorf("%s %s: signature refused", r.method, r.path)
		}
	}
}

func TestFallbackParameters(t *testing.T) {
	a := newApp(t, map[string]http.HandlerFunc{
		"/bad": xmlAnswer(`<Response><Dance/></Response>`),
		"/fb":  xmlAnswer(`<Response/>`),
	})
	c := New(Config{})
	t.Cleanup(c.Close)
	f := Fetch{AuthToken: testToken, URL: a.srv.URL + "/bad", Method: "GET",
		FallbackURL: a.srv.URL + "/fb", FallbackMethod: "POST"}
	if _, err := c.FetchMarkup(t.Context(), f, url.Values{"CallSid": {"CA9"}}); err != nil {
		t.Fatal(err)
	}
	reqs := a.requests()
	if len(reqs) != 2 {
		t.Fatalf("requests = %+v", reqs)
	}
	if reqs[0].method != "GET" || reqs[0].params.Get("CallSid") != "CA9" {
		t.Errorf("voice request = %+v", reqs[0])
	}
	fb := reqs[1]
	if fb.method != "POST" || fb.params.Get("ErrorCode") != "13000" ||
		fb.params.Get("ErrorUrl") != a.srv.URL+"/bad" || fb.params.Get("CallSid") != "CA9" {
		t.Errorf("fallback request = %+v", fb)
	}
}

func TestFetchCancelledSkipsFallback(t *testing.T) {
	a := newApp(t, map[string]http.HandlerFunc{
		"/slow": func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() },
		"/fb":   xmlAnswer(`<Response/>`),
	})
	c := New(Config{})
	t.Cleanup(c.Close)
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	f := Fetch{AuthToken: testToken, URL: a.srv.URL + "/slow", FallbackURL: a.srv.URL + "/fb"}
	if _, err := c.FetchMarkup(ctx, f, nil); err == nil {
		t.Fatal("want an error")
	}
	for _, r := range a.requests() {
		if r.path == "/fb" {
			t.Error("fallback asked after the call's context ended")
		}
	}
}

func TestPerRequestTimeout(t *testing.T) {
	a := newApp(t, map[string]http.HandlerFunc{
		"/slow": func(w http.ResponseWriter, r *http.Request) {
			time.Sleep(150 * time.Millisecond)
			xmlAnswer(`<Response/>`)(w, r)
		},
	})
	c := New(Config{Timeout: 50 * time.Millisecond})
	t.Cleanup(c.Close)
	f := Fetch{AuthToken: testToken, URL: a.srv.URL + "/slow"}
	if _, err := c.FetchMarkup(t.Context(), f, nil); err == nil {
		t.Fatal("client timeout not applied")
	}
	f.Timeout = 2 * time.Second
	if _, err := c.FetchMarkup(t.Context(), f, nil); err != nil {
		t.Fatalf("per-request timeout not applied: %v", err)
	}
}

func TestDoBadTargets(t *testing.T) {
	c := New(Config{})
	t.Cleanup(c.Close)
	for _, req := range []Request{
		{URL: "ftp://example.com/x"},
		{URL: "/relative"},
		{URL: "http://127.0.0.1:1/x", Method: "PUT"},
	} {
		_, err := c.Do(t.Context(), req)
		if !errors.Is(err, ErrBadTarget) {
			t.Errorf("%+v: err = %v", req, err)
		}
	}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"dns", &url.Error{Err: &net.OpError{Op: "dial", Err: &net.DNSError{Err: "no such host",
			Name: "x.invalid", IsNotFound: true}}}, CodeBadHost},
		{"refused", &net.OpError{Op: "dial", Err: errors.New("refused")}, CodeConnection},
		{"read", &net.OpError{Op: "read", Err: errors.New("reset")}, CodeHTTPRetrieval},
		{"redirects", &url.Error{Err: errTooManyRedirects}, CodeTooManyRedirects},
		{"deadline", context.DeadlineExceeded, CodeHTTPRetrieval},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := classify(tt.err); got != tt.want {
				t.Errorf("classify = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestResolveURL(t *testing.T) {
	tests := []struct {
		base, ref, want string
		ok              bool
	}{
		{"https://a.example/app/voice.xml", "/next", "https://a.example/next", true},
		{"https://a.example/app/voice.xml", "gather?x=1", "https://a.example/app/gather?x=1",
			true},
		{"https://a.example/app/voice.xml", "http://b.example/x", "http://b.example/x", true},
		{"https://a.example/app/voice.xml", "", "https://a.example/app/voice.xml", true},
		{"https://a.example/", "ftp://b/x", "", false},
		{"not a url", "/x", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.ref, func(t *testing.T) {
			got, err := ResolveURL(tt.base, tt.ref)
			if (err == nil) != tt.ok || got != tt.want {
				t.Errorf("ResolveURL = %q, %v; want %q ok=%v", got, err, tt.want, tt.ok)
			}
		})
	}
}

func TestFetchErrorRedactsPassword(t *testing.T) {
	c := New(Config{})
	t.Cleanup(c.Close)
	_, err := c.Do(t.Context(), Request{URL: "http://user:hunter2@" +
		strings.TrimPrefix(closedPortURL(t), "http://")})
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("err = %v", err)
	}
}

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

// closedPortURL returns an http URL on loopback where nothing listens.
func closedPortURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()

	return "http://" + addr + "/voice"
}

func BenchmarkFetchMarkup(b *testing.B) {
	doc := `<Response><Dial timeout="20"><Sip>sip:bob@127.0.0.1</Sip></Dial></Response>`
	srv := httptest.NewServer(xmlAnswer(doc))
	b.Cleanup(srv.Close)
	c := New(Config{})
	b.Cleanup(c.Close)
	params := CallParams{CallSID: "CA0123456789abcdef0123456789abcdef",
		AccountSID: "AC0123456789abcdef0123456789abcdef", From: "+14155550100",
		To: "+14155550199", CallStatus: "ringing", Direction: "inbound"}.Values()
	f := Fetch{AuthToken: testToken, URL: srv.URL + "/voice", Limits: markup.Limits{}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.FetchMarkup(b.Context(), f, params); err != nil {
			b.Fatal(err)
		}
	}
}
