package sip

import (
	"context"
	"fmt"

	sipmsg "github.com/emiago/sipgo/sip"

	"github.com/patchbay/patchbay/sip/location"
)

// ContactURI returns this server's Contact URI for transport ("udp",
// "tcp", "tls", "ws"), for the legs call control originates or answers.
func (s *Server) ContactURI(transport string) sipmsg.Uri {
	return s.ourURI(transport, "")
}

// SendToBinding sends req, an out-of-dialog request built by call control
// (From, To, Call-ID, CSeq, Contact, body), to the registered device b over
// the flow its REGISTER came on: Request-URI b.Contact, destination
// b.Received, transport b.Transport and, for UDP, this server's listening
// socket as source (RFC 3581 symmetric response routing through NAT). It
// adds this server's Via and a Max-Forwards when absent, and returns the
// client transaction; the caller reads its responses and ACKs a 2xx.
// Bindings whose connection flow is held by another node fail with
// ErrForeignFlow.
func (s *Server) SendToBinding(ctx context.Context, req *sipmsg.Request, b location.Binding) (
	sipmsg.ClientTransaction, error) {
	if b.Transport != "udp" && b.Node != "" && b.Node != s.cfg.NodeID {
		return nil, fmt.Errorf("%w: %s on %s", ErrForeignFlow, b.AOR, b.Node)
	}
	if s.listenPort(b.Transport) == 0 {
		return nil, fmt.Errorf("%w: %s", ErrNoListener, b.Transport)
	}
	if err := sipmsg.ParseUri(b.Contact, &req.Recipient); err != nil {
		return nil, fmt.Errorf("sip: binding contact %q: %w", b.Contact, err)
	}
	if req.MaxForwards() == nil {
		mf := sipmsg.MaxForwardsHeader(70)
		req.AppendHeader(&mf)
	}
	if req.ContentLength() == nil {
		req.SetBody(req.Body())
	}
	req.RemoveHeader("Via")
	s.addVia(req, b.Transport)
	s.target(req, flow{transport: b.Transport, addr: b.Received})
	tx, err := s.client.TransactionRequest(ctx, req, noBuild)
	if err != nil {
		return nil, fmt.Errorf("sip: send to %s: %w", b.AOR, err)
	}

	return tx, nil
}
