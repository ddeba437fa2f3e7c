package callstatus

import (
	"fmt"
	"testing"
)

func TestEnd(t *testing.T) {
	tests := []struct {
		answered bool
		code     int
		reason   Reason
		want     Status
	}{
		{true, 200, ReasonNone, Completed},
		{true, 200, ReasonTimeLimit, Completed},
		{true, 0, ReasonError, Completed},
		{false, 486, ReasonNone, Busy},
		{false, 600, ReasonNone, Busy},
		{false, 603, ReasonNone, Busy},
		{false, 408, ReasonNone, NoAnswer},
		{false, 480, ReasonNone, NoAnswer},
		{false, 487, ReasonNone, NoAnswer},
		{false, 487, ReasonTimeout, NoAnswer},
		{false, 0, ReasonTimeout, NoAnswer},
		{false, 487, ReasonCallerCanceled, Canceled},
		{false, 0, ReasonAPICanceled, Canceled},
		{false, 487, ReasonLostRace, Canceled},
		{false, 404, ReasonNone, Failed},
		{false, 403, ReasonNone, Failed},
		{false, 484, ReasonNone, Failed},
		{false, 500, ReasonNone, Failed},
		{false, 503, ReasonNone, Failed},
		{false, 302, ReasonNone, Failed},
		{false, 0, ReasonNone, Failed},
		{false, 0, ReasonError, Failed},
		{false, 486, ReasonError, Busy},
		{false, 200, ReasonNone, Completed},
	}
	for _, tt := range tests {
		name := fmt.Sprintf("answered=%v/%d/%s", tt.answered, tt.code, tt.reason)
		t.Run(name, func(t *testing.T) {
			if got := End(tt.answered, tt.code, tt.reason); got != tt.want {
				t.Errorf("End = %s, want %s", got, tt.want)
			}
			if !tt.want.Final() {
				t.Errorf("%s is not final", tt.want)
			}
		})
	}
}

func TestSIPCodeRoundTrip(t *testing.T) {
	for _, s := range []Status{Busy, NoAnswer, Failed} {
		t.Run(string(s), func(t *testing.T) {
			if got := FromSIP(SIPCode(s)); got != s {
				t.Errorf("FromSIP(SIPCode(%s)) = %s", s, got)
			}
		})
	}
	if SIPCode(Canceled) != 487 || SIPCode(Completed) != 200 {
		t.Error("canceled or completed code wrong")
	}
	for _, live := range []Status{Queued, Initiated, Ringing, InProgress} {
		if live.Final() {
			t.Errorf("%s reported final", live)
		}
	}
}
