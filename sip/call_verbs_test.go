package sip

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo"

	"github.com/patchbay/patchbay/accounting"
	"github.com/patchbay/patchbay/tenancy"
)

// TestCallOutcomes runs one call per case and checks the caller's final
// response, the completed callback's status and the application requests.
func TestCallOutcomes(t *testing.T) {
	tests := []struct {
		name   string
		routes map[string]string // path -> document, "!500" for a status
		callee func(u *ccUA) func(*sipgo.DialogServerSession)
		code   int    // caller's final response
		status string // CallStatus of the final callback
		asked  string // a path that must have been requested ...
		param  string // ... with this parameter ...
		value  string // ... set to this value
	}{
		{name: "reject busy", routes: map[string]string{
			"/voice": `<Response><Reject reason="busy"/></Response>`},
			code: 486, status: "busy"},
		{name: "reject default", routes: map[string]string{
			"/voice": `<Response><Reject/></Response>`},
			code: 603, status: "busy"},
		{name: "hangup before answer", routes: map[string]string{
			"/voice": `<Response><Pause length="0"/><Hangup/></Response>`},
			code: 603, status: "completed"},
		{name: "empty document", routes: map[string]string{"/voice": `<Response/>`},
			code: 603, status: "completed"},
		{name: "application down", routes: map[string]string{"/voice": "!500"},
			code: 500, status: "failed"},
		{name: "fallback answers", routes: map[string]string{"/voice": "!503",
			"/fallback": `<Response><Reject reason="busy"/></Response>`},
			code: 486, status: "busy", asked: "/fallback", param: "ErrorCode", value: "11200"},
		{name: "bad markup uses fallback", routes: map[string]string{
			"/voice":    `<Response><Say>hello</Say></Response>`,
			"/fallback": `<Response><Reject/></Response>`},
			code: 603, status: "busy", asked: "/fallback", param: "ErrorCode", value: "13510"},
		{name: "redirect", routes: map[string]string{
			"/voice": `<Response><Redirect method="GET">/two</Redirect></Response>`,
			"/two":   `<Response><Reject reason="busy"/></Response>`},
			code: 486, status: "busy", asked: "/two", param: "CallStatus", value: "ringing"},
		{name: "dial busy", routes: map[string]string{
			"/voice": `<Response><Dial action="/after"><Sip>BOB</Sip></Dial></Response>`,
			"/after": `<Response><Reject reason="busy"/></Response>`},
			callee: func(*ccUA) func(*sipgo.DialogServerSession) { return answerCode(486) },
			code:   486, status: "busy", asked: "/after", param: "DialCallStatus", value: "busy"},
		{name: "dial not found", routes: map[string]string{
			"/voice": `<Response><Dial action="/after"><Sip>BOB</Sip></Dial></Response>`,
			"/after": `<Response><Hangup/></Response>`},
			callee: func(*ccUA) func(*sipgo.DialogServerSession) { return answerCode(404) },
			code:   603, status: "completed", asked: "/after", param: "DialSipResponseCode",
			value: "404"},
		{name: "dial unregistered client", routes: map[string]string{
			"/voice": `<Response><Dial action="/after"><Client>nobody</Client></Dial></Response>`,
			"/after": `<Response/>`},
			code: 480, status: "completed", asked: "/after", param: "DialCallStatus",
			value: "failed"},
		{name: "dial busy without action", routes: map[string]string{
			"/voice": `<Response><Dial><Sip>BOB</Sip></Dial></Response>`},
			callee: func(*ccUA) func(*sipgo.DialogServerSession) { return answerCode(486) },
			code:   486, status: "completed"},
		{name: "dial not found without action", routes: map[string]string{
			"/voice": `<Response><Dial><Sip>BOB</Sip></Dial></Response>`},
			callee: func(*ccUA) func(*sipgo.DialogServerSession) { return answerCode(404) },
			code:   404, status: "completed"},
		{name: "dial failure said nothing useful", routes: map[string]string{
			"/voice": `<Response><Dial><Sip>BOB</Sip></Dial></Response>`},
			callee: func(*ccUA) func(*sipgo.DialogServerSession) { return answerCode(500) },
			code:   603, status: "completed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newCCEnv(t)
			bob := newCCUA(t, "bob")
			if tt.callee != nil {
				bob.setAnswer(tt.callee(bob))
			}
			for path, doc := range tt.routes {
				doc = strings.ReplaceAll(doc, "BOB", bob.uri("bob"))
				e.app.doc(path, doc)
			}
			ctx, d := callNumber(t, e)
			err := d.WaitAnswer(ctx, sipgo.AnswerOptions{})
			if got := failureCode(err); got != tt.code {
				t.Fatalf("caller got %d (%v), want %d", got, err, tt.code)
			}
			p := e.waitCallback(tt.status)
			if p.Get("CallSid") == "" {
				t.Errorf("callback without CallSid: %v", p)
			}
			if tt.asked != "" {
				reqs := e.app.requests(tt.asked)
				if len(reqs) == 0 || reqs[0].Get(tt.param) != tt.value {
					t.Errorf("%s requests = %v, want %s=%s", tt.asked, reqs, tt.param, tt.value)
				}
			}
			c := e.cdr(p.Get("CallSid"))
			if string(c.Status) != tt.status {
				t.Errorf("cdr status = %s, want %s", c.Status, tt.status)
			}
			if tt.code == 500 && (c.Cause != "application-error" ||
				c.SIPReason != "application error 11200") {
				t.Errorf("application failure not recorded: %s %q", c.Cause, c.SIPReason)
			}
			if tt.code == 500 {
				e.waitNotification(11200, p.Get("CallSid"))
				e.waitUsage(accounting.CatWebhookFailures, 1)
			}
			e.waitUsage(accounting.CatWebhookRequests, 1)
		})
	}
}

// TestCallWebhookServiceSettings checks the account's webhooks service: its
// timeout option sends a slow voice URL to the fallback, and switching the
// service off stops status callbacks.
func TestCallWebhookServiceSettings(t *testing.T) {
	e := newCCEnv(t)
	e.store.SetService(t.Context(), e.acct.SID, tenancy.ServiceWebhooks,
		func(s *tenancy.Service) error {
			s.Enabled = false
			s.Options = map[string]string{"timeout": "200ms"}

			return nil
		})
	e.app.route("/voice", func(url.Values) string {
		time.Sleep(600 * time.Millisecond)

		return `<Response><Hangup/></Response>`
	})
	e.app.doc("/fallback", `<Response><Reject reason="busy"/></Response>`)
	ctx, d := callNumber(t, e)
	if code := failureCode(d.WaitAnswer(ctx, sipgo.AnswerOptions{})); code != 486 {
		t.Fatalf("caller got %d, want the fallback's 486", code)
	}
	fb := e.waitRequests("/fallback", 1)[0]
	if fb.Get("ErrorCode") != "11200" {
		t.Errorf("fallback ErrorCode = %s", fb.Get("ErrorCode"))
	}
	time.Sleep(300 * time.Millisecond)
	if n := len(e.app.requests("/status")); n != 0 {
		t.Errorf("%d status callbacks with the webhooks service off", n)
	}
}

// TestWebhookSettingsApplicationWins checks the precedence of webhook
// timeouts: an application's own (from a number's route or named by the
// Calls API) over the account's webhooks service, which applies where the
// application sets none. TestCallWebhookServiceSettings shows a fetch
// obeying the resulting timeout.
func TestWebhookSettingsApplicationWins(t *testing.T) {
	e := newCCEnv(t)
	e.store.SetService(t.Context(), e.acct.SID, tenancy.ServiceWebhooks,
		func(s *tenancy.Service) error {
			s.Enabled = true
			s.Options = map[string]string{"timeout": "200ms", "connect_timeout": "150ms"}

			return nil
		})
	tests := []struct {
		name             string
		app              appTarget
		connect, timeout time.Duration
	}{
		{"no application timeouts", appFromRoute(&tenancy.VoiceRoute{}),
			150 * time.Millisecond, 200 * time.Millisecond},
		{"route with a timeout", appFromRoute(&tenancy.VoiceRoute{WebhookTimeout: 2 * time.Second}),
			150 * time.Millisecond, 2 * time.Second},
		{"application with a connect timeout", appFromApplication(&tenancy.Application{
			WebhookConnectTimeout: 300 * time.Millisecond}),
			300 * time.Millisecond, 200 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := e.cc.webhookSettings(t.Context(), e.acct.SID, tt.app)
			if h.connectTimeout != tt.connect || h.timeout != tt.timeout || !h.callbacks {
				t.Errorf("settings %+v, want connect %v, timeout %v, callbacks on", h,
					tt.connect, tt.timeout)
			}
		})
	}
}
