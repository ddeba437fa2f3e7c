package tenancy

import (
	"strings"
	"time"
)

// apiVersion is the CPaaS API version the /2010-04-01 resources follow.
const apiVersion = "2010-04-01"

// baseView holds the fields every resource's JSON form has; views embed it
// so that encoding/json flattens it.
type baseView struct {
	SID         string `json:"sid"`
	AccountSID  string `json:"account_sid"`
	DateCreated string `json:"date_created"`
	DateUpdated string `json:"date_updated"`
	URI         string `json:"uri"`
}

func newBase(sid, accountSID string, created, updated time.Time, uri string) baseView {
	return baseView{SID: sid, AccountSID: accountSID, DateCreated: FormatTime(created),
		DateUpdated: FormatTime(updated), URI: uri}
}

// subURIs maps each name to uri (without ".json") + "/" + path + ".json".
func subURIs(uri string, pairs ...string) map[string]string {
	base := strings.TrimSuffix(uri, ".json")
	out := make(map[string]string, len(pairs)/2)
	for i := 0; i+1 < len(pairs); i += 2 {
		out[pairs[i]] = base + "/" + pairs[i+1] + ".json"
	}

	return out
}

// listView is the JSON form of a credential list or IP access control list,
// also used for their mappings and trunk associations (with DomainSID or
// TrunkSID set).
type listView struct {
	baseView
	FriendlyName    string            `json:"friendly_name"`
	DomainSID       string            `json:"domain_sid,omitempty"`
	TrunkSID        string            `json:"trunk_sid,omitempty"`
	SubresourceURIs map[string]string `json:"subresource_uris,omitempty"`
}
