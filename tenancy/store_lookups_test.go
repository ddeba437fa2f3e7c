package tenancy

import (
	"context"
	"errors"
	"net/netip"
	"reflect"
	"testing"
)

// lookupFixture is an account with a domain, credentials, IP lists, trunks,
// an application and numbers, made through the store.
type lookupFixture struct {
	acct          *Account
	domain        *Domain
	callsList     *CredentialList
	regsList      *CredentialList
	office, wide  *IPAccessControlList
	trunk, trunk2 *Trunk
	app           *Application
}

func newLookupFixture(t testing.TB, s *Store) lookupFixture {
	t.Helper()
	ctx := context.Background()
	var f lookupFixture
	var err error
	check := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	f.acct, err = s.CreateAccount(ctx, "", "lookups")
	check(err)
	a := f.acct.SID
	f.domain, err = s.CreateDomain(ctx, &Domain{AccountSID: a, DomainName: "acme.sip.example.com",
		VoiceURL: "https://acme.example/voice", VoiceMethod: "POST"})
	check(err)
	f.callsList, err = s.CreateCredentialList(ctx, a, "calls")
	check(err)
	f.regsList, err = s.CreateCredentialList(ctx, a, "registrations")
	check(err)
	_, err = s.CreateCredential(ctx, a, f.callsList.SID, "alice", goodPass)
	check(err)
	_, err = s.CreateCredential(ctx, a, f.regsList.SID, "bob", goodPass)
	check(err)
	_, err = s.t.domainCreds.add(ctx, s, a, f.domain.SID, MappingCalls, f.callsList.SID)
	check(err)
	_, err = s.t.domainCreds.add(ctx, s, a, f.domain.SID, MappingRegistrations, f.regsList.SID)
	check(err)
	f.office, err = s.CreateIPACL(ctx, a, "office")
	check(err)
	f.wide, err = s.CreateIPACL(ctx, a, "wide")
	check(err)
	for _, p := range []struct {
		acl    string
		prefix string
	}{{f.office.SID, "192.0.2.0/28"}, {f.office.SID, "2001:db8::/64"}, {f.wide.SID, "192.0.2.0/24"}} {
		_, err = s.CreateIPAddress(ctx, &IPAddress{AccountSID: a, IPACLSID: p.acl,
			Prefix: netip.MustParsePrefix(p.prefix)})
		check(err)
	}
	_, err = s.t.domainACLs.add(ctx, s, a, f.domain.SID, MappingCalls, f.office.SID)
	check(err)
	f.trunk, err = s.CreateTrunk(ctx, &Trunk{AccountSID: a, FriendlyName: "narrow",
		DomainName: "pbx.example.com"})
	check(err)
	f.trunk2, err = s.CreateTrunk(ctx, &Trunk{AccountSID: a, FriendlyName: "wide"})
	check(err)
	_, err = s.t.trunkACLs.add(ctx, s, a, f.trunk2.SID, "", f.wide.SID)
	check(err)
	_, err = s.t.trunkACLs.add(ctx, s, a, f.trunk.SID, "", f.office.SID)
	check(err)
	_, err = s.t.trunkCreds.add(ctx, s, a, f.trunk.SID, "", f.callsList.SID)
	check(err)
	for _, o := range []OriginationURI{{SIPURL: "sip:b.example.net", Priority: 20, Weight: 10},
		{SIPURL: "sip:a.example.net", Priority: 10, Weight: 5},
		{SIPURL: "sip:c.example.net", Priority: 10, Weight: 50}} {
		o.TrunkSID = f.trunk.SID
		_, err = s.CreateOriginationURI(ctx, a, &o)
		check(err)
	}
	f.app, err = s.CreateApplication(ctx, &Application{AccountSID: a, VoiceURL: "https://app/v",
		VoiceMethod: "GET", StatusCallbackEvents: []string{"answered", "completed"}})
	check(err)
	_, err = s.CreateIncomingNumber(ctx, &IncomingNumber{AccountSID: a,
		PhoneNumber: "+14155550100", VoiceApplicationSID: f.app.SID})
	check(err)
	_, err = s.CreateIncomingNumber(ctx, &IncomingNumber{AccountSID: a,
		PhoneNumber: "+14155550101", VoiceURL: "https://own/v", VoiceMethod: "POST"})
	check(err)

	return f
}

func TestStoreLookupsDomains(t *testing.T) {
	h := newHarness(t, APIOptions{})
	s, ctx := h.store, context.Background()
	f := newLookupFixture(t, s)

	d, err := s.DomainByName(ctx, "ACME.sip.Example.COM")
	if err != nil || d.SID != f.domain.SID {
		t.Fatalf("DomainByName case-insensitive: %v, %v", d, err)
	}
	if _, err := s.DomainByName(ctx, "none.example.com"); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing domain: %v", err)
	}
	creds := []struct {
		kind MappingKind
		user string
		ok   bool
	}{
		{MappingCalls, "alice", true}, {MappingCalls, "bob", false},
		{MappingRegistrations, "bob", true}, {MappingRegistrations, "alice", false},
	}
	for _, c := range creds {
		cred, err := s.DomainCredential(ctx, d.SID, c.kind, c.user)
		if c.ok != (err == nil) || (!c.ok && !errors.Is(err, ErrNotFound)) {
			t.Errorf("DomainCredential(%s, %s) = %v", c.kind, c.user, err)
		}
		if c.ok {
			md5Hex, shaHex := DigestHA1(c.user, goodPass)
			if cred.HA1MD5 != md5Hex || cred.HA1SHA256 != shaHex {
				t.Errorf("%s HA1 values do not match the password", c.user)
			}
		}
	}
	addrs := []struct {
		addr string
		kind MappingKind
		want bool
	}{
		{"192.0.2.5", MappingCalls, true}, {"192.0.2.16", MappingCalls, false},
		{"::ffff:192.0.2.5", MappingCalls, true}, {"2001:db8::1", MappingCalls, true},
		{"2001:db8:1::1", MappingCalls, false}, {"192.0.2.5", MappingRegistrations, false},
	}
	for _, c := range addrs {
		got, err := s.DomainAllowsAddr(ctx, d.SID, c.kind, netip.MustParseAddr(c.addr))
		if err != nil || got != c.want {
			t.Errorf("DomainAllowsAddr(%s, %s) = %v, %v; want %v", c.kind, c.addr, got, err, c.want)
		}
	}
	route, err := s.VoiceRouteForDomain(ctx, d)
	if err != nil || route.VoiceURL != "https://acme.example/voice" || route.AccountSID != f.acct.SID {
		t.Errorf("VoiceRouteForDomain = %+v, %v", route, err)
	}
}

func TestStoreLookupsTrunksAndNumbers(t *testing.T) {
	h := newHarness(t, APIOptions{})
	s, ctx := h.store, context.Background()
	f := newLookupFixture(t, s)

	for addr, want := range map[string]string{"192.0.2.3": f.trunk.SID, "192.0.2.200": f.trunk2.SID} {
		tr, err := s.TrunkBySourceAddr(ctx, netip.MustParseAddr(addr))
		if err != nil || tr.SID != want {
			t.Errorf("TrunkBySourceAddr(%s) = %v, %v; want %s (narrowest range)", addr, tr, err, want)
		}
	}
	if _, err := s.TrunkBySourceAddr(ctx, netip.MustParseAddr("198.51.100.1")); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown source: %v", err)
	}
	tr, err := s.TrunkByDomainName(ctx, "PBX.example.com")
	if err != nil || tr.SID != f.trunk.SID {
		t.Fatalf("TrunkByDomainName: %v, %v", tr, err)
	}
	var order []string
	for _, o := range tr.OriginationURIs {
		order = append(order, o.SIPURL)
	}
	want := []string{"sip:c.example.net", "sip:a.example.net", "sip:b.example.net"}
	if !reflect.DeepEqual(order, want) {
		t.Errorf("origination order %v, want %v (priority, then weight)", order, want)
	}
	if !reflect.DeepEqual(tr.IPACLSIDs, []string{f.office.SID}) ||
		!reflect.DeepEqual(tr.CredentialListSIDs, []string{f.callsList.SID}) {
		t.Errorf("trunk lists %v %v", tr.IPACLSIDs, tr.CredentialListSIDs)
	}
	if c, err := s.TrunkCredential(ctx, f.trunk.SID, "alice"); err != nil || c.Username != "alice" {
		t.Errorf("TrunkCredential: %v, %v", c, err)
	}
	if _, err := s.TrunkCredential(ctx, f.trunk2.SID, "alice"); !errors.Is(err, ErrNotFound) {
		t.Errorf("credential of an unmapped trunk: %v", err)
	}
	if bySID, err := s.TrunkBySID(ctx, f.trunk.SID); err != nil || len(bySID.OriginationURIs) != 3 {
		t.Errorf("TrunkBySID: %v, %v", bySID, err)
	}
	all, err := s.AccountTrunks(ctx, f.acct.SID)
	if err != nil || len(all) != 2 || all[0].SID != f.trunk.SID || len(all[0].OriginationURIs) != 3 {
		t.Errorf("AccountTrunks: %d, %v", len(all), err)
	}

	n, err := s.NumberByPhone(ctx, "+14155550100")
	if err != nil {
		t.Fatal(err)
	}
	route, err := s.VoiceRouteForNumber(ctx, n)
	if err != nil || route.ApplicationSID != f.app.SID || route.VoiceMethod != "GET" ||
		!reflect.DeepEqual(route.StatusCallbackEvents, []string{"answered", "completed"}) {
		t.Errorf("route via application: %+v, %v", route, err)
	}
	own, _ := s.NumberByPhone(ctx, "+14155550101")
	route, err = s.VoiceRouteForNumber(ctx, own)
	if err != nil || route.ApplicationSID != "" || route.VoiceURL != "https://own/v" {
		t.Errorf("route via own URLs: %+v, %v", route, err)
	}
	if err := s.DeleteApplication(ctx, f.acct.SID, f.app.SID); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.NumberByPhone(ctx, "+14155550100"); n.VoiceApplicationSID != "" {
		t.Errorf("number keeps deleted application %s", n.VoiceApplicationSID)
	}
	if _, err := s.ApplicationBySID(ctx, f.acct.SID, f.app.SID); !errors.Is(err, ErrNotFound) {
		t.Errorf("deleted application: %v", err)
	}
}

func TestStoreDeletesCascade(t *testing.T) {
	h := newHarness(t, APIOptions{})
	s, ctx := h.store, context.Background()
	f := newLookupFixture(t, s)
	a := f.acct.SID

	if err := s.DeleteCredentialList(ctx, a, f.callsList.SID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DomainCredential(ctx, f.domain.SID, MappingCalls, "alice"); !errors.Is(err, ErrNotFound) {
		t.Errorf("credential of a deleted list still authorises: %v", err)
	}
	tr, _ := s.TrunkBySID(ctx, f.trunk.SID)
	if len(tr.CredentialListSIDs) != 0 {
		t.Errorf("trunk keeps deleted list %v", tr.CredentialListSIDs)
	}
	if err := s.DeleteIPACL(ctx, a, f.office.SID); err != nil {
		t.Fatal(err)
	}
	if ok, _ := s.DomainAllowsAddr(ctx, f.domain.SID, MappingCalls, netip.MustParseAddr("192.0.2.5")); ok {
		t.Error("address of a deleted list still allowed")
	}
	if tr, err := s.TrunkBySourceAddr(ctx, netip.MustParseAddr("192.0.2.3")); err != nil || tr.SID != f.trunk2.SID {
		t.Errorf("after deleting the narrow list: %v, %v", tr, err)
	}
	n0, _ := s.CreateIncomingNumber(ctx, &IncomingNumber{AccountSID: a,
		PhoneNumber: "+14155550177", TrunkSID: f.trunk.SID})
	if err := s.DeleteTrunk(ctx, a, f.trunk.SID); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.NumberByPhone(ctx, n0.PhoneNumber); got.TrunkSID != "" {
		t.Errorf("number keeps deleted trunk %s", got.TrunkSID)
	}
	var n int
	h.db.QueryRow(`SELECT count(*) FROM origination_urls WHERE trunk_sid = ?`, f.trunk.SID).Scan(&n)
	if n != 0 {
		t.Errorf("%d origination URIs outlive their trunk", n)
	}
}

func TestStoreDefaults(t *testing.T) {
	h := newHarness(t, APIOptions{})
	s, ctx := h.store, context.Background()
	a, _ := s.CreateAccount(ctx, "", "defaults")
	svc, err := s.ServiceSetting(ctx, a.SID, ServiceMediaRelay)
	if err != nil || !svc.Enabled || len(svc.Options) != 0 {
		t.Errorf("default service %+v, %v", svc, err)
	}
	if _, err := s.ServiceSetting(ctx, a.SID, "teleport"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown service: %v", err)
	}
	l, err := s.AccountLimits(ctx, a.SID)
	if err != nil || !reflect.DeepEqual(*l, Limits{AccountSID: a.SID}) {
		t.Errorf("default limits %+v, %v", l, err)
	}
	svc, err = s.SetService(ctx, a.SID, ServiceMediaRelay, func(v *Service) error {
		v.Options["media_mode"] = string(MediaPeerToPeer)

		return nil
	})
	if err != nil || svc.Options["media_mode"] != "peer_to_peer" {
		t.Fatalf("SetService: %+v, %v", svc, err)
	}
	got, _ := s.ServiceSetting(ctx, a.SID, ServiceMediaRelay)
	if got.Options["media_mode"] != "peer_to_peer" || !got.Enabled {
		t.Errorf("stored service %+v", got)
	}
}

func TestStoreAccountDepthAndPaging(t *testing.T) {
	h := newHarness(t, APIOptions{})
	s, ctx := h.store, context.Background()
	parent := ""
	for range maxAccountDepth {
		a, err := s.CreateAccount(ctx, parent, "")
		if err != nil {
			t.Fatal(err)
		}
		parent = a.SID
	}
	_, err := s.CreateAccount(ctx, parent, "")
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Field != "AccountSid" {
		t.Errorf("level %d: %v, want a FieldError", maxAccountDepth+1, err)
	}
	for _, p := range []Page{{Number: -3, Size: 0}, {Number: 0, Size: 5000}} {
		got, _, err := s.ListAccounts(ctx, "", p)
		if err != nil || len(got) != maxAccountDepth {
			t.Errorf("ListAccounts(%+v) = %d, %v", p, len(got), err)
		}
	}
}

func TestStoreCloseIsIdempotentAndReopenKeepsData(t *testing.T) {
	h := newHarness(t, APIOptions{})
	ctx := context.Background()
	a, err := h.store.CreateAccount(ctx, "", "kept")
	if err != nil {
		t.Fatal(err)
	}
	if err := h.store.Close(); err != nil {
		t.Fatal(err)
	}
	if err := h.store.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	again, err := NewStore(ctx, h.db) // migrations already applied: must be a no-op
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { again.Close() })
	got, err := again.AccountBySID(ctx, a.SID)
	if err != nil || got.FriendlyName != "kept" || got.AuthToken != a.AuthToken {
		t.Errorf("after reopening: %+v, %v", got, err)
	}
}
