package sip

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo"

	"github.com/patchbay/patchbay/tenancy"
)

// apiServer mounts the Calls API of e on a real HTTP server.
func (e *ccEnv) apiServer() *httptest.Server {
	e.t.Helper()
	api := tenancy.NewAPI(e.store, tenancy.APIOptions{})
	e.cc.MountAPI(api)
	srv := httptest.NewServer(api)
	e.t.Cleanup(srv.Close)

	return srv
}

// post sends form to path as the account and decodes the JSON answer.
func (e *ccEnv) post(srv *httptest.Server, path string, form url.Values) (int,
	map[string]any) {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(e.acct.SID, e.acct.AuthToken)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	var body map[string]any
	json.NewDecoder(res.Body).Decode(&body)

	return res.StatusCode, body
}

func (e *ccEnv) callsPath() string { return "/2010-04-01/Accounts/" + e.acct.SID + "/Calls" }

func TestCallsAPICreateRunsApplication(t *testing.T) {
	e := newCCEnv(t)
	api := e.apiServer()
	bob := newCCUA(t, "bob")
	bob.setAnswer(func(d *sipgo.DialogServerSession) {
		d.Respond(180, "Ringing", nil)
		time.Sleep(50 * time.Millisecond)
		d.RespondSDP(bob.sdp())
	})
	e.app.doc("/outbound", `<Response><Pause length="30"/></Response>`)
	e.app.doc("/moved", `<Response><Hangup/></Response>`)
	status, body := e.post(api, e.callsPath()+".json", url.Values{
		"To": {bob.uri("bob")}, "From": {"+14155550199"}, "Url": {e.app.url("/outbound")},
		"StatusCallback":      {e.app.url("/status")},
		"StatusCallbackEvent": {"initiated ringing", "answered", "completed"},
	})
	if status != http.StatusCreated || body["status"] != "queued" ||
		body["direction"] != "outbound-api" {
		t.Fatalf("create = %d %v", status, body)
	}
	sid := body["sid"].(string)
	run := e.waitRequests("/outbound", 1)[0]
	if run.Get("CallSid") != sid || run.Get("Direction") != "outbound-api" ||
		run.Get("CallStatus") != "in-progress" || run.Get("To") != bob.uri("bob") {
		t.Errorf("application request = %v", run)
	}
	invites := bob.invitesSeen()
	if len(invites) != 1 || len(invites[0].Body()) != 0 {
		t.Fatalf("callee INVITEs = %d (want one, without SDP)", len(invites))
	}
	status, body = e.post(api, e.callsPath()+"/"+sid+".json",
		url.Values{"Url": {e.app.url("/moved")}})
	if status != http.StatusOK || body["sid"] != sid {
		t.Fatalf("update = %d %v", status, body)
	}
	waitSignal(t, bob.byes, "the BYE of the redirected document's Hangup")
	e.waitCallback("completed")
	var order []string
	for _, p := range e.app.requests("/status") {
		order = append(order, p.Get("SequenceNumber")+":"+p.Get("CallStatus"))
	}
	want := "0:initiated 1:ringing 2:in-progress 3:completed"
	if got := strings.Join(order, " "); got != want {
		t.Errorf("callbacks = %s, want %s", got, want)
	}
	bob.mu.Lock()
	acks := bob.acks
	bob.mu.Unlock()
	if len(acks) == 0 || len(acks[0].Body()) == 0 {
		t.Error("the ACK did not carry Patchbay's SDP answer")
	}
}

func TestCallsAPIEndAndTwiml(t *testing.T) {
	e := newCCEnv(t)
	api := e.apiServer()
	bob := newCCUA(t, "bob")
	status, body := e.post(api, e.callsPath()+".json", url.Values{
		"To": {bob.uri("bob")}, "From": {"+14155550199"},
		"Twiml": {`<Response><Pause length="30"/></Response>`},
	})
	if status != http.StatusCreated {
		t.Fatalf("create = %d %v", status, body)
	}
	sid := body["sid"].(string)
	deadline := time.Now().Add(5 * time.Second)
	for len(bob.invitesSeen()) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond)
	status, _ = e.post(api, e.callsPath()+"/"+sid+".json", url.Values{"Status": {"completed"}})
	if status != http.StatusOK {
		t.Fatalf("end = %d", status)
	}
	waitSignal(t, bob.byes, "the BYE of Status=completed")
	if c := e.cdr(sid); c.Status != "completed" || c.Direction != "outbound-api" {
		t.Errorf("cdr = %+v", c)
	}
}

func TestCallsAPIValidation(t *testing.T) {
	e := newCCEnv(t)
	api := e.apiServer()
	good := url.Values{"To": {"+14155550123"}, "From": {"+14155550199"},
		"Url": {"https://app.example.com/x"}}
	with := func(k, v string) url.Values {
		f := url.Values{}
		for key, vs := range good {
			f[key] = vs
		}
		if v == "" {
			f.Del(k)
		} else {
			f.Set(k, v)
		}

		return f
	}
	tests := []struct {
		name string
		path string
		form url.Values
		http int
		code float64
		msg  string
	}{
		{"no To", ".json", with("To", ""), 400, 21201, "To"},
		{"no From", ".json", with("From", ""), 400, 21213, "From"},
		{"no Url", ".json", with("Url", ""), 400, 21205, "Url"},
		{"relative Url", ".json", with("Url", "/x"), 400, 21205, "Url"},
		{"bad Timeout", ".json", with("Timeout", "soon"), 400, 21100, "Timeout"},
		{"bad TimeLimit", ".json", with("TimeLimit", "0"), 400, 21100, "TimeLimit"},
		{"bad event", ".json", with("StatusCallbackEvent", "hungup"), 400, 21100,
			"StatusCallbackEvent"},
		{"bad Twiml", ".json", with("Twiml", "<Response><Dance/></Response>"), 400, 21100,
			"Twiml"},
		{"unknown application", ".json",
			with("ApplicationSid", "AP00000000000000000000000000000000"), 400, 21205,
			"ApplicationSid"},
		{"update unknown call", "/CA00000000000000000000000000000000.json",
			url.Values{"Status": {"completed"}}, 404, 20404, ""},
	}
	tests[8].form.Del("Url")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := e.post(api, e.callsPath()+tt.path, tt.form)
			if status != tt.http || body["code"] != tt.code ||
				!strings.Contains(body["message"].(string), tt.msg) {
				t.Errorf("got %d %v, want %d code %v naming %s", status, body, tt.http,
					tt.code, tt.msg)
			}
		})
	}
}

func TestRecordingServedBack(t *testing.T) {
	e := newCCEnv(t)
	api := e.apiServer()
	sid := "RE0123456789abcdef0123456789abcdef"
	dir := filepath.Join(e.dir, "recordings", e.acct.SID)
	os.MkdirAll(dir, 0o750)
	os.WriteFile(filepath.Join(dir, sid+".wav"), []byte("RIFF....WAVE"), 0o640)
	tests := []struct {
		name, sid string
		user      string
		want      int
	}{
		{"own recording", sid, e.acct.SID, 200},
		{"bad sid", "RE..%2F..%2Fpb.db", e.acct.SID, 404},
		{"missing", "RE00000000000000000000000000000000", e.acct.SID, 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, api.URL+"/2010-04-01/Accounts/"+
				e.acct.SID+"/Recordings/"+tt.sid+".wav", nil)
			req.SetBasicAuth(tt.user, e.acct.AuthToken)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != tt.want {
				t.Errorf("status %d, want %d", res.StatusCode, tt.want)
			}
			if tt.want == 200 && res.Header.Get("Content-Type") != "audio/wav" {
				t.Errorf("content type %q", res.Header.Get("Content-Type"))
			}
		})
	}
}

func TestCallsAPINoAnswer(t *testing.T) {
	e := newCCEnv(t)
	api := e.apiServer()
	bob := newCCUA(t, "bob")
	cancelled := make(chan struct{})
	bob.setAnswer(func(d *sipgo.DialogServerSession) {
		d.Respond(180, "Ringing", nil)
		<-d.Context().Done()
		close(cancelled)
	})
	status, body := e.post(api, e.callsPath()+".json", url.Values{
		"To": {bob.uri("bob")}, "From": {"+14155550199"}, "Url": {e.app.url("/never")},
		"StatusCallback": {e.app.url("/status")}, "Timeout": {"1"},
	})
	if status != http.StatusCreated {
		t.Fatalf("create = %d %v", status, body)
	}
	waitSignal(t, cancelled, "the CANCEL after Timeout")
	p := e.waitCallback("no-answer")
	if p.Get("CallSid") != body["sid"] || p.Get("CallDuration") != "0" {
		t.Errorf("callback = %v", p)
	}
	if n := len(e.app.requests("/never")); n != 0 {
		t.Errorf("application asked %d times for an unanswered call", n)
	}
	if c := e.cdr(body["sid"].(string)); c.Status != "no-answer" {
		t.Errorf("cdr status %s", c.Status)
	}
}

func TestCallsAPITimeLimitEndsCall(t *testing.T) {
	e := newCCEnv(t)
	api := e.apiServer()
	bob := newCCUA(t, "bob")
	status, body := e.post(api, e.callsPath()+".json", url.Values{
		"To": {bob.uri("bob")}, "From": {"+14155550199"}, "TimeLimit": {"1"},
		"Twiml": {`<Response><Pause length="30"/></Response>`},
	})
	if status != http.StatusCreated {
		t.Fatalf("create = %d %v", status, body)
	}
	start := time.Now()
	waitSignal(t, bob.byes, "the BYE at the call's TimeLimit")
	if d := time.Since(start); d < 900*time.Millisecond || d > 3*time.Second {
		t.Errorf("call ended after %s, want about 1s", d)
	}
	if c := e.cdr(body["sid"].(string)); c.Status != "completed" || c.Cause != "limit" {
		t.Errorf("cdr %s %s", c.Status, c.Cause)
	}
}

func TestCallsAPIApplicationSid(t *testing.T) {
	e := newCCEnv(t)
	api := e.apiServer()
	bob := newCCUA(t, "bob")
	app, err := e.store.CreateApplication(t.Context(), &tenancy.Application{
		AccountSID: e.acct.SID, FriendlyName: "ivr", VoiceURL: e.app.url("/ivr"),
		VoiceMethod: "GET", StatusCallback: e.app.url("/status")})
	if err != nil {
		t.Fatal(err)
	}
	e.app.doc("/ivr", `<Response><Hangup/></Response>`)
	status, body := e.post(api, e.callsPath()+".json", url.Values{
		"To": {bob.uri("bob")}, "From": {"+14155550199"}, "ApplicationSid": {app.SID}})
	if status != http.StatusCreated {
		t.Fatalf("create = %d %v", status, body)
	}
	ivr := e.waitRequests("/ivr", 1)[0]
	if ivr.Get("CallSid") != body["sid"] {
		t.Errorf("application request = %v", ivr)
	}
	waitSignal(t, bob.byes, "the BYE of the application's Hangup")
	if c := e.cdr(body["sid"].(string)); c.ApplicationSID != app.SID {
		t.Errorf("cdr application sid %q", c.ApplicationSID)
	}
}
