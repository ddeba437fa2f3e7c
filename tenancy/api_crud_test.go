package tenancy

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// crudCase describes one REST collection for the table tests.
type crudCase struct {
	name    string
	coll    string // path without ".json", with {AccountSid} and {ParentSid}, {L0}.. from setup
	listKey string
	// setup creates what the collection needs in account a and returns
	// replacements for the placeholders of coll and of create's values.
	setup  func(h *harness, a creds) map[string]string
	create func(i int) url.Values
	// update, when set, is a change whose field and new value are checked.
	update      url.Values
	field, want string
	// hidden names response fields that must never appear (secrets).
	hidden []string
}

const (
	acctBase  = "/2010-04-01/Accounts/{AccountSid}"
	v1Base    = "/v1/Accounts/{AccountSid}"
	goodPass  = "Secret-pass-123"
	goodPass2 = "Other-pass-4567"
)

// post creates an item as c at path and returns its SID.
func (h *harness) post(c creds, path string, form url.Values) string {
	h.t.Helper()

	return h.must(http.StatusCreated, c, "POST", path, form)["sid"].(string)
}

func parentSetup(path string, form url.Values) func(h *harness, a creds) map[string]string {
	return func(h *harness, a creds) map[string]string {
		h.seq++
		seq := map[string]string{"{Seq}": fmt.Sprint(h.seq)}
		sid := h.post(a, fill(path, a.user, nil)+".json", fillForm(form, a.user, seq))

		return map[string]string{"{ParentSid}": sid}
	}
}

// listsSetup creates a domain or trunk as parent and three lists L0..L2.
func listsSetup(parent string, parentForm url.Values, lists string) func(*harness, creds) map[string]string {
	return func(h *harness, a creds) map[string]string {
		env := parentSetup(parent, parentForm)(h, a)
		for i := range 3 {
			env[fmt.Sprintf("{L%d}", i)] = h.post(a, fill(lists, a.user, nil)+".json",
				vals("FriendlyName", fmt.Sprint("list ", i)))
		}

		return env
	}
}

func crudCases() []crudCase {

	return []crudCase{
		{name: "applications", coll: acctBase + "/Applications", listKey: "applications",
			create: func(i int) url.Values {
				return vals("FriendlyName", fmt.Sprint("app ", i), "VoiceUrl", "https://x.test/v",
					"StatusCallbackEvent", "initiated ringing", "StatusCallbackEvent", "completed")
			},
			update: vals("VoiceUrl", "http://y.test/new"), field: "voice_url", want: "http://y.test/new"},
		{name: "incoming numbers", coll: acctBase + "/IncomingPhoneNumbers",
			listKey: "incoming_phone_numbers",
			create: func(i int) url.Values {
				return vals("PhoneNumber", fmt.Sprintf("+1415555%04d", i), "VoiceUrl", "https://x.test/")
			},
			update: vals("FriendlyName", "main line"), field: "friendly_name", want: "main line"},
		{name: "sip domains", coll: acctBase + "/SIP/Domains", listKey: "domains",
			create: func(i int) url.Values {
				return vals("DomainName", fmt.Sprintf("d%d.{AccountSid}.sip.example.com", i),
					"SipRegistration", "true")
			},
			update: vals("VoiceUrl", "https://x.test/d"), field: "voice_url", want: "https://x.test/d"},
		{name: "credential lists", coll: acctBase + "/SIP/CredentialLists", listKey: "credential_lists",
			create: func(i int) url.Values { return vals("FriendlyName", fmt.Sprint("cl ", i)) },
			update: vals("FriendlyName", "renamed"), field: "friendly_name", want: "renamed"},
		{name: "credentials", coll: acctBase + "/SIP/CredentialLists/{ParentSid}/Credentials",
			listKey: "credentials",
			setup:   parentSetup(acctBase+"/SIP/CredentialLists", vals("FriendlyName", "cl")),
			create: func(i int) url.Values {
				return vals("Username", fmt.Sprint("user", i), "Password", goodPass)
			},
			update: vals("Password", goodPass2), field: "username", want: "user0",
			hidden: []string{"password", "ha1_md5", "ha1_sha256"}},
		{name: "ip access control lists", coll: acctBase + "/SIP/IpAccessControlLists",
			listKey: "ip_access_control_lists",
			create:  func(i int) url.Values { return vals("FriendlyName", fmt.Sprint("acl ", i)) },
			update:  vals("FriendlyName", "renamed"), field: "friendly_name", want: "renamed"},
		{name: "ip addresses", coll: acctBase + "/SIP/IpAccessControlLists/{ParentSid}/IpAddresses",
			listKey: "ip_addresses",
			setup:   parentSetup(acctBase+"/SIP/IpAccessControlLists", vals("FriendlyName", "acl")),
			create: func(i int) url.Values {
				return vals("FriendlyName", "office", "IpAddress", fmt.Sprintf("10.0.%d.0", i),
					"CidrPrefixLength", "24")
			},
			update: vals("IpAddress", "192.0.2.7"), field: "ip_address", want: "192.0.2.7"},
		mappingCase("domain credential list mappings", "CredentialListMappings",
			"credential_list_mappings", credentialLists),
		mappingCase("domain ip acl mappings", "IpAccessControlListMappings",
			"ip_access_control_list_mappings", ipACLs),
		mappingCase("auth calls credential list mappings", "Auth/Calls/CredentialListMappings",
			"contents", credentialLists),
		mappingCase("auth calls ip acl mappings", "Auth/Calls/IpAccessControlListMappings",
			"contents", ipACLs),
		mappingCase("auth registrations credential list mappings",
			"Auth/Registrations/CredentialListMappings", "contents", credentialLists),
		{name: "trunks", coll: v1Base + "/Trunks", listKey: "trunks",
			create: func(i int) url.Values {
				return vals("FriendlyName", fmt.Sprint("trunk ", i), "AuthUsername", "carrier",
					"AuthPassword", "carrier-secret")
			},
			update: vals("Secure", "true"), field: "secure", want: "true",
			hidden: []string{"auth_password"}},
		{name: "trunk origination urls", coll: v1Base + "/Trunks/{ParentSid}/OriginationUrls",
			listKey: "origination_urls", setup: parentSetup(v1Base+"/Trunks", vals("FriendlyName", "t")),
			create: func(i int) url.Values {
				return vals("SipUrl", fmt.Sprintf("sip:gw%d.example.net:5060", i), "Priority", "5")
			},
			update: vals("Weight", "70"), field: "weight", want: "70"},
		{name: "trunk ip acls", coll: v1Base + "/Trunks/{ParentSid}/IpAccessControlLists",
			listKey: "ip_access_control_lists",
			setup:   listsSetup(v1Base+"/Trunks", vals("FriendlyName", "t"), ipACLs.coll),
			create:  linkCreate(ipACLs.field)},
		{name: "trunk credential lists", coll: v1Base + "/Trunks/{ParentSid}/CredentialLists",
			listKey: "credential_lists",
			setup:   listsSetup(v1Base+"/Trunks", vals("FriendlyName", "t"), credentialLists.coll),
			create:  linkCreate(credentialLists.field)},
	}
}

// listKind is a kind of named list that domains and trunks map.
type listKind struct{ coll, field string }

var (
	credentialLists = listKind{acctBase + "/SIP/CredentialLists", "CredentialListSid"}
	ipACLs          = listKind{acctBase + "/SIP/IpAccessControlLists", "IpAccessControlListSid"}
)

func linkCreate(field string) func(int) url.Values {
	return func(i int) url.Values { return vals(field, fmt.Sprintf("{L%d}", i)) }
}

// mappingCase is the crudCase of one kind of a domain's list mappings.
func mappingCase(name, path, listKey string, lists listKind) crudCase {
	return crudCase{name: name, coll: acctBase + "/SIP/Domains/{ParentSid}/" + path,
		listKey: listKey,
		setup: listsSetup(acctBase+"/SIP/Domains",
			vals("DomainName", "d{Seq}.{AccountSid}.example.com"), lists.coll),
		create: linkCreate(lists.field)}
}

// fill replaces {AccountSid} and the setup placeholders in s.
func fill(s, account string, env map[string]string) string {
	s = strings.ReplaceAll(s, "{AccountSid}", account)
	for k, v := range env {
		s = strings.ReplaceAll(s, k, v)
	}

	return s
}

func fillForm(f url.Values, account string, env map[string]string) url.Values {
	out := url.Values{}
	for k, vs := range f {
		for _, v := range vs {
			out.Add(k, fill(v, account, env))
		}
	}

	return out
}

// instance is one crudCase set up in one account.
type instance struct {
	c    crudCase
	acct creds
	env  map[string]string
	coll string
}

func setUp(h *harness, c crudCase, a creds) instance {
	h.t.Helper()
	var env map[string]string
	if c.setup != nil {
		env = c.setup(h, a)
	}

	return instance{c: c, acct: a, env: env, coll: fill(c.coll, a.user, env)}
}

func (in instance) create(h *harness, i int) string {
	h.t.Helper()

	return h.post(in.acct, in.coll+".json", fillForm(in.c.create(i), in.acct.user, in.env))
}

func TestAPICRUDEveryResource(t *testing.T) {
	h := newHarness(t, APIOptions{})
	for _, c := range crudCases() {
		t.Run(c.name, func(t *testing.T) {
			h.t = t
			in := setUp(h, c, h.account(operator, "crud "+c.name))
			sids := []string{in.create(h, 0), in.create(h, 1), in.create(h, 2)}

			checkPaging(t, h, in, sids)
			item := h.must(http.StatusOK, in.acct, "GET", in.coll+"/"+sids[0]+".json", nil)
			checkItem(t, c, item, sids[0], in.coll)
			if item["account_sid"] != in.acct.user {
				t.Errorf("account_sid %v, want %s", item["account_sid"], in.acct.user)
			}
			if c.update != nil {
				got := h.must(http.StatusOK, in.acct, "POST", in.coll+"/"+sids[0]+".json", c.update)
				if fmt.Sprint(got[c.field]) != c.want {
					t.Errorf("after update %s = %v, want %s", c.field, got[c.field], c.want)
				}
				again := h.must(http.StatusOK, in.acct, "GET", in.coll+"/"+sids[0]+".json", nil)
				if fmt.Sprint(again[c.field]) != c.want {
					t.Errorf("fetched %s = %v, want %s", c.field, again[c.field], c.want)
				}
			}
			h.must(http.StatusNoContent, in.acct, "DELETE", in.coll+"/"+sids[0]+".json", nil)
			h.must(http.StatusNotFound, in.acct, "GET", in.coll+"/"+sids[0]+".json", nil)
			h.must(http.StatusNotFound, in.acct, "DELETE", in.coll+"/"+sids[0]+".json", nil)
			list := h.must(http.StatusOK, in.acct, "GET", in.coll+".json", nil)
			if n := len(list[c.listKey].([]any)); n != 2 {
				t.Errorf("%d items after delete, want 2", n)
			}
		})
	}
}

// checkPaging lists the three items two at a time.
func checkPaging(t *testing.T, h *harness, in instance, sids []string) {
	t.Helper()
	first := h.must(http.StatusOK, in.acct, "GET", in.coll+".json?PageSize=2", nil)
	items := first[in.c.listKey].([]any)
	if len(items) != 2 || first["next_page_uri"] == nil || first["previous_page_uri"] != nil {
		t.Fatalf("first page: %d items, next %v, previous %v", len(items),
			first["next_page_uri"], first["previous_page_uri"])
	}
	next := first["next_page_uri"].(string)
	second := h.must(http.StatusOK, in.acct, "GET", next, nil)
	rest := second[in.c.listKey].([]any)
	if len(rest) != 1 || second["next_page_uri"] != nil || second["start"] != 2.0 {
		t.Fatalf("second page: %d items, next %v, start %v", len(rest), second["next_page_uri"],
			second["start"])
	}
	got := []any{items[0].(map[string]any)["sid"], items[1].(map[string]any)["sid"],
		rest[0].(map[string]any)["sid"]}
	for i, sid := range sids {
		if got[i] != sid {
			t.Errorf("item %d = %v, want %s (oldest first)", i, got[i], sid)
		}
	}
}

// checkItem checks the common fields of a fetched item.
func checkItem(t *testing.T, c crudCase, item map[string]any, sid, coll string) {
	t.Helper()
	if item["sid"] != sid || item["uri"] != coll+"/"+sid+".json" {
		t.Errorf("sid %v uri %v, want %s at %s", item["sid"], item["uri"], sid, coll)
	}
	if _, err := parseRFC2822(item["date_created"]); err != nil {
		t.Errorf("date_created: %v", err)
	}
	for _, k := range c.hidden {
		if _, ok := item[k]; ok {
			t.Errorf("response carries %s", k)
		}
	}
}
