package sip

import (
	"errors"
	"fmt"
	"testing"

	"github.com/patchbay/patchbay/sip/digest"
	"github.com/patchbay/patchbay/sip/location"
	"github.com/patchbay/patchbay/tenancy"
)

// TestStatusOf pins the one table that maps edge errors to SIP statuses.
func TestStatusOf(t *testing.T) {
	cases := []struct {
		err    error
		code   int
		reason string
	}{
		{errForbidden, 403, "Forbidden"},
		{errAccountSuspended, 403, "Account Suspended"},
		{errAccountClosed, 403, "Account Closed"},
		{errServiceDisabled, 403, "Service Disabled"},
		{errRegDisabled, 403, "Registration Disabled"},
		{errSecureRequired, 403, "Secure Transport Required"},
		{errRegLimit, 403, "Registration Limit Reached"},
		{errBadRequest, 400, "Bad Request"},
		{errNotFound, 404, "Not Found"},
		{errTooBrief, 423, "Interval Too Brief"},
		{errUnavailable, 480, "Temporarily Unavailable"},
		{errBusyHere, 486, "Busy Here"},
		{errNotAcceptable, 488, "Not Acceptable Here"},
		{errRequestPending, 491, "Request Pending"},
		{errNoDialog, 481, "Call/Transaction Does Not Exist"},
		{errLoop, 482, "Loop Detected"},
		{errTooManyHops, 483, "Too Many Hops"},
		{errOutOfOrder, 500, "Out Of Order"},
		{errInternal, 500, "Server Internal Error"},
		{errServiceUnavailable, 503, "Service Unavailable"},
		{errTimeout, 408, "Request Timeout"},
		{refuse(errRegLimit, errors.New("cause")), 403, "Registration Limit Reached"},
		{fmt.Errorf("wrapped: %w", errLoop), 482, "Loop Detected"},
		{errors.New("plain"), 500, "Server Internal Error"},
		{lookupErr(tenancy.ErrNotFound), 403, "Forbidden"},
		{lookupErr(errors.New("db down")), 500, "Server Internal Error"},
		{notFoundOr(nil), 404, "Not Found"},
		{notFoundOr(errors.New("db down")), 500, "Server Internal Error"},
	}
	for _, tc := range cases {
		t.Run(tc.err.Error(), func(t *testing.T) {
			code, reason := statusOf(tc.err)
			if code != tc.code || reason != tc.reason {
				t.Fatalf("statusOf = %d %q, want %d %q", code, reason, tc.code, tc.reason)
			}
		})
	}
}

func TestStatusErrorIs(t *testing.T) {
	wrapped := refuse(errAccountSuspended, tenancy.ErrNotFound)
	if !errors.Is(wrapped, errAccountSuspended) || !errors.Is(wrapped, tenancy.ErrNotFound) {
		t.Fatal("refusal lost its identity or cause")
	}
	if errors.Is(wrapped, errAccountClosed) {
		t.Fatal("different refusals compare equal")
	}
}

func TestAuthReason(t *testing.T) {
	cases := map[error]string{
		digest.ErrStale: "stale", digest.ErrBadNonce: "bad_nonce", digest.ErrReplay: "replay",
		digest.ErrBadResponse: "bad_response", digest.ErrMalformed: "malformed",
		digest.ErrUnsupported: "unsupported", errors.New("x"): "internal",
	}
	for err, want := range cases {
		if got := authReason(fmt.Errorf("w: %w", err)); got != want {
			t.Errorf("authReason(%v) = %q, want %q", err, got, want)
		}
	}
}

func TestFailover(t *testing.T) {
	cases := []struct {
		err  error
		want bool
	}{
		{&StatusError{Code: 503}, true}, {&StatusError{Code: 500}, true},
		{&StatusError{Code: 408}, true}, {&StatusError{Code: 404}, false},
		{&StatusError{Code: 486}, false}, {&StatusError{Code: 603}, false},
		{refuse(errTimeout, errNoAnswer), true}, {errors.New("transport"), true},
	}
	for _, tc := range cases {
		if got := failover(tc.err); got != tc.want {
			t.Errorf("failover(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

func TestStoreErr(t *testing.T) {
	cases := []struct {
		err  error
		code int
	}{
		{location.ErrLimit, 403}, {location.ErrOutOfOrder, 500},
		{location.ErrInvalid, 400}, {location.ErrUnavailable, 500},
	}
	for _, tc := range cases {
		if code, _ := statusOf(storeErr(fmt.Errorf("w: %w", tc.err))); code != tc.code {
			t.Errorf("storeErr(%v) -> %d, want %d", tc.err, code, tc.code)
		}
	}
}
