package sip

import (
	"context"
	"net/netip"

	"github.com/patchbay/patchbay/tenancy"
)

// Directory is the read-only view of the tenancy store the edge needs. The
// lookups are platform-wide (not scoped to an API caller) and sit on the
// per-request path; *tenancy.Store implements them. Every "not found" is
// tenancy.ErrNotFound, possibly wrapped. Implementations must be safe for
// concurrent use.
type Directory interface {
	AccountBySID(ctx context.Context, sid string) (*tenancy.Account, error)
	// DomainByName matches name case-insensitively.
	DomainByName(ctx context.Context, name string) (*tenancy.Domain, error)
	// ServiceSetting returns Enabled=true when no row is stored.
	ServiceSetting(ctx context.Context, accountSID string,
		name tenancy.ServiceName) (*tenancy.Service, error)
	// AccountLimits returns zero (unlimited) Limits when none are stored.
	AccountLimits(ctx context.Context, accountSID string) (*tenancy.Limits, error)
	DomainCredential(ctx context.Context, domainSID string, kind tenancy.MappingKind,
		username string) (*tenancy.Credential, error)
	DomainAllowsAddr(ctx context.Context, domainSID string, kind tenancy.MappingKind,
		addr netip.Addr) (bool, error)
	TrunkBySourceAddr(ctx context.Context, addr netip.Addr) (*tenancy.Trunk, error)
	TrunkByDomainName(ctx context.Context, name string) (*tenancy.Trunk, error)
	TrunkCredential(ctx context.Context, trunkSID, username string) (*tenancy.Credential, error)
	NumberByPhone(ctx context.Context, e164 string) (*tenancy.IncomingNumber, error)
	VoiceRouteForNumber(ctx context.Context, n *tenancy.IncomingNumber) (*tenancy.VoiceRoute, error)
	VoiceRouteForDomain(ctx context.Context, d *tenancy.Domain) (*tenancy.VoiceRoute, error)
}
