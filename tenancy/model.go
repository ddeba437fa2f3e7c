package tenancy

import (
	"net/netip"
	"time"
)

// AccountStatus is the lifecycle state of an account. Only an active account
// receives any service; suspended and closed accounts are refused everywhere.
type AccountStatus string

// The account states, spelled as the CPaaS API spells them.
const (
	StatusActive    AccountStatus = "active"
	StatusSuspended AccountStatus = "suspended"
	StatusClosed    AccountStatus = "closed"
)

// Account is a tenant. Every other resource belongs to exactly one account.
type Account struct {
	SID          string // "AC" + 32 hex
	ParentSID    string // empty for a top-level account
	FriendlyName string
	AuthToken    string        // 32 hex; shown only to the account, its parent and the operator
	Status       AccountStatus // as set on this account
	// EffectiveStatus is the most restrictive status along the parent
	// chain (closed over suspended over active): closing or suspending a
	// parent denies service to its sub-accounts. The store fills it on
	// every account it returns.
	EffectiveStatus AccountStatus
	Created         time.Time
	Updated         time.Time
}

// Active reports whether the account may use any service: its effective
// status is active. An Account not read from the store (EffectiveStatus
// empty) falls back to its own Status.
func (a *Account) Active() bool {
	if a.EffectiveStatus != "" {
		return a.EffectiveStatus == StatusActive
	}

	return a.Status == StatusActive
}

// ServiceName names one independently configured and metered service.
type ServiceName string

// The platform's services.
const (
	ServiceRegistrar  ServiceName = "registrar"
	ServiceCalls      ServiceName = "calls"
	ServiceMediaRelay ServiceName = "media_relay"
	ServiceSRTP       ServiceName = "srtp"
	ServiceRecording  ServiceName = "recording"
	ServiceTrunking   ServiceName = "trunking"
	ServiceWebhooks   ServiceName = "webhooks"
)

// ServiceNames lists every service in a stable order.
var ServiceNames = []ServiceName{
	ServiceRegistrar, ServiceCalls, ServiceMediaRelay, ServiceSRTP,
	ServiceRecording, ServiceTrunking, ServiceWebhooks,
}

// MediaMode says whether a call's media is anchored on Patchbay or flows
// between the endpoints. It is the "media_mode" option of the media_relay
// service; a call may override it.
type MediaMode string

// The media modes.
const (
	MediaRelayed    MediaMode = "relayed"
	MediaPeerToPeer MediaMode = "peer_to_peer"
)

// Service is one account's setting of one service. A service with no stored
// row is enabled with empty options.
type Service struct {
	AccountSID   string
	Name         ServiceName
	Enabled      bool
	Options      map[string]string // service-specific, e.g. "media_mode" for media_relay
	PricePlanSID string            // empty: inherited from the parent account
	Updated      time.Time
}

// Limits caps an account's use of the platform. Zero means unlimited.
type Limits struct {
	AccountSID           string
	ConcurrentCalls      int
	CallsPerSecond       int
	Registrations        int
	MonthlySpendCapMicro int64    // integer micro-units of the price plan's currency
	AllowedPrefixes      []string // E.164 prefixes outbound calls may reach; empty allows all
	Updated              time.Time
}

// Application is a tenant's call logic, reached over HTTP.
type Application struct {
	SID                  string // "AP" + 32 hex
	AccountSID           string
	FriendlyName         string
	VoiceURL             string
	VoiceMethod          string // GET or POST (POST)
	VoiceFallbackURL     string
	VoiceFallbackMethod  string
	StatusCallback       string
	StatusCallbackMethod string
	StatusCallbackEvents []string // initiated, ringing, answered, completed (completed)
	// WebhookConnectTimeout and WebhookTimeout bound connecting to the
	// application and its whole answer; 0 keeps the account's webhooks
	// service setting, else Patchbay's default.
	WebhookConnectTimeout time.Duration
	WebhookTimeout        time.Duration
	Created               time.Time
	Updated               time.Time
}

// VoiceRoute is the application logic an endpoint leads to: either an
// application's or the endpoint's own URLs.
type VoiceRoute struct {
	AccountSID           string
	ApplicationSID       string // empty when the endpoint carries its own URLs
	VoiceURL             string
	VoiceMethod          string
	VoiceFallbackURL     string
	VoiceFallbackMethod  string
	StatusCallback       string
	StatusCallbackMethod string
	StatusCallbackEvents []string
	// The application's webhook timeouts (0: not set), see Application.
	WebhookConnectTimeout time.Duration
	WebhookTimeout        time.Duration
}

// IncomingNumber is an E.164 phone number owned by an account.
type IncomingNumber struct {
	SID                  string // "PN" + 32 hex
	AccountSID           string
	PhoneNumber          string // E.164, e.g. +14155550100
	FriendlyName         string
	VoiceApplicationSID  string // when set, the application's URLs win
	VoiceURL             string
	VoiceMethod          string
	VoiceFallbackURL     string
	VoiceFallbackMethod  string
	StatusCallback       string
	StatusCallbackMethod string
	TrunkSID             string // when set, calls to the number go to the trunk
	Created              time.Time
	Updated              time.Time
}

// Domain is a SIP domain of an account. Its name is unique on the platform.
type Domain struct {
	SID                       string // "SD" + 32 hex
	AccountSID                string
	DomainName                string // e.g. acme.sip.example.com
	FriendlyName              string
	VoiceURL                  string // empty: calls between users are proxied
	VoiceMethod               string
	VoiceFallbackURL          string
	VoiceFallbackMethod       string
	VoiceStatusCallback       string
	VoiceStatusCallbackMethod string
	SIPRegistration           bool // devices may register
	Secure                    bool // TLS signalling and SRTP required
	Created                   time.Time
	Updated                   time.Time
}

// CredentialList groups SIP credentials of one account.
type CredentialList struct {
	SID          string // "CL" + 32 hex
	AccountSID   string
	FriendlyName string
	Created      time.Time
	Updated      time.Time
}

// Credential is one SIP user. The password is kept only as the digest HA1
// values (RFC 7616 section 3.4.2) computed for the platform-wide Realm, so
// that one credential list can serve every domain and trunk it is mapped to;
// it is never stored in plain text and never returned.
type Credential struct {
	SID               string // "CR" + 32 hex
	AccountSID        string
	CredentialListSID string
	Username          string
	HA1MD5            string // hex MD5(username:Realm:password)
	HA1SHA256         string // hex SHA-256(username:Realm:password)
	Created           time.Time
	Updated           time.Time
}

// IPAccessControlList groups IP addresses of one account.
type IPAccessControlList struct {
	SID          string // "AL" + 32 hex
	AccountSID   string
	FriendlyName string
	Created      time.Time
	Updated      time.Time
}

// IPAddress is an address or CIDR range of an IP access control list.
type IPAddress struct {
	SID          string // "IP" + 32 hex
	AccountSID   string
	IPACLSID     string
	FriendlyName string
	Prefix       netip.Prefix // a single address is a /32 or /128
	Created      time.Time
	Updated      time.Time
}

// MappingKind says what a domain mapping authorises.
type MappingKind string

// Mapping kinds: the plain CredentialListMappings and
// IpAccessControlListMappings of a domain apply to calls; the Auth/Calls and
// Auth/Registrations variants apply to just what they name.
const (
	MappingCalls         MappingKind = "calls"
	MappingRegistrations MappingKind = "registrations"
)

// Trunk connects an account to a carrier or PBX.
//
// Termination (calls the carrier sends into Patchbay) is authorised by the
// trunk's IP access control lists or credential lists. Origination (calls
// Patchbay sends out to the carrier) goes to the origination URIs in priority
// order (lowest first), weighted at equal priority; AuthUsername and
// AuthPassword answer the carrier's digest challenge.
type Trunk struct {
	SID                string // "TK" + 32 hex
	AccountSID         string
	FriendlyName       string
	DomainName         string // optional termination domain, unique like SIP domains
	Secure             bool
	IPACLSIDs          []string
	CredentialListSIDs []string
	AuthUsername       string
	AuthPassword       string // kept to answer challenges; never returned by the API
	OriginationURIs    []OriginationURI
	Created            time.Time
	Updated            time.Time
}

// OriginationURI is one target of a trunk's outbound calls.
type OriginationURI struct {
	SID          string // "OU" + 32 hex
	AccountSID   string
	TrunkSID     string
	FriendlyName string
	SIPURL       string // sip: or sips: URI
	Priority     int    // lower is tried first (10)
	Weight       int    // share among equal priorities (10)
	Enabled      bool
	Created      time.Time
	Updated      time.Time
}

// NotificationLevel is how serious a Notification is, numbered as the CPaaS
// API numbers its "log" field.
type NotificationLevel int

// The notification levels.
const (
	LevelError   NotificationLevel = 0
	LevelWarning NotificationLevel = 1
)

// Notification tells an account of something that went wrong for it: an
// application that could not be fetched or parsed, a limit or cap that
// refused calls. The platform records them; the account lists and deletes
// them through the API.
type Notification struct {
	SID        string // "NO" + 32 hex
	AccountSID string
	CallSID    string // empty when no call is concerned
	ErrorCode  int    // CPaaS-style code (11200, 13510, ...) or Patchbay's own
	Level      NotificationLevel
	Message    string
	RequestURL string // the tenant URL concerned, if any
	Created    time.Time
	Updated    time.Time
}

// Realm is the digest realm Patchbay challenges with. HA1 values are stored
// for this realm, so one credential works for every domain it is mapped to.
const Realm = "patchbay"
