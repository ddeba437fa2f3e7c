package tenancy

import "context"

// mountLink mounts a collection of lists associated with an owner (a
// domain's mappings, a trunk's lists). The items are the lists themselves,
// dated by their association; their SIDs identify the associations.
func mountLink[T any](a *API, base, listKey string, l *link[T], kind MappingKind,
	fields func(*T) listFields) {
	s := a.store
	mount(a, resource[linked[T]]{
		base:    base,
		listKey: listKey,
		create: func(ctx context.Context, sc scope, f *form) (*linked[T], error) {
			f.require(l.field)
			if f.err != nil {
				return nil, f.err
			}
			sid, _ := f.get(l.field)

			return l.add(ctx, s, sc.acct.SID, sc.parent, kind, sid)
		},
		fetch: func(ctx context.Context, sc scope, sid string) (*linked[T], error) {
			return l.get(ctx, s, sc.acct.SID, sc.parent, kind, sid)
		},
		remove: func(ctx context.Context, sc scope, sid string) error {
			return l.remove(ctx, s, sc.acct.SID, sc.parent, kind, sid)
		},
		list: func(ctx context.Context, sc scope, p Page) ([]*linked[T], bool, error) {
			return l.list(ctx, s, sc.acct.SID, sc.parent, kind, p)
		},
		view: func(sc scope, uri string, v *linked[T]) any {
			lv := viewList(fields(v.item), uri, nil)
			lv.DateCreated = FormatTime(v.created)
			lv.DateUpdated = lv.DateCreated
			if l.ownerTable == "trunks" {
				lv.TrunkSID = sc.parent
			} else {
				lv.DomainSID = sc.parent
			}

			return lv
		},
		sidOf: func(v *linked[T]) string { return *fields(v.item).sid },
	})
}

// viewList is the JSON form of a named list; sub names its subresources.
func viewList(f listFields, uri string, sub map[string]string) listView {
	return listView{baseView: newBase(*f.sid, *f.account, *f.created, *f.updated, uri),
		FriendlyName: *f.name, SubresourceURIs: sub}
}

// mountMappings mounts a domain's credential list and IP access control
// list mappings. The plain mappings and the Auth/Calls ones are the same
// set (they authorise calls); Auth/Registrations authorises registrations.
func (a *API) mountMappings() {
	const domain = "/2010-04-01/Accounts/{AccountSid}/SIP/Domains/{ParentSid}"
	t := a.store.t
	mountLink(a, domain+"/CredentialListMappings", "credential_list_mappings",
		t.domainCreds, MappingCalls, credentialListFields)
	mountLink(a, domain+"/IpAccessControlListMappings", "ip_access_control_list_mappings",
		t.domainACLs, MappingCalls, ipACLFields)
	mountLink(a, domain+"/Auth/Calls/CredentialListMappings", "contents",
		t.domainCreds, MappingCalls, credentialListFields)
	mountLink(a, domain+"/Auth/Calls/IpAccessControlListMappings", "contents",
		t.domainACLs, MappingCalls, ipACLFields)
	mountLink(a, domain+"/Auth/Registrations/CredentialListMappings", "contents",
		t.domainCreds, MappingRegistrations, credentialListFields)
}
