package tenancy

import (
	"context"
	"errors"
)

type ipAddressView struct {
	baseView
	IPAccessControlListSID string `json:"ip_access_control_list_sid"`
	FriendlyName           string `json:"friendly_name"`
	IPAddress              string `json:"ip_address"`
	CIDRPrefixLength       int    `json:"cidr_prefix_length"`
}

// applyIPAddress copies IpAddress, CidrPrefixLength and FriendlyName into
// v. A new prefix length alone applies to the current address.
func applyIPAddress(f *form, v *IPAddress) error {
	f.text("FriendlyName", &v.FriendlyName)
	ip, hasIP := f.get("IpAddress")
	bits, hasBits := f.get("CidrPrefixLength")
	if f.err != nil || (!hasIP && !hasBits) {
		return f.err
	}
	field := "IpAddress"
	if !hasIP {
		ip, field = v.Prefix.Addr().String(), "CidrPrefixLength"
	}
	p, err := parsePrefix(ip, bits)
	if err != nil {
		if errors.Is(err, errNotPrefixLen) {
			field = "CidrPrefixLength"
		}

		return invalid(field, err.Error())
	}
	v.Prefix = p

	return nil
}

// mountIPACLs mounts IP access control lists and their addresses.
func (a *API) mountIPACLs() {
	s := a.store
	const lists = "/2010-04-01/Accounts/{AccountSid}/SIP/IpAccessControlLists"
	mount(a, namedListSpec(s, s.t.ipACLs, ipACLFields, lists, "ip_access_control_lists",
		prefixIPACL, "ip_addresses", "IpAddresses").resource())
	mount(a, resource[IPAddress]{
		base:    lists + "/{ParentSid}/IpAddresses",
		listKey: "ip_addresses",
		create: func(ctx context.Context, sc scope, f *form) (*IPAddress, error) {
			v := &IPAddress{AccountSID: sc.acct.SID, IPACLSID: sc.parent}
			f.require("IpAddress")
			if err := applyIPAddress(f, v); err != nil {
				return nil, err
			}
			if v.FriendlyName == "" {
				v.FriendlyName = v.Prefix.String()
			}

			return s.CreateIPAddress(ctx, v)
		},
		fetch: func(ctx context.Context, sc scope, sid string) (*IPAddress, error) {
			return s.IPAddress(ctx, sc.acct.SID, sc.parent, sid)
		},
		update: func(ctx context.Context, sc scope, sid string, f *form) (*IPAddress, error) {
			return s.UpdateIPAddress(ctx, sc.acct.SID, sc.parent, sid, func(v *IPAddress) error {
				return applyIPAddress(f, v)
			})
		},
		remove: func(ctx context.Context, sc scope, sid string) error {
			return s.DeleteIPAddress(ctx, sc.acct.SID, sc.parent, sid)
		},
		list: func(ctx context.Context, sc scope, p Page) ([]*IPAddress, bool, error) {
			return s.ListIPAddresses(ctx, sc.acct.SID, sc.parent, p)
		},
		view: func(_ scope, uri string, v *IPAddress) any {
			return ipAddressView{baseView: newBase(v.SID, v.AccountSID, v.Created, v.Updated, uri),
				IPAccessControlListSID: v.IPACLSID, FriendlyName: v.FriendlyName,
				IPAddress: v.Prefix.Addr().String(), CIDRPrefixLength: v.Prefix.Bits()}
		},
		sidOf: func(v *IPAddress) string { return v.SID },
	})
}
