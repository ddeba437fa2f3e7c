package accounting

import "fmt"

// Category names a kind of metered use. Call legs meter the call, minutes
// and recording-minute categories when they close; the other services meter
// the rest with Meter.
type Category string

// The leaf categories: each use is metered into exactly one row of each
// category that applies to it, and each amount charged is kept on exactly
// one of them, so that statement lines add up to the rated CDRs and meters.
const (
	CatCallsInbound      Category = "calls-inbound"       // legs; billable minutes
	CatCallsOutboundAPI  Category = "calls-outbound-api"  // legs; billable minutes
	CatCallsOutboundDial Category = "calls-outbound-dial" // legs; billable minutes
	CatCallsTrunking     Category = "calls-trunking"      // legs; billable minutes
	CatMinutesRelayed    Category = "minutes-relayed"     // answered relayed legs
	CatMinutesP2P        Category = "minutes-peer-to-peer"
	CatMinutesSRTP       Category = "minutes-srtp"
	CatRecordings        Category = "recordings"              // Meter: count
	CatRecordingMinutes  Category = "recording-minutes"       // LegEnd or Meter: seconds
	CatRegistrations     Category = "registrations"           // Meter: successful REGISTERs
	CatDeviceHours       Category = "registered-device-hours" // Meter: seconds
	CatWebhookRequests   Category = "webhook-requests"
	CatWebhookFailures   Category = "webhook-failures"
	CatAPIRequests       Category = "api-requests"
)

// The aggregate categories, computed when read: calls sums the four call
// categories, calls-outbound the two outbound ones, totalprice every leaf's
// price.
const (
	CatCalls         Category = "calls"
	CatCallsOutbound Category = "calls-outbound"
	CatTotalPrice    Category = "totalprice"
)

// aggregates lists the summing aggregates (totalprice aside).
var aggregates = []Category{CatCalls, CatCallsOutbound}

// categoryInfo describes a category's units. usageSeconds is the number of
// stored seconds in one usage unit, or 0 when usage is a plain count.
type categoryInfo struct {
	countUnit    string
	usageUnit    string
	usageSeconds int64
	metered      bool // may be passed to Meter
	parts        []Category
}

var callCategories = []Category{CatCallsInbound, CatCallsOutboundAPI,
	CatCallsOutboundDial, CatCallsTrunking}

// categories is the immutable table of every category.
var categories = map[Category]categoryInfo{
	CatCallsInbound:      {countUnit: "calls", usageUnit: "minutes", usageSeconds: 60},
	CatCallsOutboundAPI:  {countUnit: "calls", usageUnit: "minutes", usageSeconds: 60},
	CatCallsOutboundDial: {countUnit: "calls", usageUnit: "minutes", usageSeconds: 60},
	CatCallsTrunking:     {countUnit: "calls", usageUnit: "minutes", usageSeconds: 60},
	CatMinutesRelayed:    {countUnit: "calls", usageUnit: "minutes", usageSeconds: 60},
	CatMinutesP2P:        {countUnit: "calls", usageUnit: "minutes", usageSeconds: 60},
	CatMinutesSRTP:       {countUnit: "calls", usageUnit: "minutes", usageSeconds: 60},
	CatRecordings:        {countUnit: "recordings", usageUnit: "recordings", metered: true},
	CatRecordingMinutes: {countUnit: "recordings", usageUnit: "minutes", usageSeconds: 60,
		metered: true},
	CatRegistrations: {countUnit: "registrations", usageUnit: "registrations",
		metered: true},
	CatDeviceHours: {countUnit: "devices", usageUnit: "hours", usageSeconds: 3600,
		metered: true},
	CatWebhookRequests: {countUnit: "requests", usageUnit: "requests", metered: true},
	CatWebhookFailures: {countUnit: "requests", usageUnit: "requests", metered: true},
	CatAPIRequests:     {countUnit: "requests", usageUnit: "requests", metered: true},
	CatCalls: {countUnit: "calls", usageUnit: "minutes", usageSeconds: 60,
		parts: callCategories},
	CatCallsOutbound: {countUnit: "calls", usageUnit: "minutes", usageSeconds: 60,
		parts: []Category{CatCallsOutboundAPI, CatCallsOutboundDial}},
	CatTotalPrice: {countUnit: "", usageUnit: ""},
}

// LeafCategories lists the stored categories in a stable order.
func LeafCategories() []Category { return append([]Category(nil), leafCategories...) }

var leafCategories = []Category{
	CatCallsInbound, CatCallsOutboundAPI, CatCallsOutboundDial, CatCallsTrunking,
	CatMinutesRelayed, CatMinutesP2P, CatMinutesSRTP, CatRecordings, CatRecordingMinutes,
	CatRegistrations, CatDeviceHours, CatWebhookRequests, CatWebhookFailures, CatAPIRequests,
}

// Known reports whether c is a leaf or aggregate category.
func (c Category) Known() bool {
	_, ok := categories[c]

	return ok
}

// callCategory is the call category of a leg's direction.
func callCategory(d Direction) Category {
	switch d {
	case DirOutboundAPI:
		return CatCallsOutboundAPI
	case DirOutboundDial:
		return CatCallsOutboundDial
	case DirTrunking:
		return CatCallsTrunking
	}

	return CatCallsInbound
}

// formatUsage renders stored usage in the category's unit: a count as is,
// seconds as minutes or hours with at most two decimals, rounded half up.
func formatUsage(c Category, usage int64) string {
	per := categories[c].usageSeconds
	if per == 0 {
		return fmt.Sprint(usage)
	}
	hundredths := (usage*100 + per/2) / per
	s := fmt.Sprintf("%d.%02d", hundredths/100, hundredths%100)
	switch {
	case s[len(s)-2:] == "00":
		return s[:len(s)-3]
	case s[len(s)-1] == '0':
		return s[:len(s)-1]
	}

	return s
}
