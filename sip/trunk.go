package sip

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"

	sipmsg "github.com/emiago/sipgo/sip"

	"github.com/patchbay/patchbay/tenancy"
)

// TrunkCall is an INVITE answered by a carrier through DialTrunk.
type TrunkCall struct {
	// Request is the INVITE as last sent: the target's Request-URI, this
	// server's Via and any digest answer. In-dialog requests (the ACK
	// first) are built from it and Response.
	Request *sipmsg.Request
	// Response is the 2xx. The caller must ACK it (RFC 3261 13.2.2.4).
	Response *sipmsg.Response
	// Target is the origination URI that answered.
	Target tenancy.OriginationURI
}

// DialTrunk sends the INVITE req out through trunk, to its origination
// URIs in priority order (lowest first; weighted random among equal
// priorities), and returns the first answer. It fails over to the next
// target on a timeout (no response within Config.TrunkTimeout), a
// transport error, 408 or 5xx; any other final response (404, 486, 603 ...)
// ends the attempt with a *StatusError carrying that status. A 401 or 407 is
// answered once with the trunk's AuthUsername and AuthPassword when set.
//
// req is built by the caller with From, To, Call-ID, CSeq, Contact and the
// body; its Request-URI user is the number dialled, its host is replaced
// per target, and it must carry no Via. A secure trunk only uses sips: or
// transport=tls targets. Cancelling ctx cancels the attempt in progress
// (CANCEL after a provisional response) and returns ctx's error.
func (s *Server) DialTrunk(ctx context.Context, trunk *tenancy.Trunk, req *sipmsg.Request) (
	*TrunkCall, error) {
	return s.DialTrunkProgress(ctx, trunk, req, nil)
}

// DialTrunkProgress is DialTrunk reporting provisional responses (except
// 100) of the attempt in progress to progress, on DialTrunk's goroutine.
func (s *Server) DialTrunkProgress(ctx context.Context, trunk *tenancy.Trunk,
	req *sipmsg.Request, progress func(*sipmsg.Response)) (*TrunkCall, error) {
	if s.closed.Load() {
		return nil, ErrClosed
	}
	targets := trunkTargets(trunk, rand.IntN)
	if len(targets) == 0 {
		return nil, fmt.Errorf("%w: trunk %s", ErrNoTargets, trunk.SID)
	}
	var last error
	for _, t := range targets {
		call, err := s.dialTarget(ctx, trunk, req, t, progress)
		s.m.trunkAttempts.WithLabelValues(attemptResult(err)).Inc()
		if err == nil || !failover(err) || ctx.Err() != nil {
			return call, err
		}
		s.log.Debug("trunk target failed", "trunk", trunk.SID, "target", t.uri.Host,
			"call_id", callID(req), "error", err)
		last = err
	}

	return nil, fmt.Errorf("%w: %w", ErrTrunkFailed, last)
}

// target is one parsed origination URI.
type target struct {
	orig      tenancy.OriginationURI
	uri       sipmsg.Uri
	transport string
}

// trunkTargets orders the trunk's usable origination URIs: priority
// ascending, then a weighted random draw among equal priorities (RFC 2782
// style). rnd(n) returns a number in [0, n).
func trunkTargets(trunk *tenancy.Trunk, rnd func(int) int) []target {
	var out []target
	for _, o := range trunk.OriginationURIs {
		if !o.Enabled {
			continue
		}
		var u sipmsg.Uri
		if err := sipmsg.ParseUri(o.SIPURL, &u); err != nil || u.Host == "" {
			continue
		}
		tr := uriTransport(u)
		if trunk.Secure && tr != "tls" {
			continue
		}
		out = append(out, target{orig: o, uri: u, transport: tr})
	}
	slices.SortStableFunc(out, func(a, b target) int {
		return cmp.Compare(a.orig.Priority, b.orig.Priority)
	})
	for i := 0; i < len(out); {
		j := i
		for j < len(out) && out[j].orig.Priority == out[i].orig.Priority {
			j++
		}
		weightedShuffle(out[i:j], rnd)
		i = j
	}

	return out
}

// weightedShuffle orders ts by repeated weighted draws; weight 0 counts 1.
func weightedShuffle(ts []target, rnd func(int) int) {
	for i := 0; i < len(ts)-1; i++ {
		total := 0
		for _, t := range ts[i:] {
			total += max(t.orig.Weight, 1)
		}
		pick := rnd(total)
		for k := i; k < len(ts); k++ {
			pick -= max(ts[k].orig.Weight, 1)
			if pick < 0 {
				ts[i], ts[k] = ts[k], ts[i]
				break
			}
		}
	}
}

// uriTransport is the transport a URI asks for (RFC 3263 simplified: the
// transport parameter, sips: meaning TLS, else UDP).
func uriTransport(u sipmsg.Uri) string {
	tr, _ := u.UriParams.Get("transport")
	tr = strings.ToLower(tr)
	if u.Scheme == "sips" && (tr == "" || tr == "tcp") {
		return "tls"
	}
	if tr == "" {
		return "udp"
	}

	return tr
}

// errNoAnswer marks a target that did not answer in time.
var errNoAnswer = errors.New("sip: trunk target did not answer in time")

// failover reports whether a target's failure moves on to the next one.
func failover(err error) bool {
	var se *StatusError
	if errors.As(err, &se) {
		return se.Code == 408 || (se.Code >= 500 && se.Code < 600)
	}

	return !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded)
}

// attemptResult is the metric label of one target attempt.
func attemptResult(err error) string {
	var se *StatusError
	switch {
	case err == nil:
		return "answered"
	case errors.Is(err, errNoAnswer):
		return "timeout"
	case errors.As(err, &se):
		return classLabel(se.Code)
	}

	return "error"
}
