package sip

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/patchbay/patchbay/accounting"
	"github.com/patchbay/patchbay/sip/callstatus"
	"github.com/patchbay/patchbay/sip/markup"
	"github.com/patchbay/patchbay/sip/webhook"
	"github.com/patchbay/patchbay/tenancy"
)

// API error codes of the Calls resource (CPaaS numbering).
const (
	codeMissingTo   = 21201 // To is required
	codeMissingFrom = 21213 // From is required
	codeMissingURL  = 21205 // Url, Twiml or ApplicationSid is required, or Url is invalid
	codeCallRefused = 21220 // admission refused the call (limits, service off)
)

// MountAPI registers the Calls create and update resources and the
// recording media on api:
//
//	POST /2010-04-01/Accounts/{AccountSid}/Calls.json
//	POST /2010-04-01/Accounts/{AccountSid}/Calls/{CallSid}.json
//	GET  /2010-04-01/Accounts/{AccountSid}/Recordings/{RecordingSid}.wav
//
// Listing and fetching calls is served by accounting from the CDRs.
func (cc *CallControl) MountAPI(api *tenancy.API) {
	api.HandleAccount("POST /2010-04-01/Accounts/{AccountSid}/Calls.json", cc.apiCreate)
	api.HandleAccount("POST /2010-04-01/Accounts/{AccountSid}/Calls/{CallSid}", cc.apiUpdate)
	api.HandleAccount("GET /2010-04-01/Accounts/{AccountSid}/Recordings/{RecordingSid}",
		cc.apiRecording)
}

// apiCreate starts an outbound call: To rings, and on answer the
// application (Url, Twiml or ApplicationSid) runs.
func (cc *CallControl) apiCreate(w http.ResponseWriter, r *http.Request, acct *tenancy.Account) {
	if err := r.ParseForm(); err != nil {
		tenancy.WriteError(w, http.StatusBadRequest, tenancy.CodeInvalidParameter,
			"body: not a valid form-encoded body")

		return
	}
	req, code, msg := cc.parseCreate(r.Context(), acct, r.PostForm)
	if code != 0 {
		tenancy.WriteError(w, http.StatusBadRequest, code, msg)

		return
	}
	c, err := cc.newOutboundCall(r.Context(), acct, req)
	if err != nil {
		code, reason := statusOf(err)
		tenancy.WriteError(w, http.StatusBadRequest, codeCallRefused,
			"call refused: "+strconv.Itoa(code)+" "+reason)

		return
	}
	if !cc.start(c) {
		c.release()
		tenancy.WriteError(w, http.StatusServiceUnavailable, tenancy.CodeInternal,
			"call control is shutting down")

		return
	}
	tenancy.WriteJSON(w, http.StatusCreated, c.resource("queued"))
}

// createReq is a validated Calls create request.
type createReq struct {
	to, from  string
	app       appTarget
	twiml     string
	timeout   time.Duration
	timeLimit time.Duration
}

// parseCreate validates the create parameters; a non-zero code is the API
// error with a message naming the parameter.
func (cc *CallControl) parseCreate(ctx context.Context, acct *tenancy.Account,
	f url.Values) (createReq, int, string) {
	cr := createReq{to: f.Get("To"), from: f.Get("From"), twiml: f.Get("Twiml"),
		timeout: 60 * time.Second, timeLimit: defaultTimeLimit}
	if cr.to == "" {
		return cr, codeMissingTo, "To: required"
	}
	if cr.from == "" {
		return cr, codeMissingFrom, "From: required"
	}
	events := strings.Fields(strings.Join(f["StatusCallbackEvent"], " "))
	for _, ev := range events {
		switch ev {
		case "initiated", "ringing", "answered", "completed":
		default:
			return cr, tenancy.CodeInvalidParameter, "StatusCallbackEvent: unknown event " + ev
		}
	}
	cr.app = newAppTarget("", f.Get("Url"), f.Get("Method"), f.Get("FallbackUrl"),
		f.Get("FallbackMethod"), f.Get("StatusCallback"), f.Get("StatusCallbackMethod"), events)
	if code, msg := cc.createApp(ctx, acct, f, &cr); code != 0 {
		return cr, code, msg
	}
	for _, p := range []struct {
		name string
		dst  *time.Duration
		max  int
	}{{"Timeout", &cr.timeout, 600}, {"TimeLimit", &cr.timeLimit, 4 * 3600}} {
		if v := f.Get(p.name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > p.max {
				return cr, tenancy.CodeInvalidParameter,
					p.name + ": must be whole seconds from 1 to " + strconv.Itoa(p.max)
			}
			*p.dst = time.Duration(n) * time.Second
		}
	}

	return cr, 0, ""
}

// createApp fills the application of cr from Url, Twiml or ApplicationSid.
func (cc *CallControl) createApp(ctx context.Context, acct *tenancy.Account, f url.Values,
	cr *createReq) (int, string) {
	switch {
	case cr.twiml != "":
		if _, err := markup.Parse([]byte(cr.twiml), cc.cfg.Markup); err != nil {
			return tenancy.CodeInvalidParameter, "Twiml: " + err.Error()
		}
	case f.Get("Url") != "":
		if _, err := webhook.ResolveURL(f.Get("Url"), ""); err != nil {
			return codeMissingURL, "Url: must be an absolute http or https URL"
		}
	case f.Get("ApplicationSid") != "":
		a, err := cc.cfg.Directory.ApplicationBySID(ctx, acct.SID, f.Get("ApplicationSid"))
		if err != nil {
			return codeMissingURL, "ApplicationSid: no such application"
		}
		status := cr.app
		cr.app = appFromApplication(a)
		if status.statusURL != "" {
			cr.app.statusURL, cr.app.statusMethod = status.statusURL, status.statusMethod
			cr.app.events = status.events
		}
	default:
		return codeMissingURL, "Url: one of Url, Twiml or ApplicationSid is required"
	}

	return 0, ""
}

// apiUpdate redirects a live call (Url or Twiml) or ends it (Status).
func (cc *CallControl) apiUpdate(w http.ResponseWriter, r *http.Request, acct *tenancy.Account) {
	sid := strings.TrimSuffix(r.PathValue("CallSid"), ".json")
	c := cc.callBySID(sid)
	if c == nil || c.acct.SID != acct.SID {
		tenancy.WriteError(w, http.StatusNotFound, tenancy.CodeNotFound,
			"the requested resource was not found")

		return
	}
	if err := r.ParseForm(); err != nil {
		tenancy.WriteError(w, http.StatusBadRequest, tenancy.CodeInvalidParameter,
			"body: not a valid form-encoded body")

		return
	}
	rr, code, msg := parseUpdate(r.PostForm, cc.cfg.Markup)
	if code != 0 {
		tenancy.WriteError(w, http.StatusBadRequest, code, msg)

		return
	}
	c.update(rr)
	status := "in-progress"
	if rr.end {
		status = "completed"
	}
	tenancy.WriteJSON(w, http.StatusOK, c.resource(status))
}

func parseUpdate(f url.Values, lim markup.Limits) (*redirectReq, int, string) {
	rr := &redirectReq{url: f.Get("Url"), method: f.Get("Method"), twiml: f.Get("Twiml")}
	switch st := f.Get("Status"); st {
	case "":
	case "completed", "canceled":
		rr.end = true

		return rr, 0, ""
	default:
		return nil, tenancy.CodeInvalidParameter, "Status: must be completed or canceled"
	}
	switch {
	case rr.twiml != "":
		if _, err := markup.Parse([]byte(rr.twiml), lim); err != nil {
			return nil, tenancy.CodeInvalidParameter, "Twiml: " + err.Error()
		}
	case rr.url != "":
		if _, err := webhook.ResolveURL(rr.url, ""); err != nil {
			return nil, codeMissingURL, "Url: must be an absolute http or https URL"
		}
	default:
		return nil, codeMissingURL, "Url: one of Url, Twiml or Status is required"
	}

	return rr, 0, ""
}

// update hands an API update to the call: the running verb is interrupted
// and the verb loop follows it.
func (c *call) update(rr *redirectReq) {
	c.mu.Lock()
	c.redirect = rr
	cancel := c.verbCancel
	c.mu.Unlock()
	if rr.end && !c.isAnswered() {
		c.setEnd(callEnd{reason: callstatus.ReasonAPICanceled,
			cause: accounting.CauseCallerHangup, code: 487})
		c.cancel(errHungUp)

		return
	}
	if cancel != nil {
		cancel(errRedirected)
	}
}

// resource is the call as the Calls API shows it right after a change.
func (c *call) resource(status string) map[string]any {
	return map[string]any{
		"sid": c.sid, "account_sid": c.acct.SID, "to": c.base.To, "from": c.base.From,
		"status": status, "direction": c.base.Direction, "api_version": webhook.APIVersion,
		"date_created": tenancy.FormatTime(c.created), "parent_call_sid": nil,
		"uri": "/2010-04-01/Accounts/" + c.acct.SID + "/Calls/" + c.sid + ".json",
	}
}

// apiRecording serves a recording made by Record.
func (cc *CallControl) apiRecording(w http.ResponseWriter, r *http.Request,
	acct *tenancy.Account) {
	sid := strings.TrimSuffix(r.PathValue("RecordingSid"), ".wav")
	if cc.cfg.RecordingsDir == "" || !validRecordingSID(sid) {
		tenancy.WriteError(w, http.StatusNotFound, tenancy.CodeNotFound,
			"the requested resource was not found")

		return
	}
	f, err := os.Open(filepath.Join(cc.cfg.RecordingsDir, acct.SID, sid+".wav"))
	if err != nil {
		code := http.StatusInternalServerError
		if errors.Is(err, os.ErrNotExist) {
			code = http.StatusNotFound
		}
		tenancy.WriteError(w, code, tenancy.CodeNotFound, "recording not available")

		return
	}
	defer f.Close()
	st, _ := f.Stat()
	w.Header().Set("Content-Type", "audio/wav")
	http.ServeContent(w, r, sid+".wav", st.ModTime(), f)
}

// validRecordingSID reports whether s is "RE" + 32 lowercase hex digits.
func validRecordingSID(s string) bool {
	if len(s) != 34 || !strings.HasPrefix(s, "RE") {
		return false
	}
	for _, r := range s[2:] {
		if (r < '0' || r > '9') && (r < 'a' || r > 'f') {
			return false
		}
	}

	return true
}
