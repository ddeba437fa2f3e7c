package accounting

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/patchbay/patchbay/tenancy"
)

// callResource is a CDR in the CPaaS call resource shape, with Patchbay's
// own fields after the standard ones.
type callResource struct {
	SID             string            `json:"sid"`
	DateCreated     *string           `json:"date_created"`
	DateUpdated     *string           `json:"date_updated"`
	ParentCallSID   *string           `json:"parent_call_sid"`
	AccountSID      string            `json:"account_sid"`
	To              string            `json:"to"`
	ToFormatted     string            `json:"to_formatted"`
	From            string            `json:"from"`
	FromFormatted   string            `json:"from_formatted"`
	PhoneNumberSID  *string           `json:"phone_number_sid"`
	Status          string            `json:"status"`
	StartTime       *string           `json:"start_time"`
	EndTime         *string           `json:"end_time"`
	Duration        *string           `json:"duration"`
	Price           *string           `json:"price"`
	PriceUnit       string            `json:"price_unit"`
	Direction       string            `json:"direction"`
	AnsweredBy      *string           `json:"answered_by"`
	APIVersion      string            `json:"api_version"`
	ForwardedFrom   *string           `json:"forwarded_from"`
	GroupSID        *string           `json:"group_sid"`
	CallerName      *string           `json:"caller_name"`
	QueueTime       string            `json:"queue_time"`
	TrunkSID        *string           `json:"trunk_sid"`
	URI             string            `json:"uri"`
	SubresourceURIs map[string]string `json:"subresource_uris"`

	AnswerTime       *string      `json:"answer_time"`
	RingDuration     string       `json:"ring_duration"`
	BillableDuration string       `json:"billable_duration"`
	EndCause         *string      `json:"end_cause"`
	SIPResponseCode  *int         `json:"sip_response_code"`
	SIPReason        *string      `json:"sip_reason"`
	SIPCallID        string       `json:"sip_call_id"`
	ApplicationSID   *string      `json:"application_sid"`
	MediaMode        *string      `json:"media_mode"`
	Node             string       `json:"node"`
	Recovered        bool         `json:"recovered"`
	Quality          *qualityView `json:"quality"`
}

type qualityView struct {
	Codec           string `json:"codec"`
	SRTP            bool   `json:"srtp"`
	PacketsSent     int64  `json:"packets_sent"`
	PacketsReceived int64  `json:"packets_received"`
	BytesSent       int64  `json:"bytes_sent"`
	BytesReceived   int64  `json:"bytes_received"`
	PacketsLost     int64  `json:"packets_lost"`
	LossPercent     string `json:"loss_percent"`
	JitterMS        string `json:"jitter_ms"`
	RTTMS           string `json:"rtt_ms"`
}

func seconds(d time.Duration) string {
	return strconv.FormatInt(ceilDiv(d.Milliseconds(), 1000), 10)
}

func millis(d time.Duration) string {
	return strconv.FormatFloat(float64(d.Microseconds())/1000, 'f', -1, 64)
}

// viewCall renders a CDR. Price is negative for a charge, as the CPaaS API
// shows it, and null until the leg is closed and rated.
func viewCall(c *CDR) callResource {
	base := "/2010-04-01/Accounts/" + c.AccountSID + "/Calls/" + c.SID
	v := callResource{
		SID: c.SID, DateCreated: optTime(c.Created), DateUpdated: optTime(lastEvent(c)),
		ParentCallSID: optString(c.ParentSID), AccountSID: c.AccountSID, To: c.To,
		ToFormatted: c.To, From: c.From, FromFormatted: c.From, Status: string(c.Status),
		StartTime: optTime(c.Created), EndTime: optTime(c.Ended), PriceUnit: c.PriceUnit,
		Direction: string(c.Direction), APIVersion: "2010-04-01",
		ForwardedFrom: optString(c.ForwardedFrom), CallerName: optString(c.CallerName),
		QueueTime: "0", TrunkSID: optString(c.TrunkSID), URI: base + ".json",
		SubresourceURIs: map[string]string{
			"notifications": base + "/Notifications.json",
			"recordings":    base + "/Recordings.json",
		},
		AnswerTime: optTime(c.Answered), RingDuration: seconds(c.RingTime),
		BillableDuration: seconds(c.Billable), EndCause: optString(string(c.Cause)),
		SIPReason: optString(c.SIPReason), SIPCallID: c.CallID,
		ApplicationSID: optString(c.ApplicationSID), MediaMode: optString(c.MediaMode),
		Node: c.Node, Recovered: c.Recovered,
	}
	if c.SIPCode != 0 {
		code := c.SIPCode
		v.SIPResponseCode = &code
	}
	if !c.Open() {
		d, p := seconds(c.TalkTime), FormatMicro(-c.PriceMicro)
		v.Duration, v.Price = &d, &p
		q := c.Quality
		v.Quality = &qualityView{Codec: q.Codec, SRTP: q.SRTP, PacketsSent: q.PacketsSent,
			PacketsReceived: q.PacketsReceived, BytesSent: q.BytesSent,
			BytesReceived: q.BytesReceived, PacketsLost: q.PacketsLost,
			LossPercent: lossPercent(q), JitterMS: millis(q.Jitter), RTTMS: millis(q.RTT)}
	}

	return v
}

// lossPercent is the share of expected packets lost, with two decimals.
func lossPercent(q Quality) string {
	expected := q.PacketsReceived + q.PacketsLost
	if expected <= 0 {
		return "0"
	}

	return strconv.FormatFloat(float64(q.PacketsLost)*100/float64(expected), 'f', 2, 64)
}

func lastEvent(c *CDR) time.Time {
	t := c.Created
	for _, e := range []time.Time{c.Ringing, c.Answered, c.Ended} {
		if e.After(t) {
			t = e
		}
	}

	return t
}

func (a *api) fetchCall(w http.ResponseWriter, r *http.Request, acct *tenancy.Account) {
	c, err := a.l.CDR(r.Context(), pathSID(r, "CallSid"))
	if err != nil {
		a.fail(w, r, err)

		return
	}
	if c.AccountSID != acct.SID {
		notFound(w)

		return
	}
	tenancy.WriteJSON(w, http.StatusOK, viewCall(c))
}

func (a *api) listCalls(w http.ResponseWriter, r *http.Request, acct *tenancy.Account) {
	page, ok := parsePage(w, r)
	if !ok {
		return
	}
	f, param, err := ParseCallFilter(r.URL.Query())
	if err != nil {
		badParam(w, param, err.Error())

		return
	}
	f.AccountSID = acct.SID
	f.Offset, f.Limit = page.Number*page.Size, page.Size
	list, more, err := a.l.ListCDRs(r.Context(), f)
	if err != nil {
		a.fail(w, r, err)

		return
	}
	calls := make([]callResource, len(list))
	for i := range list {
		calls[i] = viewCall(&list[i])
	}
	body := tenancy.PageEnvelope(r, page, len(calls), more)
	body["calls"] = calls
	tenancy.WriteJSON(w, http.StatusOK, body)
}

// ParseCallFilter reads the Calls list filters: Status, To, From,
// ParentCallSid, Direction, and StartTime / EndTime with their ">" (on or
// after) and "<" (on or before) forms, as in "StartTime>=2026-11-01". A
// time is a UTC day (YYYY-MM-DD, the whole day) or an RFC 3339 instant. On
// error it returns the offending parameter's name.
func ParseCallFilter(q url.Values) (CDRFilter, string, error) {
	f := CDRFilter{To: q.Get("To"), From: q.Get("From"), ParentSID: q.Get("ParentCallSid")}
	if s := Status(q.Get("Status")); s != "" {
		if !s.Valid() {
			return f, "Status", fmt.Errorf("unknown status %q", s)
		}
		f.Status = s
	}
	if d := Direction(q.Get("Direction")); d != "" {
		if !d.Valid() {
			return f, "Direction", fmt.Errorf("unknown direction %q", d)
		}
		f.Direction = d
	}
	for _, b := range []struct {
		name     string
		from, to *time.Time
	}{{"StartTime", &f.CreatedFrom, &f.CreatedTo}, {"EndTime", &f.EndedFrom, &f.EndedTo}} {
		for _, suffix := range []string{"", ">", "<"} {
			v := q.Get(b.name + suffix)
			if v == "" {
				continue
			}
			lo, hi, err := parseTimeBound(v)
			if err != nil {
				return f, b.name + suffix, err
			}
			if suffix != "<" {
				*b.from = lo
			}
			if suffix != ">" {
				*b.to = hi
			}
		}
	}

	return f, "", nil
}

// parseTimeBound returns the half-open range a day or instant covers.
func parseTimeBound(v string) (time.Time, time.Time, error) {
	if d, err := time.Parse(time.DateOnly, v); err == nil {
		return d, d.AddDate(0, 0, 1), nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, time.Time{}, fmt.Errorf("want YYYY-MM-DD or RFC 3339, got %q", v)
	}

	return t, t.Add(time.Millisecond), nil
}

func (a *api) exportCalls(w http.ResponseWriter, r *http.Request, acct *tenancy.Account) {
	a.exportCDRs(FormatCSV)(w, r, acct)
}

// exportCDRs streams every CDR of the account the Calls filters select, not
// paged, as CSV or a JSON array.
func (a *api) exportCDRs(format ExportFormat) func(http.ResponseWriter, *http.Request,
	*tenancy.Account) {
	ctype, name := "text/csv; charset=utf-8", "cdrs.csv"
	if format == FormatJSON {
		ctype, name = "application/json", "cdrs.json"
	}

	return func(w http.ResponseWriter, r *http.Request, acct *tenancy.Account) {
		f, param, err := ParseCallFilter(r.URL.Query())
		if err != nil {
			badParam(w, param, err.Error())

			return
		}
		f.AccountSID = acct.SID
		w.Header().Set("Content-Type", ctype)
		w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
		if err := a.l.ExportCDRs(r.Context(), w, f, format); err != nil {
			a.log.Error("cdr export interrupted", "account_sid", acct.SID, "error", err)
		}
	}
}
