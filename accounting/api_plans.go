package accounting

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"sort"
	"strings"

	"github.com/patchbay/patchbay/tenancy"
)

// rateJSON is a Rate as the API reads and writes it.
type rateJSON struct {
	Category         Category `json:"category"`
	Prefix           string   `json:"prefix"`
	PricePerMinute   string   `json:"price_per_minute"`
	BillingIncrement string   `json:"billing_increment,omitempty"`
	MinimumSeconds   int64    `json:"minimum_seconds"`
}

// planJSON is a PricePlan as the API reads and writes it. Amounts are
// decimal strings in the plan's price unit.
type planJSON struct {
	SID          string              `json:"sid,omitempty"`
	AccountSID   string              `json:"account_sid,omitempty"`
	FriendlyName string              `json:"friendly_name"`
	PriceUnit    string              `json:"price_unit"`
	MonthlyFee   string              `json:"monthly_fee"`
	Rates        []rateJSON          `json:"rates"`
	UnitPrices   map[Category]string `json:"unit_prices"`
	UsagePrices  map[Category]string `json:"usage_prices"`
	// OperatorOwned is output only: plans the operator made.
	OperatorOwned bool    `json:"operator_owned,omitempty"`
	DateCreated   *string `json:"date_created,omitempty"`
	DateUpdated   *string `json:"date_updated,omitempty"`
	URI           string  `json:"uri,omitempty"`
	// InheritedFrom is set on the effective plan when it is assigned to an
	// ancestor of the account.
	InheritedFrom *string `json:"inherited_from,omitempty"`
}

// ParsePricePlanJSON reads a price plan from the API's JSON body. Unknown
// fields, malformed amounts and bad increments are errors wrapping
// ErrInvalid that name the field; the plan is then checked by Validate.
func ParsePricePlanJSON(body []byte) (PricePlan, error) {
	var in planJSON
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return PricePlan{}, fmt.Errorf("%w: body: %s", ErrInvalid,
			strings.TrimPrefix(err.Error(), "json: "))
	}
	if dec.More() {
		return PricePlan{}, fmt.Errorf("%w: body: more than one JSON value", ErrInvalid)
	}
	p := PricePlan{FriendlyName: in.FriendlyName, PriceUnit: in.PriceUnit}
	var err error
	if in.MonthlyFee != "" {
		if p.MonthlyFee, err = ParseMicro(in.MonthlyFee); err != nil {
			return p, fmt.Errorf("%w: monthly_fee: %w", ErrInvalid, err)
		}
	}
	for i, rj := range in.Rates {
		r, err := rj.rate()
		if err != nil {
			return p, fmt.Errorf("%w: rates[%d].%w", ErrInvalid, i, err)
		}
		p.Rates = append(p.Rates, r)
	}
	if p.UnitPrices, err = parsePrices("unit_prices", in.UnitPrices); err != nil {
		return p, err
	}
	if p.UsagePrices, err = parsePrices("usage_prices", in.UsagePrices); err != nil {
		return p, err
	}
	if err := p.Validate(); err != nil {
		return p, err
	}

	return p, nil
}

func (rj rateJSON) rate() (Rate, error) {
	r := Rate{Category: rj.Category, Prefix: rj.Prefix, Minimum: rj.MinimumSeconds}
	v, err := ParseMicro(rj.PricePerMinute)
	if err != nil {
		return r, fmt.Errorf("price_per_minute: %w", err)
	}
	r.PerMinute = v
	if rj.BillingIncrement != "" {
		r.Initial, r.Increment, err = ParseIncrements(rj.BillingIncrement)
		if err != nil {
			return r, fmt.Errorf("billing_increment: %w", err)
		}
	}

	return r, nil
}

func parsePrices(field string, in map[Category]string) (map[Category]int64, error) {
	if len(in) == 0 {
		return nil, nil
	}
	out := make(map[Category]int64, len(in))
	for c, s := range in {
		v, err := ParseMicro(s)
		if err != nil {
			return nil, fmt.Errorf("%w: %s[%s]: %w", ErrInvalid, field, c, err)
		}
		out[c] = v
	}

	return out, nil
}

func viewPlan(p *PricePlan, viewer string) planJSON {
	v := planJSON{SID: p.SID, AccountSID: p.AccountSID, FriendlyName: p.FriendlyName,
		OperatorOwned: p.OperatorOwned,
		PriceUnit:     p.PriceUnit, MonthlyFee: FormatMicro(p.MonthlyFee),
		Rates: []rateJSON{}, UnitPrices: viewPrices(p.UnitPrices),
		UsagePrices: viewPrices(p.UsagePrices), DateCreated: optTime(p.Created),
		DateUpdated: optTime(p.Updated),
		URI:         "/v1/Accounts/" + viewer + "/PricePlans/" + p.SID + ".json"}
	for _, r := range p.Rates {
		v.Rates = append(v.Rates, rateJSON{Category: r.Category, Prefix: r.Prefix,
			PricePerMinute: FormatMicro(r.PerMinute), BillingIncrement: r.Increments(),
			MinimumSeconds: r.Minimum})
	}
	sort.SliceStable(v.Rates, func(i, j int) bool {
		return v.Rates[i].Category < v.Rates[j].Category
	})

	return v
}

func viewPrices(m map[Category]int64) map[Category]string {
	out := make(map[Category]string, len(m))
	for c, v := range m {
		out[c] = FormatMicro(v)
	}

	return out
}

// readPlan reads and parses a JSON plan body.
func readPlan(w http.ResponseWriter, r *http.Request) (PricePlan, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, _ := mime.ParseMediaType(ct); mt != "application/json" {
			return PricePlan{}, fmt.Errorf("%w: Content-Type: want application/json", ErrInvalid)
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxPlanBody))
	if err != nil {
		return PricePlan{}, fmt.Errorf("%w: body: %w", ErrInvalid, err)
	}

	return ParsePricePlanJSON(body)
}

func (a *api) listPlans(w http.ResponseWriter, r *http.Request, acct *tenancy.Account) {
	page, ok := parsePage(w, r)
	if !ok {
		return
	}
	plans, err := a.l.PricePlans(r.Context(), acct.SID)
	if err != nil {
		a.fail(w, r, err)

		return
	}
	from := min(page.Number*page.Size, len(plans))
	to := min(from+page.Size, len(plans))
	out := make([]planJSON, 0, to-from)
	for i := from; i < to; i++ {
		out = append(out, viewPlan(&plans[i], acct.SID))
	}
	body := tenancy.PageEnvelope(r, page, len(out), to < len(plans))
	body["price_plans"] = out
	tenancy.WriteJSON(w, http.StatusOK, body)
}

func (a *api) createPlan(w http.ResponseWriter, r *http.Request, acct *tenancy.Account) {
	p, err := readPlan(w, r)
	if err != nil {
		a.fail(w, r, err)

		return
	}
	p.AccountSID = acct.SID
	p.OperatorOwned = callerOf(r) == ""
	created, err := a.l.CreatePricePlan(r.Context(), p)
	if err != nil {
		a.fail(w, r, err)

		return
	}
	tenancy.WriteJSON(w, http.StatusCreated, viewPlan(created, acct.SID))
}

// ownPlan returns the plan named in the path if acct owns it and, when
// change is set, the caller may change it: an operator plan only the
// operator may.
func (a *api) ownPlan(w http.ResponseWriter, r *http.Request, acct *tenancy.Account,
	change bool) (*PricePlan, bool) {
	p, err := a.l.PricePlan(r.Context(), pathSID(r, "Sid"))
	if err == nil && p.AccountSID != acct.SID {
		err = ErrNotFound
	}
	if err != nil {
		a.fail(w, r, err)

		return nil, false
	}
	if change && p.OperatorOwned && callerOf(r) != "" {
		forbidden(w, "only the operator may change an operator price plan")

		return nil, false
	}

	return p, true
}

func (a *api) fetchPlan(w http.ResponseWriter, r *http.Request, acct *tenancy.Account) {
	if p, ok := a.ownPlan(w, r, acct, false); ok {
		tenancy.WriteJSON(w, http.StatusOK, viewPlan(p, acct.SID))
	}
}

func (a *api) updatePlan(w http.ResponseWriter, r *http.Request, acct *tenancy.Account) {
	old, ok := a.ownPlan(w, r, acct, true)
	if !ok {
		return
	}
	p, err := readPlan(w, r)
	if err != nil {
		a.fail(w, r, err)

		return
	}
	p.SID = old.SID
	updated, err := a.l.UpdatePricePlan(r.Context(), p)
	if err != nil {
		a.fail(w, r, err)

		return
	}
	tenancy.WriteJSON(w, http.StatusOK, viewPlan(updated, acct.SID))
}

func (a *api) deletePlan(w http.ResponseWriter, r *http.Request, acct *tenancy.Account) {
	p, ok := a.ownPlan(w, r, acct, true)
	if !ok {
		return
	}
	if err := a.l.DeletePricePlan(r.Context(), p.SID); err != nil {
		a.fail(w, r, err)

		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// effectivePlan answers the plan that rates the account, or 404 when none.
func (a *api) effectivePlan(w http.ResponseWriter, r *http.Request, acct *tenancy.Account) {
	p, from, err := a.l.EffectivePricePlan(r.Context(), acct.SID)
	if err == nil && p == nil {
		err = ErrNotFound
	}
	if err != nil {
		a.fail(w, r, err)

		return
	}
	v := viewPlan(p, p.AccountSID)
	if from != acct.SID {
		v.InheritedFrom = &from
	}
	tenancy.WriteJSON(w, http.StatusOK, v)
}

// assignPlan sets the account's own plan from the form (or JSON) field
// PricePlanSid; an empty value makes the account inherit again. Only the
// operator or an ancestor may do it, never the account itself. It answers
// the effective plan, or 204 when no plan applies any more.
func (a *api) assignPlan(w http.ResponseWriter, r *http.Request, acct *tenancy.Account) {
	if callerOf(r) == acct.SID {
		forbidden(w, "an account may not choose its own price plan")

		return
	}
	sid, err := assignedSID(r)
	if err != nil {
		a.fail(w, r, err)

		return
	}
	err = a.l.AssignPricePlan(r.Context(), acct.SID, sid)
	if errors.Is(err, ErrNotFound) {
		badParam(w, "PricePlanSid", "no such price plan for this account")

		return
	}
	if err != nil {
		a.fail(w, r, err)

		return
	}
	if p, _, err := a.l.EffectivePricePlan(r.Context(), acct.SID); err == nil && p == nil {
		w.WriteHeader(http.StatusNoContent)

		return
	}
	a.effectivePlan(w, r, acct)
}

func assignedSID(r *http.Request) (string, error) {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt == "application/json" {
		var in struct {
			PricePlanSID *string `json:"PricePlanSid"`
		}
		dec := json.NewDecoder(io.LimitReader(r.Body, 4096))
		if err := dec.Decode(&in); err != nil || in.PricePlanSID == nil {
			return "", fmt.Errorf("%w: PricePlanSid: required", ErrInvalid)
		}

		return *in.PricePlanSID, nil
	}
	if err := r.ParseForm(); err != nil {
		return "", fmt.Errorf("%w: body: %w", ErrInvalid, err)
	}
	if _, ok := r.PostForm["PricePlanSid"]; !ok {
		return "", fmt.Errorf("%w: PricePlanSid: required", ErrInvalid)
	}

	return r.PostForm.Get("PricePlanSid"), nil
}
