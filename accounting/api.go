package accounting

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/patchbay/patchbay/tenancy"
)

// Route is one HTTP resource of the ledger's API, to be mounted with
// (*tenancy.API).HandleAccount, which authenticates the caller and resolves
// {AccountSid} before calling Handler.
type Route struct {
	Pattern string
	Handler func(w http.ResponseWriter, r *http.Request, acct *tenancy.Account)
}

// api serves the ledger's resources: the Calls read side, usage records,
// statements and price plans.
type api struct {
	l   *Ledger
	log *slog.Logger
}

// maxPlanBody bounds a price plan request body.
const maxPlanBody = 256 << 10

// Mount registers the ledger's resources (Routes) on the tenancy API.
func (l *Ledger) Mount(a *tenancy.API) {
	for _, rt := range l.Routes() {
		a.HandleAccount(rt.Pattern, rt.Handler)
	}
}

// Routes returns the ledger's API resources, for Mount or another router
// that authenticates like tenancy.API.HandleAccount. Price plan changes
// rely on that authentication having been done with HTTP Basic: the user
// "admin" is the operator, any other user is the calling account's SID.
func (l *Ledger) Routes() []Route {
	a := &api{l: l, log: l.log.With("component", "accounting_api")}
	const calls = "GET /2010-04-01/Accounts/{AccountSid}/Calls"
	const usage = "GET /2010-04-01/Accounts/{AccountSid}/Usage/Records"
	const v1 = "/v1/Accounts/{AccountSid}/"

	return []Route{
		{calls + ".json", a.listCalls},
		{calls + ".csv", a.exportCalls},
		{calls + "/{CallSid}", a.fetchCall},
		{usage + ".json", a.usageRecords},
		{usage + "/{Subresource}", a.usageRecords},
		{"GET " + v1 + "CDRs.csv", a.exportCDRs(FormatCSV)},
		{"GET " + v1 + "CDRs.json", a.exportCDRs(FormatJSON)},
		{"GET " + v1 + "Statements.json", a.statement},
		{"GET " + v1 + "Statements", a.statement},
		{"GET " + v1 + "PricePlans.json", a.listPlans},
		{"POST " + v1 + "PricePlans.json", a.createPlan},
		{"GET " + v1 + "PricePlans/{Sid}", a.fetchPlan},
		{"POST " + v1 + "PricePlans/{Sid}", a.updatePlan},
		{"DELETE " + v1 + "PricePlans/{Sid}", a.deletePlan},
		{"GET " + v1 + "PricePlan.json", a.effectivePlan},
		{"POST " + v1 + "PricePlan.json", a.assignPlan},
	}
}

// operatorUser is the HTTP Basic user of the operator in tenancy.API.
const operatorUser = "admin"

// callerOf returns the SID of the authenticated caller, "" for the
// operator. HandleAccount has checked the credentials already.
func callerOf(r *http.Request) string {
	user, _, _ := r.BasicAuth()
	if user == operatorUser {
		return ""
	}

	return user
}

func forbidden(w http.ResponseWriter, msg string) {
	tenancy.WriteError(w, http.StatusForbidden, tenancy.CodeForbidden, msg)
}

// pathSID returns a path wildcard without its ".json" suffix.
func pathSID(r *http.Request, name string) string {
	return strings.TrimSuffix(r.PathValue(name), ".json")
}

// badParam answers 400 naming the parameter.
func badParam(w http.ResponseWriter, param, reason string) {
	tenancy.WriteError(w, http.StatusBadRequest, tenancy.CodeInvalidParameter,
		param+": "+reason)
}

// parsePage reads PageSize and Page, answering 400 when they are bad.
func parsePage(w http.ResponseWriter, r *http.Request) (tenancy.Page, bool) {
	page, err := tenancy.ParsePage(r)
	var fe *tenancy.FieldError
	switch {
	case errors.As(err, &fe):
		badParam(w, fe.Field, fe.Reason)

		return page, false
	case err != nil:
		badParam(w, "Page", err.Error())

		return page, false
	}

	return page, true
}

func notFound(w http.ResponseWriter) {
	tenancy.WriteError(w, http.StatusNotFound, tenancy.CodeNotFound,
		"the requested resource was not found")
}

// fail answers a ledger error: 400 for invalid input (the message names
// the field), 404 for anything missing, 500 otherwise (logged).
func (a *api) fail(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, ErrInvalid):
		msg := strings.TrimPrefix(err.Error(), ErrInvalid.Error()+": ")
		tenancy.WriteError(w, http.StatusBadRequest, tenancy.CodeInvalidParameter, msg)
	case errors.Is(err, ErrNotFound):
		notFound(w)
	default:
		a.log.LogAttrs(r.Context(), slog.LevelError, "accounting api request failed",
			slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.String("error", err.Error()))
		tenancy.WriteError(w, http.StatusInternalServerError, tenancy.CodeInternal,
			"internal error")
	}
}

// optTime formats t for JSON, null when zero.
func optTime(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := tenancy.FormatTime(t)

	return &s
}

// optString is s for JSON, null when empty.
func optString(s string) *string {
	if s == "" {
		return nil
	}

	return &s
}
