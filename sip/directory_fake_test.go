package sip

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"sync"

	"github.com/patchbay/patchbay/sip/digest"
	"github.com/patchbay/patchbay/tenancy"
)

// fakeDirectory is an in-memory Directory for tests. The real
// *tenancy.Store satisfies the same interface against SQLite.
type fakeDirectory struct {
	mu       sync.Mutex
	accounts map[string]*tenancy.Account
	domains  map[string]*tenancy.Domain         // by lower-case name
	services map[string]bool                    // accountSID/service -> enabled
	limits   map[string]*tenancy.Limits         // by account
	creds    map[string]*tenancy.Credential     // domainSID/kind/user
	acls     map[string][]netip.Prefix          // domainSID/kind
	trunks   []*tenancy.Trunk                   // with acls in trunkACLs
	trunkACL map[string][]netip.Prefix          // trunk SID
	tcreds   map[string]*tenancy.Credential     // trunkSID/user
	numbers  map[string]*tenancy.IncomingNumber // by E.164
	routes   map[string]*tenancy.VoiceRoute     // by number SID
	calls    int                                // lookups served
}

// The real store and the fake both satisfy Directory.
var (
	_ Directory = (*fakeDirectory)(nil)
	_ Directory = (*tenancy.Store)(nil)
)

func newFakeDirectory() *fakeDirectory {
	return &fakeDirectory{
		accounts: map[string]*tenancy.Account{}, domains: map[string]*tenancy.Domain{},
		services: map[string]bool{}, limits: map[string]*tenancy.Limits{},
		creds: map[string]*tenancy.Credential{}, acls: map[string][]netip.Prefix{},
		trunkACL: map[string][]netip.Prefix{}, tcreds: map[string]*tenancy.Credential{},
		numbers: map[string]*tenancy.IncomingNumber{}, routes: map[string]*tenancy.VoiceRoute{},
	}
}

func notFound(what string) error { return fmt.Errorf("fake %s: %w", what, tenancy.ErrNotFound) }

func (f *fakeDirectory) addAccount(sid, parent string, st tenancy.AccountStatus) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.accounts[sid] = &tenancy.Account{SID: sid, ParentSID: parent, Status: st}
}

func (f *fakeDirectory) setStatus(sid string, st tenancy.AccountStatus) {
	f.mu.Lock()
	defer f.mu.Unlock()
	a := *f.accounts[sid]
	a.Status = st
	f.accounts[sid] = &a
}

func (f *fakeDirectory) setService(sid string, name tenancy.ServiceName, on bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.services[sid+"/"+string(name)] = on
}

func (f *fakeDirectory) setLimit(sid string, regs int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.limits[sid] = &tenancy.Limits{AccountSID: sid, Registrations: regs}
}

func (f *fakeDirectory) addDomain(d tenancy.Domain) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.domains[strings.ToLower(d.DomainName)] = &d
}

// addUser adds a credential to domainSID for both mapping kinds.
func (f *fakeDirectory) addUser(domainSID, account, user, password string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	md5, _ := digest.HA1(digest.MD5, user, tenancy.Realm, password)
	sha, _ := digest.HA1(digest.SHA256, user, tenancy.Realm, password)
	c := &tenancy.Credential{AccountSID: account, Username: user, HA1MD5: md5, HA1SHA256: sha}
	for _, k := range []tenancy.MappingKind{tenancy.MappingCalls, tenancy.MappingRegistrations} {
		f.creds[domainSID+"/"+string(k)+"/"+user] = c
	}
}

func (f *fakeDirectory) allowDomain(domainSID string, p netip.Prefix) {
	f.mu.Lock()
	defer f.mu.Unlock()
	k := domainSID + "/" + string(tenancy.MappingCalls)
	f.acls[k] = append(f.acls[k], p)
}

func (f *fakeDirectory) addTrunk(t tenancy.Trunk, acl ...netip.Prefix) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.trunks = append(f.trunks, &t)
	f.trunkACL[t.SID] = acl
}

// addTrunkUser adds a credential to a trunk's credential lists.
func (f *fakeDirectory) addTrunkUser(trunkSID, account, user, password string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	md5, _ := digest.HA1(digest.MD5, user, tenancy.Realm, password)
	sha, _ := digest.HA1(digest.SHA256, user, tenancy.Realm, password)
	f.tcreds[trunkSID+"/"+user] = &tenancy.Credential{AccountSID: account, Username: user,
		HA1MD5: md5, HA1SHA256: sha}
}

func (f *fakeDirectory) addNumber(n tenancy.IncomingNumber, voiceURL string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.numbers[n.PhoneNumber] = &n
	f.routes[n.SID] = &tenancy.VoiceRoute{AccountSID: n.AccountSID, VoiceURL: voiceURL}
}

func (f *fakeDirectory) AccountBySID(_ context.Context, sid string) (*tenancy.Account, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if a, ok := f.accounts[sid]; ok {
		c := *a
		return &c, nil
	}
	return nil, notFound("account")
}

func (f *fakeDirectory) DomainByName(_ context.Context, name string) (*tenancy.Domain, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if d, ok := f.domains[strings.ToLower(name)]; ok {
		c := *d
		return &c, nil
	}
	return nil, notFound("domain")
}

func (f *fakeDirectory) ServiceSetting(_ context.Context, sid string,
	name tenancy.ServiceName) (*tenancy.Service, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	on, ok := f.services[sid+"/"+string(name)]
	return &tenancy.Service{AccountSID: sid, Name: name, Enabled: on || !ok}, nil
}

func (f *fakeDirectory) AccountLimits(_ context.Context, sid string) (*tenancy.Limits, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if l, ok := f.limits[sid]; ok {
		c := *l
		return &c, nil
	}
	return &tenancy.Limits{AccountSID: sid}, nil
}

func (f *fakeDirectory) DomainCredential(_ context.Context, domainSID string,
	kind tenancy.MappingKind, user string) (*tenancy.Credential, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if c, ok := f.creds[domainSID+"/"+string(kind)+"/"+user]; ok {
		return c, nil
	}
	return nil, notFound("credential")
}

func (f *fakeDirectory) DomainAllowsAddr(_ context.Context, domainSID string,
	kind tenancy.MappingKind, addr netip.Addr) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, p := range f.acls[domainSID+"/"+string(kind)] {
		if p.Contains(addr) {
			return true, nil
		}
	}
	return false, nil
}

func (f *fakeDirectory) TrunkBySourceAddr(_ context.Context, addr netip.Addr) (
	*tenancy.Trunk, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, t := range f.trunks {
		for _, p := range f.trunkACL[t.SID] {
			if p.Contains(addr) {
				return t, nil
			}
		}
	}
	return nil, notFound("trunk")
}

func (f *fakeDirectory) TrunkByDomainName(_ context.Context, name string) (*tenancy.Trunk, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, t := range f.trunks {
		if t.DomainName != "" && strings.EqualFold(t.DomainName, name) {
			return t, nil
		}
	}
	return nil, notFound("trunk")
}

func (f *fakeDirectory) TrunkCredential(_ context.Context, trunkSID, user string) (
	*tenancy.Credential, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if c, ok := f.tcreds[trunkSID+"/"+user]; ok {
		return c, nil
	}
	return nil, notFound("trunk credential")
}

func (f *fakeDirectory) NumberByPhone(_ context.Context, e164 string) (
	*tenancy.IncomingNumber, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if n, ok := f.numbers[e164]; ok {
		return n, nil
	}
	return nil, notFound("number")
}

func (f *fakeDirectory) VoiceRouteForNumber(_ context.Context, n *tenancy.IncomingNumber) (
	*tenancy.VoiceRoute, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r, ok := f.routes[n.SID]; ok {
		return r, nil
	}
	return nil, notFound("route")
}

func (f *fakeDirectory) VoiceRouteForDomain(_ context.Context, d *tenancy.Domain) (
	*tenancy.VoiceRoute, error) {
	return &tenancy.VoiceRoute{AccountSID: d.AccountSID, VoiceURL: d.VoiceURL,
		VoiceMethod: d.VoiceMethod}, nil
}
