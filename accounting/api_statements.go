package accounting

import (
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/patchbay/patchbay/tenancy"
)

type moneyView struct {
	Price     string `json:"price"`
	PriceUnit string `json:"price_unit"`
}

type statementLineView struct {
	Category  *string `json:"category"`
	Kind      string  `json:"kind"`
	Count     int64   `json:"count"`
	CountUnit string  `json:"count_unit"`
	Usage     string  `json:"usage"`
	UsageUnit string  `json:"usage_unit"`
	moneyView
}

type accountTotalView struct {
	AccountSID string `json:"account_sid"`
	moneyView
}

type statementView struct {
	AccountSID    string              `json:"account_sid"`
	StartDate     string              `json:"start_date"`
	EndDate       string              `json:"end_date"`
	Lines         []statementLineView `json:"lines"`
	Accounts      []accountTotalView  `json:"accounts"`
	Totals        []moneyView         `json:"totals"`
	CDRTotals     []moneyView         `json:"cdr_totals"`
	DateGenerated string              `json:"date_generated"`
	URI           string              `json:"uri"`
}

func viewMoney(m Money) moneyView {
	return moneyView{Price: FormatMicro(m.Amount), PriceUnit: m.Unit}
}

func viewStatement(st *Statement, uri string) statementView {
	v := statementView{AccountSID: st.AccountSID, StartDate: st.Start, EndDate: st.End,
		DateGenerated: tenancy.FormatTime(st.Generated), URI: uri,
		Lines: []statementLineView{}, Accounts: []accountTotalView{},
		Totals: []moneyView{}, CDRTotals: []moneyView{}}
	for _, ln := range st.Lines {
		lv := statementLineView{Category: optString(string(ln.Category)), Kind: ln.Kind,
			Count: ln.Count, CountUnit: ln.CountUnit, UsageUnit: ln.UsageUnit,
			moneyView: viewMoney(Money{ln.Price, ln.PriceUnit})}
		lv.Usage = fmt.Sprint(ln.Usage)
		if ln.Category != "" {
			lv.Usage = formatUsage(ln.Category, ln.Usage)
		}
		v.Lines = append(v.Lines, lv)
	}
	for _, a := range st.Accounts {
		v.Accounts = append(v.Accounts, accountTotalView{a.AccountSID, viewMoney(a.Money)})
	}
	for _, m := range st.Totals {
		v.Totals = append(v.Totals, viewMoney(m))
	}
	for _, m := range st.CDRTotal {
		v.CDRTotals = append(v.CDRTotals, viewMoney(m))
	}

	return v
}

// statement answers GET .../Statements.json with Period=YYYY-MM, or
// StartDate and EndDate (days, inclusive); by default the current month
// to date. Prices are positive amounts owed.
func (a *api) statement(w http.ResponseWriter, r *http.Request, acct *tenancy.Account) {
	start, end, param, err := statementPeriod(r.URL.Query(), a.l.now().UTC())
	if err != nil {
		badParam(w, param, err.Error())

		return
	}
	st, err := a.l.Statement(r.Context(), acct.SID, start, end)
	if err != nil {
		a.fail(w, r, err)

		return
	}
	tenancy.WriteJSON(w, http.StatusOK, viewStatement(st, r.URL.RequestURI()))
}

func statementPeriod(q url.Values, now time.Time) (string, string, string, error) {
	today := now.Truncate(24 * time.Hour)
	start := today.AddDate(0, 0, 1-today.Day()).Format(time.DateOnly)
	end := today.Format(time.DateOnly)
	if p := q.Get("Period"); p != "" {
		m, err := time.Parse("2006-01", p)
		if err != nil {
			return "", "", "Period", fmt.Errorf("want YYYY-MM, got %q", p)
		}
		start = m.Format(time.DateOnly)
		end = m.AddDate(0, 1, -1).Format(time.DateOnly)
	}
	for _, p := range []struct {
		name string
		dst  *string
	}{{"StartDate", &start}, {"EndDate", &end}} {
		if s := q.Get(p.name); s != "" {
			d, err := ParseDay(s, today)
			if err != nil {
				return "", "", p.name, err
			}
			*p.dst = d
		}
	}
	if end < start {
		return "", "", "EndDate", fmt.Errorf("%s is before StartDate %s", end, start)
	}

	return start, end, "", nil
}
