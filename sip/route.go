package sip

import (
	"crypto/hmac"
	"encoding/base64"
	"net"
	"net/netip"
	"strconv"
	"strings"

	sipmsg "github.com/emiago/sipgo/sip"
)

// flowParam is the Record-Route URI parameter carrying the signed flows of
// the two ends of a proxied dialog, so that in-dialog requests reach a
// device behind NAT over the flow it registered from (RFC 5626 spirit,
// without its Path and outbound machinery). It is stateless and signed with
// a key derived from Config.NonceSecret (random without one), so a peer
// cannot forge one to make the proxy relay to an address of its choosing.
// Without a shared secret, a token issued by another node (or before a
// restart) does not verify and such in-dialog requests get 403.
const flowParam = "pb"

// flow is one end of a dialog as seen by this server.
type flow struct {
	transport string // lower case
	addr      netip.AddrPort
}

func (f flow) valid() bool { return f.addr.IsValid() && f.transport != "" }

// flowTagSize is the length of a flow token's truncated HMAC-SHA-256 tag.
const flowTagSize = 12

// flowToken encodes and signs the flows a (caller) and b (callee).
func (s *Server) flowToken(a, b flow) string {
	raw := []byte(a.transport + " " + a.addr.String() + " " + b.transport + " " + b.addr.String())
	tag := s.rrMAC.Sum(raw)

	return base64.RawURLEncoding.EncodeToString(raw) + "." +
		base64.RawURLEncoding.EncodeToString(tag[:flowTagSize])
}

// parseFlowToken checks a token's signature and decodes its flows.
func (s *Server) parseFlowToken(tok string) (flow, flow, bool) {
	body, sig, ok := strings.Cut(tok, ".")
	// Go's base64 decoder skips CR and LF; a token is one canonical line.
	if !ok || len(body) > 256 || strings.ContainsAny(tok, "\r\n") {
		return flow{}, flow{}, false
	}
	raw, err1 := base64.RawURLEncoding.DecodeString(body)
	got, err2 := base64.RawURLEncoding.DecodeString(sig)
	if err1 != nil || err2 != nil {
		return flow{}, flow{}, false
	}
	tag := s.rrMAC.Sum(raw)
	if !hmac.Equal(tag[:flowTagSize], got) {
		return flow{}, flow{}, false
	}
	f := strings.Fields(string(raw))
	if len(f) != 4 {
		return flow{}, flow{}, false
	}
	a, errA := netip.ParseAddrPort(f[1])
	b, errB := netip.ParseAddrPort(f[3])
	if errA != nil || errB != nil {
		return flow{}, flow{}, false
	}

	return flow{f[0], a}, flow{f[2], b}, true
}

// ourURI builds a loose-routing URI of this server for transport.
func (s *Server) ourURI(transport, token string) sipmsg.Uri {
	params := sipmsg.NewParams()
	params.Add("transport", transport)
	params.Add("lr", "")
	if token != "" {
		params.Add(flowParam, token)
	}

	return sipmsg.Uri{Scheme: "sip", Host: s.publicHost(), Port: s.listenPort(transport),
		UriParams: params}
}

// isOurHost reports whether host is this server's public host or the IP of
// one of its listeners.
func (s *Server) isOurHost(host string) bool {
	if strings.EqualFold(host, s.publicHost()) {
		return true
	}
	ip, err := netip.ParseAddr(strings.Trim(host, "[]"))
	if err != nil {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, l := range s.listeners {
		if ap, err := netip.ParseAddrPort(l.addr.String()); err == nil && ap.Addr() == ip {
			return true
		}
	}

	return false
}

// isOurs reports whether uri names this server (host and a listen port).
func (s *Server) isOurs(uri sipmsg.Uri) bool {
	if !strings.EqualFold(uri.Host, s.publicHost()) {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, l := range s.listeners {
		if l.port == uri.Port || (uri.Port == 0 && l.port == 5060) {
			return true
		}
	}

	return false
}

// addRecordRoute puts this server in the route set of the dialog (RFC 3261
// 16.6 step 4). When the two ends use different transports it records
// twice, once per side, so each end reaches us over its own transport.
func (s *Server) addRecordRoute(req *sipmsg.Request, in, out string, token string) {
	if in != out {
		req.PrependHeader(&sipmsg.RecordRouteHeader{Address: s.ourURI(in, token)})
	}
	req.PrependHeader(&sipmsg.RecordRouteHeader{Address: s.ourURI(out, token)})
}

// popOurRoutes removes the Route entries naming this server from the top of
// req (RFC 3261 16.4) and returns the flow token found in them.
func (s *Server) popOurRoutes(req *sipmsg.Request) (string, bool) {
	tok, found := "", false
	for {
		rt := req.Route()
		if rt == nil || !s.isOurs(rt.Address) {
			return tok, found
		}
		if v, ok := rt.Address.UriParams.Get(flowParam); ok {
			tok = v
		}
		found = true
		req.RemoveHeader("Route")
	}
}

// stripPreloaded removes Route entries naming this server that carry no
// flow token from the top of req: an outbound-proxy setting of the client,
// not a route set this proxy recorded.
func (s *Server) stripPreloaded(req *sipmsg.Request) {
	for {
		rt := req.Route()
		if rt == nil || !s.isOurs(rt.Address) || rt.Address.UriParams.Has(flowParam) {
			return
		}
		req.RemoveHeader("Route")
	}
}

// addVia pushes this server's Via onto req (RFC 3261 16.6 step 8) for
// transport, with a fresh branch and rport (RFC 3581).
func (s *Server) addVia(req *sipmsg.Request, transport string) {
	params := sipmsg.NewParams()
	params.Add("branch", sipmsg.GenerateBranchN(16))
	params.Add("rport", "")
	req.PrependHeader(&sipmsg.ViaHeader{ProtocolName: "SIP", ProtocolVersion: "2.0",
		Transport: sipmsg.NetworkToUpper(transport), Host: s.publicHost(),
		Port: s.listenPort(transport), Params: params})
}

// markReceived records the request's source in its top Via (RFC 3581 4).
func markReceived(req *sipmsg.Request, src netip.AddrPort) {
	via := req.Via()
	if via == nil {
		return
	}
	if via.Params.Has("rport") {
		via.Params.Add("rport", strconv.Itoa(int(src.Port())))
	}
	if via.Host != src.Addr().String() {
		via.Params.Add("received", src.Addr().String())
	}
}

// hasOurVia reports whether a Via of req was put there by this server: a
// request that comes back to us out of dialog is a loop (RFC 3261 16.3
// step 4, simplified: spirals through this server are not supported).
func (s *Server) hasOurVia(req *sipmsg.Request) bool {
	host := s.publicHost()
	for _, h := range req.GetHeaders("Via") {
		v, ok := h.(*sipmsg.ViaHeader)
		if !ok || !strings.EqualFold(v.Host, host) {
			continue
		}
		if v.Port == s.listenPort(sipmsg.NetworkToLower(v.Transport)) {
			return true
		}
	}

	return false
}

// target points req at flow f: destination, transport and, for UDP, our
// listening socket as the source so that NAT bindings are reused.
func (s *Server) target(req *sipmsg.Request, f flow) {
	req.SetTransport(sipmsg.NetworkToUpper(f.transport))
	req.SetDestination(f.addr.String())
	if f.transport == "udp" {
		if a := s.Addr("udp"); a != nil {
			if ua, ok := a.(*net.UDPAddr); ok {
				req.Laddr = sipmsg.Addr{IP: ua.IP, Port: ua.Port}
			}
		}
	}
}
