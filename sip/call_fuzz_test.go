package sip

import "testing"

// FuzzInfoDigit checks the SIP INFO dtmf-relay parser never panics and
// only yields DTMF keys.
func FuzzInfoDigit(f *testing.F) {
	for _, seed := range []string{"Signal=5\r\nDuration=160\r\n", "signal = #", "Signal=10",
		"Duration=100", "", "Signal=\r\n", "Signal=a\nSignal=1"} {
		f.Add("application/dtmf-relay", []byte(seed))
	}
	f.Add("text/plain", []byte("Signal=1"))
	f.Fuzz(func(t *testing.T, ctype string, body []byte) {
		d, ok := infoDigit(ctype, body)
		if ok && !containsRune("0123456789*#ABCD", d) {
			t.Fatalf("digit %q from %q", d, body)
		}
	})
}

// FuzzDiversionTarget checks the Diversion header reader never panics.
func FuzzDiversionTarget(f *testing.F) {
	for _, seed := range []string{"<sip:+14155550100@carrier.example>;reason=unconditional",
		"sip:alice@acme.test", "<>", "<sip:", "garbage", ""} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, v string) {
		diversionTarget(v)
	})
}

func containsRune(s string, r rune) bool {
	for _, c := range s {
		if c == r {
			return true
		}
	}

	return false
}
