package sip

import (
	"context"
	"errors"
	"fmt"
	"strings"

	sipmsg "github.com/emiago/sipgo/sip"

	"github.com/patchbay/patchbay/tenancy"
)

// Who is calling (the rules, in order, for an out-of-dialog INVITE or
// MESSAGE):
//
//  1. The source address is in a trunk's IP access list: the trunk's
//     account calls, trusted, without digest. A Request-URI host that is
//     a trunk's termination domain also identifies the trunk, with digest
//     against the trunk's credential lists.
//  2. Else the From host is a SIP domain of an account: the caller is a
//     device of that domain, admitted by the domain's IP access lists for
//     calls or by digest against its credential lists for calls. When the
//     From host is no domain, the Request-URI domain authenticates the
//     caller the same way.
//  3. A trunk call must go to an E.164 number of the trunk's account
//     (the Request-URI user).
//  4. Anything else is refused with one identical 403 Forbidden.
//
// Where a device call goes is decided by the Request-URI:
//   - a domain of another account: refused (403 Forbidden) unless that
//     domain has a voice URL, in which case the call is an inbound call of
//     the other account to its application (the caller's account is not
//     charged and its devices are not reachable from there);
//   - a domain of the same account, or no domain at all: when the target
//     domain (the Request-URI domain, else the caller's) has a voice URL,
//     the call goes to that application;
//   - else a domain of the same account: proxied to the user's bindings;
//   - else: 404 Not Found.

// domainOrNil looks up a domain; a missing one is nil without error.
func (s *Server) domainOrNil(ctx context.Context, name string) (*tenancy.Domain, error) {
	if name == "" {
		return nil, nil
	}
	d, err := s.dir.DomainByName(ctx, name)
	if errors.Is(err, tenancy.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, refuse(errInternal, err)
	}

	return d, nil
}

// trunkOf identifies a trunk caller by source address or termination
// domain. It returns nil when the request is not from a trunk.
func (s *Server) trunkOf(ctx context.Context, r *request) (*tenancy.Trunk, bool, error) {
	t, err := s.dir.TrunkBySourceAddr(ctx, r.source.Addr())
	if err == nil {
		return t, true, nil
	}
	if !errors.Is(err, tenancy.ErrNotFound) {
		return nil, false, refuse(errInternal, err)
	}
	t, err = s.dir.TrunkByDomainName(ctx, strings.ToLower(r.req.Recipient.Host))
	if errors.Is(err, tenancy.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, refuse(errInternal, err)
	}

	return t, false, nil
}

// handleCall routes an out-of-dialog INVITE or MESSAGE.
func (s *Server) handleCall(r *request) {
	ctx := s.ctx
	s.popOurRoutes(r.req) // a preloaded Route to us (outbound proxy setting)
	if mf := r.req.MaxForwards(); mf != nil && mf.Val() == 0 {
		s.reply(r, errTooManyHops)
		return
	}
	trunk, trusted, err := s.trunkOf(ctx, r)
	if err != nil {
		s.reply(r, err)
		return
	}
	if trunk != nil {
		s.handleTrunkCall(ctx, r, trunk, trusted)
		return
	}
	s.handleDeviceCall(ctx, r)
}

// handleTrunkCall admits a call from a carrier to a number of the trunk's
// account (rules 1 and 3).
func (s *Server) handleTrunkCall(ctx context.Context, r *request, t *tenancy.Trunk, trusted bool) {
	if t.Secure && !r.secure {
		s.reply(r, errSecureRequired)
		return
	}
	user := ""
	if !trusted {
		var ok bool
		user, ok = s.authenticate(ctx, r, proxyAuth,
			func(ctx context.Context, u string) (*tenancy.Credential, error) {
				return s.dir.TrunkCredential(ctx, t.SID, u)
			})
		if !ok {
			return
		}
	}
	acct, err := s.admit(ctx, t.AccountSID, tenancy.ServiceTrunking)
	if err != nil {
		s.reply(r, err)
		return
	}
	e164, ok := ParseE164(r.req.Recipient.User)
	if !ok || r.req.Method != sipmsg.INVITE {
		s.reply(r, errNotFound)
		return
	}
	n, err := s.dir.NumberByPhone(ctx, e164)
	if err != nil || n.AccountSID != t.AccountSID {
		s.reply(r, notFoundOr(err))
		return
	}
	route, err := s.dir.VoiceRouteForNumber(ctx, n)
	if err != nil {
		s.reply(r, notFoundOr(err))
		return
	}
	s.handToApp(ctx, r, &InboundCall{Account: acct, Route: route, Trunk: t, Number: n,
		AuthUser: user})
}

// notFoundOr maps a lookup error to 404, or 500 for a failing store.
func notFoundOr(err error) error {
	if err == nil || errors.Is(err, tenancy.ErrNotFound) {
		return refuse(errNotFound, err)
	}

	return refuse(errInternal, err)
}

// handleDeviceCall authenticates a device by its domain (rule 2) and
// routes its call.
func (s *Server) handleDeviceCall(ctx context.Context, r *request) {
	from := r.req.From()
	if from == nil {
		s.reply(r, errBadRequest)
		return
	}
	src, err := s.domainOrNil(ctx, strings.ToLower(from.Address.Host))
	if err != nil {
		s.reply(r, err)
		return
	}
	dst, err := s.domainOrNil(ctx, strings.ToLower(r.req.Recipient.Host))
	if err != nil {
		s.reply(r, err)
		return
	}
	if src == nil {
		src = dst
	}
	if src == nil {
		s.reply(r, errForbidden)
		return
	}
	if dst == nil && s.isOurHost(r.req.Recipient.Host) {
		// Dialled by this server's address (sip:bob@edge): the caller's
		// own domain is meant.
		dst = src
	}
	user, ok := s.authDevice(ctx, r, src)
	if !ok {
		return
	}
	s.routeDeviceCall(ctx, r, src, dst, user)
}

// authDevice admits a device of domain d by IP access list, an
// auth-exempt source or digest. It answers r itself when it refuses.
func (s *Server) authDevice(ctx context.Context, r *request, d *tenancy.Domain) (string, bool) {
	if d.Secure && !r.secure {
		s.reply(r, errSecureRequired)
		return "", false
	}
	if s.authExempt(r) {
		return "", true
	}
	allowed, err := s.dir.DomainAllowsAddr(ctx, d.SID, tenancy.MappingCalls, r.source.Addr())
	if err != nil && !errors.Is(err, tenancy.ErrNotFound) {
		s.reply(r, refuse(errInternal, err))
		return "", false
	}
	if allowed {
		return "", true
	}

	return s.authenticate(ctx, r, proxyAuth,
		func(ctx context.Context, u string) (*tenancy.Credential, error) {
			return s.dir.DomainCredential(ctx, d.SID, tenancy.MappingCalls, u)
		})
}

// authExempt reports whether r comes from Config.AuthExemptSources.
func (s *Server) authExempt(r *request) bool {
	for _, p := range s.cfg.AuthExemptSources {
		if p.Contains(r.source.Addr()) {
			return true
		}
	}

	return false
}

// routeDeviceCall sends an authenticated device's call to an application,
// the proxy or a refusal (see the rules above).
func (s *Server) routeDeviceCall(ctx context.Context, r *request, src, dst *tenancy.Domain,
	user string) {
	target := dst
	if target == nil {
		target = src
	}
	if err := s.checkTarget(ctx, r, src, dst); err != nil {
		s.reply(r, err)
		return
	}
	acct, err := s.admit(ctx, target.AccountSID, tenancy.ServiceCalls)
	if err != nil {
		s.reply(r, err)
		return
	}
	if target.VoiceURL != "" {
		if r.req.Method != sipmsg.INVITE {
			s.reply(r, errNotFound)
			return
		}
		route, err := s.dir.VoiceRouteForDomain(ctx, target)
		if err != nil {
			s.reply(r, notFoundOr(err))
			return
		}
		s.handToApp(ctx, r, &InboundCall{Account: acct, Route: route, Domain: target,
			AuthUser: user})
		return
	}
	if dst == nil {
		s.reply(r, errNotFound)
		return
	}
	s.proxyToUser(ctx, r, dst)
}

// checkTarget refuses a call into another account's domain without a voice
// URL, into a secure domain over a plain transport, and from an account
// that is not in good standing into another account's application.
func (s *Server) checkTarget(ctx context.Context, r *request, src, dst *tenancy.Domain) error {
	if dst == nil {
		return nil
	}
	if dst.AccountSID != src.AccountSID && dst.VoiceURL == "" {
		return refuse(errForbidden, fmt.Errorf("sip: cross-account call into %s", dst.DomainName))
	}
	if dst.Secure && !r.secure {
		return errSecureRequired
	}
	if dst.AccountSID != src.AccountSID {
		if _, err := s.activeAccount(ctx, src.AccountSID); err != nil {
			return err
		}
	}

	return nil
}

// handToApp passes an admitted INVITE to call control, or answers 503 when
// none is installed.
func (s *Server) handToApp(ctx context.Context, r *request, call *InboundCall) {
	h := s.callHandler()
	if h == nil {
		s.reply(r, errServiceUnavailable)
		return
	}
	call.Request, call.Tx = r.req, r.tx
	call.Source, call.Transport, call.Secure = r.source, r.transport, r.secure
	h.HandleInbound(ctx, call)
}

// ParseE164 reads a telephone number from a Request-URI user part: an
// optional '+', then 1 to 15 digits, visual separators ('-', '.', '(',
// ')') ignored, and user parameters after ';' dropped. It returns the number with a leading
// '+'. It is fuzzed by FuzzParseE164.
func ParseE164(user string) (string, bool) {
	if i := strings.IndexByte(user, ';'); i >= 0 {
		user = user[:i]
	}
	user = strings.TrimPrefix(user, "+")
	var b strings.Builder
	b.Grow(16)
	b.WriteByte('+')
	for i := 0; i < len(user); i++ {
		switch c := user[i]; {
		case c >= '0' && c <= '9':
			b.WriteByte(c)
		case c == '-' || c == '.' || c == '(' || c == ')':
		default:
			return "", false
		}
	}
	n := b.Len() - 1
	if n < 1 || n > 15 || b.String()[1] == '0' {
		return "", false
	}

	return b.String(), true
}
