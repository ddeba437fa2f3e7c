package accounting

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/patchbay/patchbay/tenancy"
)

// usageResource is a usage record in the CPaaS shape. Prices are positive.
type usageResource struct {
	AccountSID      string            `json:"account_sid"`
	APIVersion      string            `json:"api_version"`
	AsOf            string            `json:"as_of"`
	Category        string            `json:"category"`
	Count           string            `json:"count"`
	CountUnit       string            `json:"count_unit"`
	Description     string            `json:"description"`
	StartDate       string            `json:"start_date"`
	EndDate         string            `json:"end_date"`
	Price           string            `json:"price"`
	PriceUnit       string            `json:"price_unit"`
	Usage           string            `json:"usage"`
	UsageUnit       string            `json:"usage_unit"`
	URI             string            `json:"uri"`
	SubresourceURIs map[string]string `json:"subresource_uris"`
}

// usageSubresources maps each Records subresource to its granularity and,
// for the fixed periods, its range relative to today.
var usageSubresources = map[string]struct {
	g     Granularity
	fixed func(today time.Time) (time.Time, time.Time)
}{
	"":        {g: GranularityAll},
	"AllTime": {g: GranularityAll},
	"Daily":   {g: GranularityDaily},
	"Monthly": {g: GranularityMonthly},
	"Yearly":  {g: GranularityYearly},
	"Today":   {fixed: func(d time.Time) (time.Time, time.Time) { return d, d }},
	"Yesterday": {fixed: func(d time.Time) (time.Time, time.Time) {
		return d.AddDate(0, 0, -1), d.AddDate(0, 0, -1)
	}},
	"ThisMonth": {fixed: func(d time.Time) (time.Time, time.Time) {
		return d.AddDate(0, 0, 1-d.Day()), d
	}},
	"LastMonth": {fixed: func(d time.Time) (time.Time, time.Time) {
		first := d.AddDate(0, 0, 1-d.Day())

		return first.AddDate(0, -1, 0), first.AddDate(0, 0, -1)
	}},
}

func (a *api) usageRecords(w http.ResponseWriter, r *http.Request, acct *tenancy.Account) {
	sub := pathSID(r, "Subresource")
	kind, ok := usageSubresources[sub]
	if !ok {
		notFound(w)

		return
	}
	page, ok := parsePage(w, r)
	if !ok {
		return
	}
	now := a.l.now().UTC()
	q, param, err := parseUsageQuery(r.URL.Query(), acct, now, kind.g)
	if err != nil {
		badParam(w, param, err.Error())

		return
	}
	if kind.fixed != nil {
		from, to := kind.fixed(now.Truncate(24 * time.Hour))
		q.Start, q.End = from.Format(time.DateOnly), to.Format(time.DateOnly)
	}
	recs, err := a.l.UsageRecords(r.Context(), q)
	if err != nil {
		a.fail(w, r, err)

		return
	}
	from := min(page.Number*page.Size, len(recs))
	to := min(from+page.Size, len(recs))
	out := make([]usageResource, 0, to-from)
	for i := from; i < to; i++ {
		out = append(out, viewUsage(&recs[i], r.URL.Path, now))
	}
	body := tenancy.PageEnvelope(r, page, len(out), to < len(recs))
	body["usage_records"] = out
	tenancy.WriteJSON(w, http.StatusOK, body)
}

func viewUsage(u *UsageRecord, path string, now time.Time) usageResource {
	q := url.Values{"Category": {string(u.Category)}, "StartDate": {u.StartDate},
		"EndDate": {u.EndDate}}
	base := "/2010-04-01/Accounts/" + u.AccountSID + "/Usage/Records"

	return usageResource{AccountSID: u.AccountSID, APIVersion: "2010-04-01",
		AsOf: now.Format(time.RFC3339), Category: string(u.Category),
		Count: strconv.FormatInt(u.Count, 10), CountUnit: u.CountUnit,
		Description: describe(u.Category), StartDate: u.StartDate, EndDate: u.EndDate,
		Price: FormatMicro(u.Price), PriceUnit: strings.ToLower(u.PriceUnit),
		Usage: u.UsageString(), UsageUnit: u.UsageUnit, URI: path + "?" + q.Encode(),
		SubresourceURIs: map[string]string{
			"all_time": base + "/AllTime.json?" + q.Encode(),
			"daily":    base + "/Daily.json?" + q.Encode(),
			"monthly":  base + "/Monthly.json?" + q.Encode(),
		}}
}

func describe(c Category) string {
	return strings.ToUpper(string(c[:1])) + strings.ReplaceAll(string(c[1:]), "-", " ")
}

// parseUsageQuery reads Category, StartDate, EndDate, IncludeSubaccounts
// (default true) and Trunk. Dates are YYYY-MM-DD or offsets from today such
// as "-30days"; StartDate defaults to the account's creation day, EndDate
// to today.
func parseUsageQuery(v url.Values, acct *tenancy.Account, now time.Time, g Granularity) (
	UsageQuery, string, error) {
	today := now.Truncate(24 * time.Hour)
	q := UsageQuery{AccountSID: acct.SID, IncludeSubaccounts: true, Granularity: g,
		Category: Category(v.Get("Category")), Trunk: v.Get("Trunk"),
		Start: min(acct.Created.UTC().Format(time.DateOnly), today.Format(time.DateOnly)),
		End:   today.Format(time.DateOnly)}
	if acct.Created.IsZero() {
		q.Start = today.AddDate(0, 0, 1-today.Day()).Format(time.DateOnly)
	}
	if q.Category != "" && !q.Category.Known() {
		return q, "Category", fmt.Errorf("unknown category %q", q.Category)
	}
	if s := v.Get("IncludeSubaccounts"); s != "" {
		b, err := strconv.ParseBool(s)
		if err != nil {
			return q, "IncludeSubaccounts", fmt.Errorf("want true or false, got %q", s)
		}
		q.IncludeSubaccounts = b
	}
	for _, p := range []struct {
		name string
		dst  *string
	}{{"StartDate", &q.Start}, {"EndDate", &q.End}} {
		s := v.Get(p.name)
		if s == "" {
			continue
		}
		d, err := ParseDay(s, today)
		if err != nil {
			return q, p.name, err
		}
		*p.dst = d
	}
	if q.End < q.Start {
		return q, "EndDate", fmt.Errorf("%s is before StartDate %s", q.End, q.Start)
	}

	return q, "", nil
}

// ParseDay reads a day as YYYY-MM-DD or as an offset in days from today,
// like "-30days" or "+1days", and returns it as YYYY-MM-DD.
func ParseDay(s string, today time.Time) (string, error) {
	if d, err := time.Parse(time.DateOnly, s); err == nil {
		return d.Format(time.DateOnly), nil
	}
	if n, ok := strings.CutSuffix(s, "days"); ok && len(n) > 1 && (n[0] == '-' || n[0] == '+') {
		k, err := strconv.Atoi(n)
		if err == nil && k >= -36600 && k <= 36600 {
			return today.AddDate(0, 0, k).Format(time.DateOnly), nil
		}
	}

	return "", fmt.Errorf("want YYYY-MM-DD or an offset like -30days, got %q", s)
}
