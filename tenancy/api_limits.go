package tenancy

import (
	"fmt"
	"net/http"
	"strings"
)

// maxLimit bounds the integer limits.
const maxLimit = 1_000_000

type limitsView struct {
	AccountSID      string   `json:"account_sid"`
	ConcurrentCalls int      `json:"concurrent_calls"`
	CallsPerSecond  int      `json:"calls_per_second"`
	Registrations   int      `json:"registrations"`
	MonthlySpendCap string   `json:"monthly_spend_cap"`
	AllowedPrefixes []string `json:"allowed_prefixes"`
	DateUpdated     *string  `json:"date_updated"`
	URI             string   `json:"uri"`
}

func viewLimits(l *Limits) limitsView {
	v := limitsView{AccountSID: l.AccountSID, ConcurrentCalls: l.ConcurrentCalls,
		CallsPerSecond: l.CallsPerSecond, Registrations: l.Registrations,
		MonthlySpendCap: formatMoney(l.MonthlySpendCapMicro),
		AllowedPrefixes: append([]string{}, l.AllowedPrefixes...),
		URI:             "/v1/Accounts/" + l.AccountSID + "/Limits.json"}
	if !l.Updated.IsZero() {
		t := FormatTime(l.Updated)
		v.DateUpdated = &t
	}

	return v
}

// mountLimits mounts the account's limits. Every account reads its own;
// only a parent account or the operator changes them.
func (a *API) mountLimits() {
	const path = "/v1/Accounts/{AccountSid}/Limits.json"
	a.HandleAccount("GET "+path, func(w http.ResponseWriter, r *http.Request, acct *Account) {
		l, err := a.store.AccountLimits(r.Context(), acct.SID)
		a.replyLimits(w, r, l, err)
	})
	a.HandleAccount("POST "+path, func(w http.ResponseWriter, r *http.Request, acct *Account) {
		if !callerFrom(r.Context()).above(acct) {
			a.fail(w, r, fmt.Errorf("%w: only a parent account or the operator may change limits",
				ErrForbidden))

			return
		}
		f, err := readForm(r)
		if err != nil {
			a.fail(w, r, err)

			return
		}
		l, err := a.store.SetLimits(r.Context(), acct.SID, func(l *Limits) error {
			return applyLimits(f, l)
		})
		a.replyLimits(w, r, l, err)
	})
}

func (a *API) replyLimits(w http.ResponseWriter, r *http.Request, l *Limits, err error) {
	if err != nil {
		a.fail(w, r, err)

		return
	}
	WriteJSON(w, http.StatusOK, viewLimits(l))
}

// applyLimits copies the present parameters into l. MonthlySpendCap is a
// decimal amount ("25.50"; empty or "0" for none), AllowedPrefixes a comma
// separated list of E.164 prefixes (empty allows every destination).
func applyLimits(f *form, l *Limits) error {
	f.integer("ConcurrentCalls", 0, maxLimit, &l.ConcurrentCalls)
	f.integer("CallsPerSecond", 0, maxLimit, &l.CallsPerSecond)
	f.integer("Registrations", 0, maxLimit, &l.Registrations)
	set(f, "MonthlySpendCap", &l.MonthlySpendCapMicro, func(s string) (int64, error) {
		if s == "" {
			return 0, nil
		}

		return parseMoney(s)
	})
	set(f, "AllowedPrefixes", &l.AllowedPrefixes, parsePrefixList)

	return f.err
}

// parsePrefixList parses comma separated E.164 prefixes, dropping
// duplicates; empty gives none.
func parsePrefixList(s string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for _, p := range strings.Split(s, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if _, err := parseE164Prefix(p); err != nil {
			return nil, err
		}
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	if len(out) > maxPrefixes {
		return nil, errTooLong
	}

	return out, nil
}
