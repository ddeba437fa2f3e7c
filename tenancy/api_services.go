package tenancy

import (
	"fmt"
	"maps"
	"net/http"
	"strings"
)

type serviceView struct {
	AccountSID   string            `json:"account_sid"`
	Name         ServiceName       `json:"name"`
	Enabled      bool              `json:"enabled"`
	Options      map[string]string `json:"options"`
	PricePlanSID *string           `json:"price_plan_sid"`
	DateUpdated  *string           `json:"date_updated"`
	URI          string            `json:"uri"`
}

func viewService(v *Service) serviceView {
	sv := serviceView{AccountSID: v.AccountSID, Name: v.Name, Enabled: v.Enabled,
		Options: maps.Clone(v.Options),
		URI:     "/v1/Accounts/" + v.AccountSID + "/Services/" + string(v.Name) + ".json"}
	if sv.Options == nil {
		sv.Options = map[string]string{}
	}
	if v.PricePlanSID != "" {
		sv.PricePlanSID = &v.PricePlanSID
	}
	if !v.Updated.IsZero() {
		t := FormatTime(v.Updated)
		sv.DateUpdated = &t
	}

	return sv
}

// mountServices mounts the per-account service settings. Options are set
// with one form parameter per option, "Options.<name>=<value>"; an empty
// value removes the option.
func (a *API) mountServices() {
	const base = "/v1/Accounts/{AccountSid}/Services"
	a.HandleAccount("GET "+base+".json", func(w http.ResponseWriter, r *http.Request,
		acct *Account) {
		svcs, err := a.store.Services(r.Context(), acct.SID)
		if err != nil {
			a.fail(w, r, err)

			return
		}
		views := make([]serviceView, len(svcs))
		for i, v := range svcs {
			views[i] = viewService(v)
		}
		WriteJSON(w, http.StatusOK, map[string]any{"services": views,
			"uri": "/v1/Accounts/" + acct.SID + "/Services.json"})
	})
	a.HandleAccount("GET "+base+"/{Name}", func(w http.ResponseWriter, r *http.Request,
		acct *Account) {
		v, err := a.store.ServiceSetting(r.Context(), acct.SID, serviceParam(r))
		a.replyService(w, r, v, err)
	})
	a.HandleAccount("POST "+base+"/{Name}", a.updateService)
}

func serviceParam(r *http.Request) ServiceName {
	return ServiceName(strings.TrimSuffix(r.PathValue("Name"), ".json"))
}

func (a *API) replyService(w http.ResponseWriter, r *http.Request, v *Service, err error) {
	if err != nil {
		a.fail(w, r, err)

		return
	}
	WriteJSON(w, http.StatusOK, viewService(v))
}

// updateService sets Enabled, Options.* and PricePlanSid; only a parent
// account or the operator may set the price plan.
func (a *API) updateService(w http.ResponseWriter, r *http.Request, acct *Account) {
	c := callerFrom(r.Context())
	f, err := readForm(r)
	if err != nil {
		a.fail(w, r, err)

		return
	}
	if _, ok := f.get("PricePlanSid"); ok && !c.above(acct) {
		a.fail(w, r, fmt.Errorf("%w: only a parent account or the operator may set PricePlanSid",
			ErrForbidden))

		return
	}
	v, err := a.store.SetService(r.Context(), acct.SID, serviceParam(r), func(v *Service) error {
		return applyService(f, v)
	})
	a.replyService(w, r, v, err)
}

// applyService copies Enabled, PricePlanSid and every Options.<name>
// parameter into v.
func applyService(f *form, v *Service) error {
	f.boolean("Enabled", &v.Enabled)
	set(f, "PricePlanSid", &v.PricePlanSID, func(s string) (string, error) {
		if s != "" && !anySID(s) {
			return "", errNotSID
		}

		return s, nil
	})
	if f.err != nil {
		return f.err
	}
	if v.Options == nil {
		v.Options = map[string]string{}
	}
	for key, vals := range f.v {
		name, ok := strings.CutPrefix(key, "Options.")
		if !ok || len(vals) == 0 {
			continue
		}
		if name == "" || len(name) > 64 || !validLabel(strings.ReplaceAll(name, "_", "-")) {
			return invalid(key, "not a valid option name")
		}
		if vals[0] == "" {
			delete(v.Options, name)

			continue
		}
		val, err := parseFriendlyName(vals[0])
		if err != nil {
			return invalid(key, err.Error())
		}
		v.Options[name] = val
	}

	return nil
}
