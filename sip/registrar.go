package sip

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	sipmsg "github.com/emiago/sipgo/sip"

	"github.com/patchbay/patchbay/sip/location"
	"github.com/patchbay/patchbay/tenancy"
)

// maxUserAgent bounds the User-Agent kept with a binding.
const maxUserAgent = 128

// handleRegister is the registrar (RFC 3261 section 10.3): the To domain
// picks the account, digest against the domain's credential lists for
// registrations authenticates the device, and the authenticated user must
// be the To user.
func (s *Server) handleRegister(r *request) {
	ctx := s.ctx
	to := r.req.To()
	if to == nil || to.Address.User == "" || r.req.CallID() == nil || r.req.CSeq() == nil {
		s.regRefused(r, errBadRequest)
		return
	}
	d, err := s.domainOrNil(ctx, strings.ToLower(to.Address.Host))
	if err != nil || d == nil {
		s.regRefused(r, errOr(err, errForbidden))
		return
	}
	if d.Secure && !r.secure {
		s.regRefused(r, errSecureRequired)
		return
	}
	if !s.authExempt(r) && !s.authRegister(ctx, r, d) {
		return
	}
	if _, err := s.admit(ctx, d.AccountSID, tenancy.ServiceRegistrar); err != nil {
		s.regRefused(r, err)
		return
	}
	if !d.SIPRegistration {
		s.regRefused(r, errRegDisabled)
		return
	}
	s.register(ctx, r, d)
}

// authRegister runs digest for a REGISTER against the domain's credential
// lists for registrations; the authenticated user must be the To user. It
// answers r itself on failure.
func (s *Server) authRegister(ctx context.Context, r *request, d *tenancy.Domain) bool {
	user, ok := s.authenticate(ctx, r, registrarAuth,
		func(ctx context.Context, u string) (*tenancy.Credential, error) {
			return s.dir.DomainCredential(ctx, d.SID, tenancy.MappingRegistrations, u)
		})
	if !ok {
		return false
	}
	if !strings.EqualFold(user, r.req.To().Address.User) {
		s.m.authFailures.WithLabelValues("user_mismatch").Inc()
		s.guard.AuthFailed(r.source.Addr())
		s.regRefused(r, errForbidden)
		return false
	}

	return true
}

// errOr returns err when set, else def.
func errOr(err error, def error) error {
	if err != nil {
		return err
	}

	return def
}

// regRefused answers a refused REGISTER and counts it.
func (s *Server) regRefused(r *request, err error, extra ...sipmsg.Header) {
	s.m.registrations.WithLabelValues("refused").Inc()
	s.reply(r, err, extra...)
}

// register applies the REGISTER's contacts to the location store and
// answers with the AOR's current bindings.
func (s *Server) register(ctx context.Context, r *request, d *tenancy.Domain) {
	to := r.req.To()
	u, err := s.buildUpdate(r, d, aorOf(to.Address))
	if err != nil {
		var extra []sipmsg.Header
		if errors.Is(err, errTooBrief) {
			extra = append(extra, sipmsg.NewHeader("Min-Expires",
				strconv.Itoa(int(s.cfg.MinExpires/time.Second))))
		}
		s.regRefused(r, err, extra...)
		return
	}
	if len(u.Set) > 0 {
		lim, err := s.dir.AccountLimits(ctx, d.AccountSID)
		if err != nil {
			s.regRefused(r, refuse(errInternal, err))
			return
		}
		u.AccountLimit = lim.Registrations
	}
	var bindings []location.Binding
	if u.Set == nil && u.Remove == nil && !u.RemoveAll {
		bindings, err = s.loc.Lookup(ctx, u.AOR)
	} else {
		bindings, err = s.loc.Apply(ctx, u)
	}
	if err != nil {
		s.regRefused(r, storeErr(err))
		return
	}
	res := regResult(u)
	s.m.registrations.WithLabelValues(res).Inc()
	s.meterRegistration(u.AccountSID, u.Set)
	if res == "removed" {
		s.logRequest(r, slog.LevelInfo, "unregistered", "aor", u.AOR, "account", u.AccountSID,
			"left", len(bindings))
	}
	s.registered(r, bindings)
}

// storeErr maps a location store failure to the registrar's answer.
func storeErr(err error) error {
	switch {
	case errors.Is(err, location.ErrLimit):
		return refuse(errRegLimit, err)
	case errors.Is(err, location.ErrOutOfOrder):
		return refuse(errOutOfOrder, err)
	case errors.Is(err, location.ErrInvalid):
		return refuse(errBadRequest, err)
	}

	return refuse(errInternal, err)
}

// regResult is the metric label of an applied update.
func regResult(u location.Update) string {
	switch {
	case len(u.Set) > 0:
		return "bound"
	case len(u.Remove) > 0 || u.RemoveAll:
		return "removed"
	}

	return "query"
}

// buildUpdate turns the REGISTER's Contact and Expires headers into a
// location update (RFC 3261 10.3 steps 6 and 7).
func (s *Server) buildUpdate(r *request, d *tenancy.Domain, aor string) (location.Update, error) {
	req := r.req
	u := location.Update{AOR: aor, AccountSID: d.AccountSID,
		CallID: req.CallID().Value(), CSeq: req.CSeq().SeqNo}
	defExp, err := headerExpires(req)
	if err != nil {
		return u, err
	}
	contacts := req.GetHeaders("Contact")
	now := time.Now()
	for _, h := range contacts {
		c, ok := h.(*sipmsg.ContactHeader)
		if !ok {
			return u, errBadRequest
		}
		if c.Address.Wildcard {
			if len(contacts) != 1 || defExp != 0 {
				return u, refuse(errBadRequest, errors.New("sip: Contact * needs Expires: 0"))
			}
			u.RemoveAll = true
			return u, nil
		}
		exp, err := s.contactExpires(c, defExp)
		if err != nil {
			return u, err
		}
		uri := c.Address.String()
		if exp == 0 {
			u.Remove = append(u.Remove, uri)
			continue
		}
		u.Set = append(u.Set, s.binding(r, u, uri, now.Add(exp)))
	}

	return u, nil
}

// binding builds the binding of one contact, recording the flow.
func (s *Server) binding(r *request, u location.Update, contact string,
	exp time.Time) location.Binding {
	ua := ""
	if h := r.req.GetHeader("User-Agent"); h != nil {
		ua = h.Value()
		if len(ua) > maxUserAgent {
			ua = ua[:maxUserAgent]
		}
	}

	return location.Binding{AOR: u.AOR, AccountSID: u.AccountSID, Contact: contact,
		Received: r.source, Transport: r.transport, CallID: u.CallID, CSeq: u.CSeq,
		Expires: exp, UserAgent: ua, Node: s.cfg.NodeID}
}

// headerExpires reads the Expires header; -1 when absent.
func headerExpires(req *sipmsg.Request) (time.Duration, error) {
	h := req.GetHeader("Expires")
	if h == nil {
		return -1, nil
	}

	return parseExpires(h.Value())
}

// parseExpires reads a delta-seconds value (RFC 3261 25.1). Values above
// 2^32-1 are clamped as the RFC allows.
func parseExpires(v string) (time.Duration, error) {
	const maxDelta = 1<<32 - 1
	v = strings.TrimSpace(v)
	if v == "" || strings.Trim(v, "0123456789") != "" {
		return 0, refuse(errBadRequest, fmt.Errorf("sip: expires %q is not delta-seconds", v))
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil || n > maxDelta {
		n = maxDelta
	}

	return time.Duration(n) * time.Second, nil
}

// contactExpires is a contact's interval: its expires parameter, else the
// Expires header, else the default; 423 below MinExpires, capped at
// MaxExpires.
func (s *Server) contactExpires(c *sipmsg.ContactHeader, def time.Duration) (time.Duration, error) {
	exp := def
	if v, ok := c.Params.Get("expires"); ok {
		var err error
		if exp, err = parseExpires(v); err != nil {
			return 0, err
		}
	}
	if exp < 0 {
		exp = min(DefaultExpires, s.cfg.MaxExpires)
	}
	switch {
	case exp == 0:
		return 0, nil
	case exp < s.cfg.MinExpires:
		return 0, errTooBrief
	case exp > s.cfg.MaxExpires:
		return s.cfg.MaxExpires, nil
	}

	return exp, nil
}

// udpAnswerLimit is the largest answer to a REGISTER over UDP. The edge
// could send up to udpResponseLimit, but the registrar keeps to what the
// retransmission cache keeps (retransMaxResponse, which also fits one
// unfragmented datagram on a 1500-byte path): a retransmitted REGISTER
// whose answer was lost then gets the same bytes again, not a fresh 401
// for a replayed nonce count.
func udpAnswerLimit() int { return min(retransMaxResponse, udpResponseLimit) }

// registered answers 200 with the current bindings and their remaining
// intervals (RFC 3261 10.3 step 8). Over UDP the answer is kept within
// udpAnswerLimit(): the registering device's own bindings come first and
// others are left out once the list would not fit, since an answer that
// cannot be sent would only make the device retransmit.
func (s *Server) registered(r *request, bindings []location.Binding) {
	res := sipmsg.NewResponseFromRequest(r.req, 200, "OK", nil)
	now := time.Now()
	res.AppendHeader(sipmsg.NewHeader("Date", now.UTC().Format("Mon, 02 Jan 2006 15:04:05 GMT")))
	callID := ""
	if h := r.req.CallID(); h != nil {
		callID = h.Value()
	}
	slices.SortStableFunc(bindings, func(a, b location.Binding) int {
		return boolRank(b.CallID == callID) - boolRank(a.CallID == callID)
	})
	// Over UDP a device's own binding always goes out (there is nothing
	// smaller to send); the others are counted against what is left, which
	// is measured only when there are others.
	budget := -1 // no limit on connection transports
	if r.transport == "udp" && len(bindings) > 1 {
		budget = udpAnswerLimit() - len(res.String())
	}
	for _, b := range bindings {
		left := int(b.Expires.Sub(now).Round(time.Second) / time.Second)
		if left < 1 {
			continue
		}
		value := "<" + b.Contact + ">;expires=" + strconv.Itoa(left)
		if budget >= 0 {
			if size := len("Contact: \r\n") + len(value); size <= budget {
				budget -= size
			} else {
				break
			}
		}
		res.AppendHeader(sipmsg.NewHeader("Contact", value))
	}
	s.send(r, res)
}

// boolRank is 1 for true, 0 for false, for sorting.
func boolRank(b bool) int {
	if b {
		return 1
	}

	return 0
}
