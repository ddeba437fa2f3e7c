package sip

import (
	"context"
	"errors"

	sipmsg "github.com/emiago/sipgo/sip"

	"github.com/patchbay/patchbay/sip/digest"
	"github.com/patchbay/patchbay/tenancy"
)

// credLookup finds the credential of a digest user; tenancy.ErrNotFound
// (possibly wrapped) when there is none.
type credLookup func(ctx context.Context, user string) (*tenancy.Credential, error)

// authHeaders names the headers of one challenge style: 401 with
// WWW-Authenticate for a registrar, 407 with Proxy-Authenticate for a proxy
// (RFC 3261 22.2, 22.3).
type authHeaders struct {
	code      int
	reason    string
	challenge string
	answer    string
}

var (
	registrarAuth = authHeaders{401, "Unauthorized", "WWW-Authenticate", "Authorization"}
	proxyAuth     = authHeaders{407, "Proxy Authentication Required",
		"Proxy-Authenticate", "Proxy-Authorization"}
)

// consumeCredentials removes the digest credentials of this server's realm
// from a request about to be forwarded (RFC 3261 section 22.3): the next
// hop, often another tenant's phone or a carrier, must not receive a digest
// response it could attack offline for the caller's password. Credentials
// for other realms, meant for proxies further on, stay.
func consumeCredentials(req *sipmsg.Request) {
	for _, name := range []string{proxyAuth.answer, registrarAuth.answer} {
		all := req.GetHeaders(name)
		var keep []sipmsg.Header
		for _, h := range all {
			if c, err := digest.ParseCredentials(h.Value()); err != nil || c.Realm != tenancy.Realm {
				keep = append(keep, h)
			}
		}
		if len(keep) == len(all) {
			continue
		}
		// GetHeaders matches any spelling of the name, RemoveHeader only
		// the exact one, and removes the first such header per call.
		for _, h := range all {
			req.RemoveHeader(h.Name())
		}
		for _, h := range keep {
			req.AppendHeader(h)
		}
	}
}

// authenticate checks the digest credentials of r against lookup (RFC 7616,
// RFC 8760, qop=auth). On success it returns the user name. Otherwise it has
// answered r — a challenge (stale=true for an expired nonce; a fresh one
// for a missing, forged or replayed nonce) or 403 for a wrong password — and
// returns ok=false. A missing user takes the same path as a wrong password,
// with a decoy HA1, so the two cannot be told apart.
func (s *Server) authenticate(ctx context.Context, r *request, h authHeaders,
	lookup credLookup) (string, bool) {
	hdr := r.req.GetHeader(h.answer)
	if hdr == nil && h.answer == proxyAuth.answer {
		hdr = r.req.GetHeader(registrarAuth.answer)
	}
	if hdr == nil {
		s.challenge(r, h, false)
		return "", false
	}
	creds, err := digest.ParseCredentials(hdr.Value())
	if errors.Is(err, digest.ErrScheme) { // RFC 4475 3.3.7: challenge in Digest
		s.m.authFailures.WithLabelValues("scheme").Inc()
		s.challenge(r, h, false)
		return "", false
	}
	if err != nil {
		s.m.authFailures.WithLabelValues("malformed").Inc()
		s.reply(r, refuse(errBadRequest, err))
		return "", false
	}
	if creds.Realm != tenancy.Realm {
		s.m.authFailures.WithLabelValues("realm").Inc()
		s.challenge(r, h, false)
		return "", false
	}
	ha1, err := s.lookupHA1(ctx, creds, lookup)
	if err != nil {
		s.m.authFailures.WithLabelValues(authReason(err)).Inc()
		s.reply(r, err)
		return "", false
	}
	if err := s.auth.Verify(string(r.req.Method), creds, ha1); err != nil {
		s.authFailed(r, h, err)
		return "", false
	}

	return creds.Username, true
}

// lookupHA1 returns the stored HA1 for the credentials' algorithm, or a
// decoy that never verifies when the user does not exist.
func (s *Server) lookupHA1(ctx context.Context, c *digest.Credentials, lookup credLookup) (
	string, error) {
	alg, err := digest.ParseAlgorithm(c.Algorithm)
	if err != nil {
		return "", refuse(errBadRequest, err)
	}
	cred, err := lookup(ctx, c.Username)
	switch {
	case errors.Is(err, tenancy.ErrNotFound):
		return s.decoyHA1(alg, c.Username), nil
	case err != nil:
		return "", refuse(errInternal, err)
	}
	if alg == digest.SHA256 {
		return cred.HA1SHA256, nil
	}

	return cred.HA1MD5, nil
}

// decoyHA1 is an HA1 of the right size for a user that does not exist,
// keyed by a per-server secret so that no password can match it.
func (s *Server) decoyHA1(alg digest.Algorithm, user string) string {
	ha1, _ := digest.HA1(alg, user, tenancy.Realm, string(s.rrKey))

	return ha1
}

// authFailed answers a failed Verify. Every failure but an expired nonce
// or a replayed nonce count counts towards the source's ban: a replay is
// what a UDP retransmission of an answered REGISTER looks like once its
// transaction has ended, it only earns a fresh challenge, and counting it
// banned honest sources whose answers were slow under load.
func (s *Server) authFailed(r *request, h authHeaders, err error) {
	s.m.authFailures.WithLabelValues(authReason(err)).Inc()
	harmless := errors.Is(err, digest.ErrStale) || errors.Is(err, digest.ErrReplay)
	if !harmless && s.guard.AuthFailed(r.source.Addr()) {
		s.m.guardDrops.WithLabelValues("banned").Inc()
		s.log.Info("source banned", "source", r.source.Addr().String(),
			"method", string(r.req.Method))
	}
	switch {
	case errors.Is(err, digest.ErrStale):
		s.challenge(r, h, true)
	case errors.Is(err, digest.ErrBadNonce), errors.Is(err, digest.ErrReplay),
		errors.Is(err, digest.ErrUnsupported):
		s.challenge(r, h, false)
	case errors.Is(err, digest.ErrMalformed):
		s.reply(r, refuse(errBadRequest, err))
	default:
		s.reply(r, refuse(errForbidden, err))
	}
}

// authReason is the metric label of an authentication failure.
func authReason(err error) string {
	switch {
	case errors.Is(err, digest.ErrStale):
		return "stale"
	case errors.Is(err, digest.ErrBadNonce):
		return "bad_nonce"
	case errors.Is(err, digest.ErrReplay):
		return "replay"
	case errors.Is(err, digest.ErrBadResponse):
		return "bad_response"
	case errors.Is(err, digest.ErrMalformed):
		return "malformed"
	case errors.Is(err, digest.ErrUnsupported):
		return "unsupported"
	}

	return "internal"
}

// challenge answers r with a fresh digest challenge.
func (s *Server) challenge(r *request, h authHeaders, stale bool) {
	res := sipmsg.NewResponseFromRequest(r.req, h.code, h.reason, nil)
	for _, c := range s.auth.Challenges(tenancy.Realm, stale) {
		res.AppendHeader(sipmsg.NewHeader(h.challenge, c))
	}
	s.send(r, res)
}
