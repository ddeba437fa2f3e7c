package conf

import (
	"net/netip"
	"os"
	"time"
)

// Default values in one place; the field comments of Config repeat them.
const (
	DefaultDataDir       = "./data"
	DefaultSIPListen     = "0.0.0.0:5060"
	DefaultAPIListen     = "127.0.0.1:8080"
	DefaultMediaPorts    = "10000-20000"
	DefaultNodeID        = "patchbay" // when the host name is unknown
	defaultFallbackAddr  = "127.0.0.1"
	defaultMaxMessage    = 65535
	defaultMaxBody       = 65536
	defaultMaxResponse   = 1 << 20
	defaultMaxRedirects  = 3
	defaultRetryMax      = 10
	defaultOverloadCode  = 503
	defaultMinExpires    = 60 * time.Second
	defaultMaxExpires    = 3600 * time.Second
	defaultNonceTTL      = 30 * time.Second
	defaultMediaTimeout  = 30 * time.Second
	defaultQuarantine    = 2 * time.Second
	defaultConnTimeout   = 5 * time.Second
	defaultHookTimeout   = 15 * time.Second
	defaultDrainTimeout  = 30 * time.Second
	defaultHeartbeat     = 5 * time.Second
	defaultLogLevel      = "info"
	defaultLogFormat     = "text"
	defaultMediaPortsMin = 10000
	defaultMediaPortsMax = 20000
	defaultRingTimeout   = 180 * time.Second
	defaultTrunkTimeout  = 4 * time.Second
	defaultCacheTTL      = 2 * time.Second
	defaultGuardRate     = 50
	defaultGuardBurst    = 200
	defaultAuthFailures  = 10
	defaultAuthWindow    = 60 * time.Second
	defaultBanDuration   = 60 * time.Second
	defaultMaxSources    = 100000
)

// Default returns the built-in settings that `patchbay serve` runs on with
// no file and no environment; they pass Validate. The addresses derived
// from SIP.Listen (PublicAddr, Media.BindAddr, Media.PublicAddr) are filled
// in, so changing SIP.Listen afterwards does not change them. NodeID is the
// host name, or DefaultNodeID.
func Default() *Config {
	c := defaults()
	c.derive()

	return c
}

// defaults returns the built-in settings before derivation, the base that
// Parse lays the file and the environment over.
func defaults() *Config {
	return &Config{
		DataDir: DefaultDataDir,
		Log:     Log{Level: defaultLogLevel, Format: defaultLogFormat},
		SIP: SIP{
			Listen:                 DefaultSIPListen,
			MaxMessageBytes:        defaultMaxMessage,
			RegistrationMinExpires: defaultMinExpires,
			RegistrationMaxExpires: defaultMaxExpires,
			NonceTTL:               defaultNonceTTL,
			RingTimeout:            defaultRingTimeout,
			TrunkTimeout:           defaultTrunkTimeout,
			CacheTTL:               defaultCacheTTL,
			DigestAlgorithms:       []string{"SHA-256", "MD5"},
			Guard: SIPGuard{
				RequestsPerSecond: defaultGuardRate,
				Burst:             defaultGuardBurst,
				AuthFailures:      defaultAuthFailures,
				AuthWindow:        defaultAuthWindow,
				BanDuration:       defaultBanDuration,
				MaxSources:        defaultMaxSources,
			},
		},
		API: API{Listen: DefaultAPIListen, MaxBodyBytes: defaultMaxBody},
		Media: Media{
			Ports:      PortRange{Min: defaultMediaPortsMin, Max: defaultMediaPortsMax},
			Timeout:    defaultMediaTimeout,
			Quarantine: defaultQuarantine,
		},
		Webhooks: Webhooks{
			ConnectTimeout:   defaultConnTimeout,
			Timeout:          defaultHookTimeout,
			MaxRedirects:     defaultMaxRedirects,
			MaxResponseBytes: defaultMaxResponse,
			RetryMax:         defaultRetryMax,
			DenyNetworks: []netip.Prefix{
				netip.MustParsePrefix("169.254.0.0/16"), netip.MustParsePrefix("fe80::/10"),
			},
		},
		Calls:      Calls{DrainTimeout: defaultDrainTimeout, OverloadStatus: defaultOverloadCode},
		Accounting: Accounting{Heartbeat: defaultHeartbeat, NodeID: hostNodeID()},
	}
}

// hostNodeID is the host name when it is a valid node ID, else DefaultNodeID.
func hostNodeID() string {
	name, err := os.Hostname()
	if err != nil || checkNodeID(name) != "" {
		return DefaultNodeID
	}

	return name
}
