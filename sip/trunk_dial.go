package sip

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	sipmsg "github.com/emiago/sipgo/sip"
	idigest "github.com/icholy/digest"

	"github.com/patchbay/patchbay/tenancy"
)

// dialTarget runs one INVITE transaction (two with a digest answer) against
// target t.
func (s *Server) dialTarget(ctx context.Context, trunk *tenancy.Trunk, orig *sipmsg.Request,
	t target, progress func(*sipmsg.Response)) (*TrunkCall, error) {
	req := s.targetRequest(orig, t)
	authed := false
	for {
		tx, err := s.client.TransactionRequest(ctx, req, noBuild)
		if err != nil {
			return nil, refuse(errServiceUnavailable, err)
		}
		res, err := s.awaitFinal(ctx, tx, req, progress)
		switch {
		case err != nil:
			return nil, err
		case res.IsSuccess():
			return &TrunkCall{Request: req, Response: res, Target: t.orig}, nil
		case (res.StatusCode == 401 || res.StatusCode == 407) && !authed &&
			trunk.AuthUsername != "":
			if err := answerChallenge(req, res, trunk); err != nil {
				return nil, refuse(responseError(res), err)
			}
			authed = true
			req.CSeq().SeqNo++
			req.RemoveHeader("Via")
			s.addVia(req, t.transport)
			continue
		}
		return nil, responseError(res)
	}
}

// targetRequest copies orig for target t: Request-URI on the target host,
// To host likewise when To names the number, a Via of this server.
func (s *Server) targetRequest(orig *sipmsg.Request, t target) *sipmsg.Request {
	req := orig.Clone()
	consumeCredentials(req)
	uri := *t.uri.Clone()
	uri.User = orig.Recipient.User
	req.Recipient = uri
	if to := req.To(); to != nil && to.Address.User == uri.User {
		to.Address.Host, to.Address.Port = uri.Host, uri.Port
	}
	if req.MaxForwards() == nil {
		mf := sipmsg.MaxForwardsHeader(70)
		req.AppendHeader(&mf)
	}
	if req.ContentLength() == nil {
		req.SetBody(req.Body())
	}
	req.RemoveHeader("Via")
	s.addVia(req, t.transport)
	port := uri.Port
	if port == 0 {
		port = sipmsg.DefaultPort(t.transport)
	}
	req.SetTransport(sipmsg.NetworkToUpper(t.transport))
	req.SetDestination(net.JoinHostPort(uri.Host, strconv.Itoa(port)))
	if t.transport == "udp" {
		if a, ok := s.Addr("udp").(*net.UDPAddr); ok {
			req.Laddr = sipmsg.Addr{IP: a.IP, Port: a.Port}
		}
	}

	return req
}

// awaitFinal waits for tx's final response. No response at all within
// TrunkTimeout, a transaction timeout or a transport error is a failover
// condition (408 or 503).
func (s *Server) awaitFinal(ctx context.Context, tx sipmsg.ClientTransaction,
	req *sipmsg.Request, progress func(*sipmsg.Response)) (*sipmsg.Response, error) {
	first := time.NewTimer(s.cfg.TrunkTimeout)
	defer first.Stop()
	provisional := false
	for {
		select {
		case res := <-tx.Responses():
			first.Stop()
			if !res.IsProvisional() {
				return res, nil
			}
			provisional = true
			if res.StatusCode > 100 && progress != nil {
				progress(res)
			}
		case <-tx.Done():
			if errors.Is(tx.Err(), sipmsg.ErrTransactionTransport) {
				return nil, refuse(errServiceUnavailable, tx.Err())
			}
			return nil, refuse(errTimeout, fmt.Errorf("%w: %w", errNoAnswer, tx.Err()))
		case <-first.C:
			if !provisional {
				tx.Terminate()
				return nil, refuse(errTimeout, errNoAnswer)
			}
		case <-ctx.Done():
			s.abandon(tx, req, provisional)
			return nil, ctx.Err()
		}
	}
}

// abandon ends an INVITE client transaction nobody waits for any more:
// CANCEL once it is proceeding (RFC 3261 9.1), then drain its responses
// until it ends or cancelGrace passes.
func (s *Server) abandon(tx sipmsg.ClientTransaction, req *sipmsg.Request, proceeding bool) {
	if !proceeding {
		tx.Terminate()
		return
	}
	s.cancelBranch(s.ctx, &branch{req: req, tx: tx})
	go func() {
		deadline := time.NewTimer(cancelGrace)
		defer deadline.Stop()
		for {
			select {
			case <-tx.Responses():
			case <-tx.Done():
				return
			case <-deadline.C:
				tx.Terminate()
				return
			}
		}
	}()
}

// answerChallenge adds the trunk's digest answer to req for the challenge
// in res (the first with an algorithm we support).
func answerChallenge(req *sipmsg.Request, res *sipmsg.Response, trunk *tenancy.Trunk) error {
	name, answer := "WWW-Authenticate", "Authorization"
	if res.StatusCode == 407 {
		name, answer = "Proxy-Authenticate", "Proxy-Authorization"
	}
	for _, h := range res.GetHeaders(name) {
		chal, err := idigest.ParseChallenge(h.Value())
		if err != nil {
			continue
		}
		chal.Algorithm = strings.ToUpper(chal.Algorithm)
		cred, err := idigest.Digest(chal, idigest.Options{Method: string(req.Method),
			URI: req.Recipient.Addr(), Username: trunk.AuthUsername,
			Password: trunk.AuthPassword})
		if err != nil {
			continue
		}
		req.RemoveHeader(answer)
		req.AppendHeader(sipmsg.NewHeader(answer, cred.String()))
		return nil
	}

	return errors.New("sip: no usable digest challenge")
}
