package sip

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	sipmsg "github.com/emiago/sipgo/sip"
	idigest "github.com/icholy/digest"
)

// phone is a small sipgo user agent for tests: it registers (answering
// digest), places calls through the server and answers calls sent to it.
type phone struct {
	t         testing.TB
	ua        *sipgo.UserAgent
	cli       *sipgo.Client
	transport string // "udp" or "tcp"
	laddr     *net.UDPAddr
	port      int
	server    string // host:port of the Patchbay server
	user      string
	domain    string
	password  string
	cseq      uint32
	callID    string

	// answer decides how an incoming INVITE is answered; nil: 180 then 200.
	answer func(req *sipmsg.Request, tx sipmsg.ServerTransaction)

	cancels *atomic.Int32 // CANCEL requests read off the wire

	mu        sync.Mutex
	received  []*sipmsg.Request // requests that reached this phone
	answered  *sipmsg.Request   // the last INVITE answered 200
	answer200 *sipmsg.Response  // and that 200
	got       chan *sipmsg.Request
}

// newPhone starts a phone listening on 127.0.0.1:0 for transport.
func newPhone(t testing.TB, transport, server, user, domain, password string) *phone {
	t.Helper()
	var cancels atomic.Int32
	countCancels := func(_ sipmsg.TransportReadProps, data []byte) ([]byte, error) {
		if bytes.HasPrefix(data, []byte("CANCEL ")) {
			cancels.Add(1)
		}
		return data, nil
	}
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("testphone"),
		sipgo.WithUserAgenTLSConfig(&tls.Config{InsecureSkipVerify: true}),
		sipgo.WithUserAgentTransportLayerOptions(
			sipmsg.WithTransportLayerReadFilter(countCancels)))
	if err != nil {
		t.Fatal(err)
	}
	p := &phone{t: t, ua: ua, transport: transport, cancels: &cancels, server: server, user: user,
		domain: domain, password: password, cseq: 1, callID: sipmsg.GenerateTagN(12),
		got: make(chan *sipmsg.Request, 64)}
	srv, err := sipgo.NewServer(ua)
	if err != nil {
		t.Fatal(err)
	}
	srv.OnNoRoute(p.onRequest)
	p.listen(srv)
	opts := []sipgo.ClientOption{sipgo.WithClientHostname("127.0.0.1")}
	if transport == "udp" {
		opts = append(opts, sipgo.WithClientConnectionAddr(p.laddr.String()))
	}
	if p.cli, err = sipgo.NewClient(ua, opts...); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ua.Close() })

	return p
}

// listen binds the phone's own socket so that it can be called.
func (p *phone) listen(srv *sipgo.Server) {
	p.t.Helper()
	if p.transport == "udp" {
		c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			p.t.Fatal(err)
		}
		p.laddr = c.LocalAddr().(*net.UDPAddr)
		p.port = p.laddr.Port
		go srv.ServeUDP(c)
		p.t.Cleanup(func() { c.Close() })
		for pool := p.ua.TransportLayer().Pool("udp"); pool.Get(p.laddr.String()) == nil; {
			time.Sleep(time.Millisecond)
		}
		return
	}
	if p.transport == "tls" || p.transport == "ws" {
		p.port = 5061 // reached over its own connection only
		return
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		p.t.Fatal(err)
	}
	p.port = l.Addr().(*net.TCPAddr).Port
	go srv.ServeTCP(l)
	p.t.Cleanup(func() { l.Close() })
}

// onRequest records every request and answers it.
func (p *phone) onRequest(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	p.mu.Lock()
	p.received = append(p.received, req)
	p.mu.Unlock()
	select {
	case p.got <- req:
	default:
	}
	switch req.Method {
	case sipmsg.ACK:
	case sipmsg.INVITE:
		p.mu.Lock()
		answer := p.answer
		p.mu.Unlock()
		if answer != nil {
			answer(req, tx)
			return
		}
		ringThenAnswer(p, 0)(req, tx)
	default:
		tx.Respond(sipmsg.NewResponseFromRequest(req, 200, "OK", nil))
	}
}

// setAnswer sets how the phone answers INVITEs.
func (p *phone) setAnswer(f func(*sipmsg.Request, sipmsg.ServerTransaction)) {
	p.mu.Lock()
	p.answer = f
	p.mu.Unlock()
}

// ringThenAnswer answers an INVITE with 180, then after d with 200 and SDP.
func ringThenAnswer(p *phone, d time.Duration) func(*sipmsg.Request, sipmsg.ServerTransaction) {
	return func(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
		tx.Respond(sipmsg.NewResponseFromRequest(req, 180, "Ringing", nil))
		select {
		case <-time.After(d):
		case <-tx.Done():
			return
		}
		res := sipmsg.NewResponseFromRequest(req, 200, "OK", []byte("v=0\r\n"))
		res.AppendHeader(sipmsg.NewHeader("Content-Type", "application/sdp"))
		res.AppendHeader(p.contact())
		p.mu.Lock()
		p.answered, p.answer200 = req, res
		p.mu.Unlock()
		tx.Respond(res)
	}
}

// ringForever answers 180 and waits until the transaction ends. A CANCEL
// (which sipgo answers itself) is reported like a received request.
func (p *phone) ringForever(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	tx.OnCancel(func(c *sipmsg.Request) {
		select {
		case p.got <- c:
		default:
		}
	})
	tx.Respond(sipmsg.NewResponseFromRequest(req, 180, "Ringing", nil))
	<-tx.Done()
}

// answerWith answers an INVITE with code at once.
func answerWith(code int) func(*sipmsg.Request, sipmsg.ServerTransaction) {
	return func(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
		tx.Respond(sipmsg.NewResponseFromRequest(req, code, "Test", nil))
	}
}

// waitFor returns the next request of method that reached the phone.
func (p *phone) waitFor(method sipmsg.RequestMethod, d time.Duration) *sipmsg.Request {
	p.t.Helper()
	deadline := time.After(d)
	for {
		select {
		case req := <-p.got:
			if req.Method == method {
				return req
			}
		case <-deadline:
			p.t.Fatalf("%s: no %s within %s", p.user, method, d)
			return nil
		}
	}
}

// count returns how many requests of method reached the phone.
func (p *phone) count(method sipmsg.RequestMethod) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, r := range p.received {
		if r.Method == method {
			n++
		}
	}

	return n
}

func (p *phone) contact() *sipmsg.ContactHeader {
	params := sipmsg.NewParams()
	params.Add("transport", p.transport)

	return &sipmsg.ContactHeader{Address: sipmsg.Uri{Scheme: "sip", User: p.user,
		Host: "127.0.0.1", Port: p.port, UriParams: params}}
}

// serverURI is the Request-URI user@host aimed at the server's socket.
func (p *phone) request(method sipmsg.RequestMethod, user, host string) *sipmsg.Request {
	params := sipmsg.NewParams()
	params.Add("transport", p.transport)
	req := sipmsg.NewRequest(method, sipmsg.Uri{Scheme: "sip", User: user, Host: host,
		UriParams: params})
	req.SetDestination(p.server)
	req.SetTransport(sipmsg.NetworkToUpper(p.transport))
	from := &sipmsg.FromHeader{Address: sipmsg.Uri{Scheme: "sip", User: p.user, Host: p.domain},
		Params: sipmsg.NewParams()}
	from.Params.Add("tag", sipmsg.GenerateTagN(8))
	req.AppendHeader(from)
	req.AppendHeader(&sipmsg.ToHeader{Address: sipmsg.Uri{Scheme: "sip", User: user, Host: host},
		Params: sipmsg.NewParams()})
	p.cseq++
	req.AppendHeader(&sipmsg.CSeqHeader{SeqNo: p.cseq, MethodName: method})
	req.AppendHeader(p.contact())

	return req
}

// registerReq builds a REGISTER of the phone's AOR with expires seconds.
func (p *phone) registerReq(expires int) *sipmsg.Request {
	req := p.request(sipmsg.REGISTER, p.user, p.domain)
	req.Recipient.User = ""
	cid := sipmsg.CallIDHeader(p.callID)
	req.AppendHeader(&cid)
	if expires >= 0 {
		req.AppendHeader(sipmsg.NewHeader("Expires", strconv.Itoa(expires)))
	}

	return req
}

// do sends req and returns its final response.
func (p *phone) do(req *sipmsg.Request) *sipmsg.Response {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := p.cli.Do(ctx, req)
	if err != nil {
		p.t.Fatalf("%s %s: %v", p.user, req.Method, err)
	}

	return res
}

// authorize adds digest credentials answering the challenge in res
// (algorithm picks the challenge; "" takes the first).
func (p *phone) authorize(req *sipmsg.Request, res *sipmsg.Response, alg string, nc int) {
	p.t.Helper()
	name, answer := "WWW-Authenticate", "Authorization"
	if res.StatusCode == 407 {
		name, answer = "Proxy-Authenticate", "Proxy-Authorization"
	}
	var chal *idigest.Challenge
	for _, h := range res.GetHeaders(name) {
		c, err := idigest.ParseChallenge(h.Value())
		if err != nil {
			p.t.Fatalf("challenge %q: %v", h.Value(), err)
		}
		if alg == "" || c.Algorithm == alg {
			chal = c
			break
		}
	}
	if chal == nil {
		p.t.Fatalf("no %s challenge in %d", alg, res.StatusCode)
	}
	cred, err := idigest.Digest(chal, idigest.Options{Method: string(req.Method),
		URI: req.Recipient.Addr(), Username: p.user, Password: p.password, Count: nc})
	if err != nil {
		p.t.Fatal(err)
	}
	req.RemoveHeader(answer)
	req.AppendHeader(sipmsg.NewHeader(answer, cred.String()))
}

// retry re-sends req with a new CSeq and Via after a challenge.
func (p *phone) retry(req *sipmsg.Request) *sipmsg.Response {
	p.t.Helper()
	p.cseq++
	req.CSeq().SeqNo = p.cseq
	req.RemoveHeader("Via")

	return p.do(req)
}

// register registers the phone for expires seconds, answering a digest
// challenge, and returns the final response.
func (p *phone) register(expires int) *sipmsg.Response {
	p.t.Helper()
	req := p.registerReq(expires)
	res := p.do(req)
	if res.StatusCode != 401 {
		return res
	}
	p.authorize(req, res, "", 1)

	return p.retry(req)
}

// mustRegister registers and fails the test unless the answer is 200.
func (p *phone) mustRegister() {
	p.t.Helper()
	if res := p.register(300); res.StatusCode != 200 {
		p.t.Fatalf("%s register: %d %s", p.user, res.StatusCode, res.Reason)
	}
}

// String names the phone in failures.
func (p *phone) String() string { return fmt.Sprintf("%s@%s/%s", p.user, p.domain, p.transport) }

// invite sends an INVITE to user@host through the server, answering a
// proxy challenge, and returns the request and its transaction.
func (p *phone) invite(user, host string) (*sipmsg.Request, sipmsg.ClientTransaction) {
	p.t.Helper()
	req := p.request(sipmsg.INVITE, user, host)
	cid := sipmsg.CallIDHeader(sipmsg.GenerateTagN(12))
	req.AppendHeader(&cid)
	req.AppendHeader(sipmsg.NewHeader("Content-Type", "application/sdp"))
	req.SetBody([]byte("v=0\r\n"))
	tx := p.send(req)
	first := p.final(tx)
	if first == nil || first.StatusCode != 407 {
		return req, &doneTx{res: first}
	}
	p.authorize(req, first, "", 1)
	p.cseq++
	req.CSeq().SeqNo = p.cseq
	req.RemoveHeader("Via")

	return req, p.send(req)
}

// send starts a client transaction for req.
func (p *phone) send(req *sipmsg.Request) sipmsg.ClientTransaction {
	p.t.Helper()
	tx, err := p.cli.TransactionRequest(context.Background(), req)
	if err != nil {
		p.t.Fatalf("%s %s: %v", p.user, req.Method, err)
	}
	p.t.Cleanup(tx.Terminate)

	return tx
}

// final waits for the final response of tx (nil when it ended without).
func (p *phone) final(tx sipmsg.ClientTransaction) *sipmsg.Response {
	p.t.Helper()
	if d, ok := tx.(*doneTx); ok {
		return d.res
	}
	timeout := time.After(15 * time.Second)
	for {
		select {
		case res := <-tx.Responses():
			if !res.IsProvisional() {
				return res
			}
		case <-tx.Done():
			return nil
		case <-timeout:
			p.t.Fatalf("%s: no final response", p.user)
		}
	}
}

// doneTx stands for a transaction already finished with res.
type doneTx struct {
	sipmsg.ClientTransaction
	res *sipmsg.Response
}

func (d *doneTx) Terminate() {}

// inDialog builds a request within the dialog of the INVITE inv answered
// by res: Request-URI the remote Contact, Route the reversed Record-Route.
func (p *phone) inDialog(method sipmsg.RequestMethod, inv *sipmsg.Request,
	res *sipmsg.Response) *sipmsg.Request {
	p.t.Helper()
	contact := res.Contact()
	if contact == nil {
		p.t.Fatal("2xx without Contact")
	}
	req := sipmsg.NewRequest(method, *contact.Address.Clone())
	rr := res.GetHeaders("Record-Route")
	for i := len(rr) - 1; i >= 0; i-- {
		h := rr[i].(*sipmsg.RecordRouteHeader)
		req.AppendHeader(&sipmsg.RouteHeader{Address: *h.Address.Clone()})
	}
	req.AppendHeader(sipmsg.HeaderClone(inv.From()))
	req.AppendHeader(sipmsg.HeaderClone(res.To()))
	req.AppendHeader(sipmsg.HeaderClone(inv.CallID()))
	seq := inv.CSeq().SeqNo
	if method != sipmsg.ACK {
		p.cseq++
		seq = p.cseq
	}
	req.AppendHeader(&sipmsg.CSeqHeader{SeqNo: seq, MethodName: method})
	req.SetTransport(sipmsg.NetworkToUpper(p.transport))

	return req
}

// ack acknowledges the 2xx res of inv along the route set.
func (p *phone) ack(inv *sipmsg.Request, res *sipmsg.Response) {
	p.t.Helper()
	p.ackSeq(inv, res, inv.CSeq().SeqNo)
}

// ackSeq acknowledges a 2xx to the INVITE with CSeq seq in the dialog
// established by inv and its first 2xx res.
func (p *phone) ackSeq(inv *sipmsg.Request, res *sipmsg.Response, seq uint32) {
	p.t.Helper()
	ack := p.inDialog(sipmsg.ACK, inv, res)
	ack.CSeq().SeqNo = seq
	if err := p.cli.WriteRequest(ack); err != nil {
		p.t.Fatal(err)
	}
}

// calleeRequest builds a request from the callee's side of the dialog the
// phone last answered: Request-URI the caller's Contact, Route the
// Record-Route of the INVITE in order (RFC 3261 12.1.1).
func (p *phone) calleeRequest(method sipmsg.RequestMethod) *sipmsg.Request {
	p.t.Helper()
	p.mu.Lock()
	inv, res := p.answered, p.answer200
	p.mu.Unlock()
	if inv == nil {
		p.t.Fatal("no answered INVITE")
	}
	req := sipmsg.NewRequest(method, *inv.Contact().Address.Clone())
	for _, h := range inv.GetHeaders("Record-Route") {
		rr := h.(*sipmsg.RecordRouteHeader)
		req.AppendHeader(&sipmsg.RouteHeader{Address: *rr.Address.Clone()})
	}
	from := res.To().AsFrom()
	to := inv.From().AsTo()
	req.AppendHeader(&from)
	req.AppendHeader(&to)
	req.AppendHeader(sipmsg.HeaderClone(inv.CallID()))
	p.cseq++
	req.AppendHeader(&sipmsg.CSeqHeader{SeqNo: p.cseq, MethodName: method})
	req.SetTransport(sipmsg.NetworkToUpper(p.transport))

	return req
}
