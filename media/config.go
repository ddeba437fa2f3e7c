package media

import (
	"fmt"
	"log/slog"
	"net/netip"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Config configures an Engine. The zero value is usable in tests: it
// binds to 127.0.0.1 and takes ports from the default range.
type Config struct {
	// PortMin and PortMax bound the UDP ports the engine allocates,
	// inclusive (default 30000 and 39999). Each relayed stream side takes
	// an even RTP port and the odd port above it for RTCP, so the range
	// must hold at least one such pair.
	PortMin int
	PortMax int

	// BindAddr is the local address media sockets bind to (default
	// 127.0.0.1). The unspecified address binds every interface.
	BindAddr netip.Addr

	// PublicAddr is written into c= and o= lines of rewritten SDP
	// (default BindAddr, or 127.0.0.1 when BindAddr is unspecified).
	// Its family (IP4 or IP6) must match what BindAddr can reach.
	PublicAddr netip.Addr

	// MediaTimeout ends a session with ErrMediaTimeout when no RTP
	// arrived from any leg for this long while no leg is on hold
	// (default 30s; negative disables the timeout).
	MediaTimeout time.Duration

	// Quarantine is how long a released port pair stays out of the pool
	// so late packets of one call never reach the next (default 2s;
	// negative turns quarantine off, so conf's "0" maps to -1).
	Quarantine time.Duration

	// CryptoSuites lists the SDES suites offered, in preference order,
	// when Patchbay offers SRTP to a leg (default
	// AES_CM_128_HMAC_SHA1_80 then AES_CM_128_HMAC_SHA1_32). Every
	// suite of SupportedCryptoSuites is accepted from a peer.
	CryptoSuites []string

	// RecordDir holds recordings in progress as spool files, removed
	// when the recording stops (default os.TempDir()).
	RecordDir string

	// Logger receives lifecycle logs, never per-packet ones and never
	// key material (default slog.Default()).
	Logger *slog.Logger

	// Registerer receives the engine's Prometheus collector (nil: no
	// metrics are registered).
	Registerer prometheus.Registerer
}

// Defaults used when the corresponding Config field is zero.
const (
	DefaultPortMin      = 30000
	DefaultPortMax      = 39999
	DefaultMediaTimeout = 30 * time.Second
	DefaultQuarantine   = 2 * time.Second
)

// withDefaults returns a copy of c with zero fields defaulted, or an
// error wrapping ErrBadConfig naming every bad field.
func (c Config) withDefaults() (Config, error) {
	if c.PortMin == 0 && c.PortMax == 0 {
		c.PortMin, c.PortMax = DefaultPortMin, DefaultPortMax
	}
	if !c.BindAddr.IsValid() {
		c.BindAddr = netip.AddrFrom4([4]byte{127, 0, 0, 1})
	}
	if !c.PublicAddr.IsValid() {
		c.PublicAddr = c.BindAddr
		if c.BindAddr.IsUnspecified() {
			c.PublicAddr = netip.AddrFrom4([4]byte{127, 0, 0, 1})
		}
	}
	if c.MediaTimeout == 0 {
		c.MediaTimeout = DefaultMediaTimeout
	}
	if c.Quarantine == 0 {
		c.Quarantine = DefaultQuarantine
	}
	if len(c.CryptoSuites) == 0 {
		c.CryptoSuites = []string{SuiteAES128SHA1_80, SuiteAES128SHA1_32}
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}

	return c, c.validate()
}

func (c Config) validate() error {
	switch {
	case c.PortMin < 1 || c.PortMax > 65535 || c.PortMin > c.PortMax:
		return fmt.Errorf("%w: port_min %d and port_max %d must satisfy 1 <= min <= max <= 65535",
			ErrBadConfig, c.PortMin, c.PortMax)
	case firstEven(c.PortMin)+1 > c.PortMax:
		return fmt.Errorf("%w: port range %d-%d holds no even/odd pair",
			ErrBadConfig, c.PortMin, c.PortMax)
	case c.PublicAddr.IsUnspecified():
		return fmt.Errorf("%w: public_addr must not be unspecified", ErrBadConfig)
	}
	for _, s := range c.CryptoSuites {
		if _, ok := lookupSuite(s); !ok {
			return fmt.Errorf("%w: crypto_suites: unsupported suite %q", ErrBadConfig, s)
		}
	}

	return nil
}

func firstEven(p int) int {
	if p%2 != 0 {
		return p + 1
	}

	return p
}
