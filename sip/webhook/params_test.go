package webhook

import (
	"strings"
	"testing"
	"time"
)

func TestCallParams(t *testing.T) {
	p := CallParams{
		CallSID: "CA1", AccountSID: "AC1", From: "+14155550100", To: "+14155550199",
		CallStatus: "ringing", Direction: DirectionInbound, SIPCallID: "abc@host",
		SIPHeaders: map[string]string{"X-Customer": "42", "User-Agent": "phone",
			"x-long": strings.Repeat("v", 2000)},
	}
	v := p.Values()
	want := map[string]string{
		"CallSid": "CA1", "AccountSid": "AC1", "From": "+14155550100", "Caller": "+14155550100",
		"To": "+14155550199", "Called": "+14155550199", "CallStatus": "ringing",
		"ApiVersion": "2010-04-01", "Direction": "inbound", "SipCallId": "abc@host",
		"SipHeader_X-Customer": "42",
	}
	for k, w := range want {
		if got := v.Get(k); got != w {
			t.Errorf("%s = %q, want %q", k, got, w)
		}
	}
	for _, absent := range []string{"ParentCallSid", "ForwardedFrom", "SipHeader_User-Agent"} {
		if v.Has(absent) {
			t.Errorf("%s sent", absent)
		}
	}
	if n := len(v.Get("SipHeader_x-long")); n != maxSIPHeaderValue {
		t.Errorf("long header value kept %d bytes", n)
	}
}

func TestStatusEventValues(t *testing.T) {
	at := time.Date(2026, 12, 3, 18, 4, 5, 0, time.FixedZone("X", 3600))
	tests := []struct {
		status   string
		dur      time.Duration
		code     int
		duration string // "" when absent
	}{
		{"completed", 61500 * time.Millisecond, 200, "62"},
		{"busy", 0, 486, "0"},
		{"ringing", 0, 180, ""},
		{"initiated", 0, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.status, func(t *testing.T) {
			v := StatusEvent{Call: CallParams{CallSID: "CA1", CallStatus: tt.status},
				Duration: tt.dur, SIPResponseCode: tt.code, Time: at}.Values()
			got := v.Get("CallDuration")
			if got != tt.duration || v.Has("CallDuration") != (tt.duration != "") {
				t.Errorf("CallDuration = %q", v.Get("CallDuration"))
			}
			if v.Get("Timestamp") != "Thu, 03 Dec 2026 17:04:05 +0000" {
				t.Errorf("Timestamp = %q", v.Get("Timestamp"))
			}
			if v.Get("CallbackSource") != "call-progress-events" {
				t.Errorf("CallbackSource = %q", v.Get("CallbackSource"))
			}
			if (tt.code == 0) == v.Has("SipResponseCode") {
				t.Errorf("SipResponseCode = %q", v.Get("SipResponseCode"))
			}
		})
	}
}
