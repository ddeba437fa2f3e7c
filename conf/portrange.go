package conf

import (
	"errors"
	"strconv"
	"strings"
)

// Port range limits: below 1024 are privileged ports, and an RTP port is
// even with RTCP on the next odd one (RFC 3550 section 11), so the highest
// usable RTP port is 65534.
const (
	minMediaPort = 1024
	maxMediaPort = 65534
)

// PortRange is an inclusive range of UDP ports, written "min-max". A call
// leg takes an even port p for RTP and p+1 for RTCP, both within the range.
// Parsing checks only the syntax; Config.Validate checks the bounds, so that
// every problem is reported together.
type PortRange struct {
	Min int // first port (10000)
	Max int // last port (20000)
}

// ParsePortRange parses "min-max", two decimal port numbers.
func ParsePortRange(s string) (PortRange, error) {
	lo, hi, ok := strings.Cut(strings.TrimSpace(s), "-")
	if !ok {
		return PortRange{}, errors.New(`not a range such as "10000-20000"`)
	}
	min, err := parsePort(lo)
	if err != nil {
		return PortRange{}, errors.New("start: " + err.Error())
	}
	max, err := parsePort(hi)
	if err != nil {
		return PortRange{}, errors.New("end: " + err.Error())
	}

	return PortRange{Min: min, Max: max}, nil
}

func parsePort(s string) (int, error) {
	s = strings.TrimSpace(s)
	n, err := strconv.Atoi(s)
	if err != nil || s == "" || s[0] == '+' || s[0] == '-' {
		return 0, errors.New("not a port number")
	}
	if n > 65535 {
		return 0, errors.New("above 65535")
	}

	return n, nil
}

// String returns the range as "min-max".
func (r PortRange) String() string {
	return strconv.Itoa(r.Min) + "-" + strconv.Itoa(r.Max)
}

// Pairs is the number of RTP/RTCP port pairs (p, p+1), p even, that fit
// in the range; for a valid range that is (Max-Min)/2.
func (r PortRange) Pairs() int {
	first := r.Min + r.Min%2
	if r.Max <= first {
		return 0
	}

	return (r.Max - first + 1) / 2
}

// MarshalText encodes the range as "min-max".
func (r PortRange) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// UnmarshalText parses "min-max" into r.
func (r *PortRange) UnmarshalText(b []byte) error {
	pr, err := ParsePortRange(string(b))
	if err != nil {
		return err
	}
	*r = pr

	return nil
}

// check returns why the range is unusable for media, or "".
func (r PortRange) check() string {
	switch {
	case r.Min < minMediaPort || r.Max > maxMediaPort:
		return "ports must be within 1024-65534"
	case r.Min%2 != 0 || r.Max%2 != 0:
		return "start and end must be even (RTP even, RTCP odd)"
	case r.Min >= r.Max:
		return "start must be below end"
	}

	return ""
}
