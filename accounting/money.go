package accounting

import (
	"fmt"
	"strconv"
	"strings"
)

// MicroPerUnit is the number of micro-units in one unit of a currency.
const MicroPerUnit = 1_000_000

// ParseMicro parses a decimal amount such as "12", "-0.0075" or "+3.5" into
// micro-units, exactly. It accepts an optional sign, at least one digit
// before or after an optional point, at most six decimals and no exponent,
// spaces or grouping; anything else is an error wrapping ErrMoneySyntax,
// ErrMoneyPrecision or ErrMoneyRange.
func ParseMicro(s string) (int64, error) {
	body := s
	neg := false
	if body != "" && (body[0] == '-' || body[0] == '+') {
		neg = body[0] == '-'
		body = body[1:]
	}
	whole, frac, _ := strings.Cut(body, ".")
	if (whole == "" && frac == "") || !allDigits(whole) || !allDigits(frac) {
		return 0, fmt.Errorf("%w: %q", ErrMoneySyntax, s)
	}
	frac = strings.TrimRight(frac, "0")
	if len(frac) > 6 {
		return 0, fmt.Errorf("%w: %q", ErrMoneyPrecision, s)
	}
	frac += strings.Repeat("0", 6-len(frac))

	var units uint64
	if whole != "" {
		u, err := strconv.ParseUint(whole, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%w: %q", ErrMoneyRange, s)
		}
		units = u
	}
	micro, _ := strconv.ParseUint(frac, 10, 64)
	const limit = uint64(1<<63 - 1)
	if units > limit/MicroPerUnit+1 {
		return 0, fmt.Errorf("%w: %q", ErrMoneyRange, s)
	}
	total := units*MicroPerUnit + micro
	switch {
	case neg && total <= limit+1:
		return int64(-total), nil
	case !neg && total <= limit:
		return int64(total), nil
	}

	return 0, fmt.Errorf("%w: %q", ErrMoneyRange, s)
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}

	return true
}

// FormatMicro formats micro-units as an exact decimal with at least two
// and at most six decimals: 1500 is "0.0015", -2_000_000 is "-2.00".
// ParseMicro(FormatMicro(v)) == v for every v.
func FormatMicro(v int64) string {
	var mag uint64
	sign := ""
	if v < 0 {
		sign = "-"
		mag = uint64(-(v + 1)) + 1
	} else {
		mag = uint64(v)
	}
	frac := fmt.Sprintf("%06d", mag%MicroPerUnit)
	frac = strings.TrimRight(frac, "0")
	for len(frac) < 2 {
		frac += "0"
	}

	return sign + strconv.FormatUint(mag/MicroPerUnit, 10) + "." + frac
}

// ceilDiv returns ceil(a/b) for a >= 0 and b > 0.
func ceilDiv(a, b int64) int64 {
	if a <= 0 {
		return 0
	}

	return (a + b - 1) / b
}
