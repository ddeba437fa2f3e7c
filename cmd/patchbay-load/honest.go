package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"time"

	"github.com/emiago/sipgo"
	sipmsg "github.com/emiago/sipgo/sip"
)

// honestConfig is one honest device pair: a caller that registers and calls,
// and a callee that registers and answers.
type honestConfig struct {
	target, domain         string
	user, password         string
	callee, calleePassword string
	count                  int
	interval               time.Duration
	timeout                time.Duration
}

// runHonest registers and calls repeatedly, as a well-behaved phone would,
// and reports the success rate and latency of each.
func runHonest(ctx context.Context, args []string) error {
	var c honestConfig
	fs := flag.NewFlagSet("honest", flag.ContinueOnError)
	fs.StringVar(&c.target, "target", "127.0.0.1:5060", "server address (host:port, UDP)")
	fs.StringVar(&c.domain, "domain", "", "SIP domain of the account")
	fs.StringVar(&c.user, "user", "", "caller's user name")
	fs.StringVar(&c.password, "password", "", "caller's password")
	fs.StringVar(&c.callee, "callee", "", "callee's user name (registered by this tool)")
	fs.StringVar(&c.calleePassword, "callee-password", "", "callee's password")
	fs.IntVar(&c.count, "count", 100, "rounds of register + call")
	fs.DurationVar(&c.interval, "interval", 100*time.Millisecond, "pause between rounds")
	fs.DurationVar(&c.timeout, "timeout", 5*time.Second, "deadline of each request")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if c.domain == "" || c.user == "" || c.callee == "" || c.count <= 0 {
		return errors.New("honest: -domain, -user, -callee and a positive -count are required")
	}

	callee, err := startCallee(ctx, c)
	if err != nil {
		return err
	}
	defer callee.Close()
	// Remove the callee's binding on the way out, so that later runs do
	// not fork their calls to this closed socket too.
	defer callee.register(context.WithoutCancel(ctx), c, c.callee, c.calleePassword, 0)
	caller, err := newDevice(c.target)
	if err != nil {
		return err
	}
	defer caller.Close()

	var regs, calls latencies
	for round := 0; round < c.count && ctx.Err() == nil; round++ {
		regs.record(timed(func() error {
			return caller.register(ctx, c, c.user, c.password, 300)
		}))
		calls.record(timed(func() error { return caller.call(ctx, c) }))
		time.Sleep(c.interval)
	}
	fmt.Printf("honest: registrations %s\n", regs.summary())
	fmt.Printf("honest: calls %s\n", calls.summary())
	if regs.failed > 0 || calls.failed > 0 {
		return fmt.Errorf("honest: %d registrations and %d calls failed; last error: %v",
			regs.failed, calls.failed, errors.Join(regs.lastErr, calls.lastErr))
	}

	return nil
}

// device is one SIP user agent on its own UDP socket, client and server.
type device struct {
	ua      *sipgo.UserAgent
	client  *sipgo.Client
	server  *sipgo.Server
	conn    net.PacketConn
	contact sipmsg.ContactHeader
	cseq    uint32
}

func newDevice(target string) (*device, error) {
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("honest: %w", err)
	}
	addr := conn.LocalAddr().(*net.UDPAddr)
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("patchbay-load"))
	if err != nil {
		conn.Close()

		return nil, err
	}
	quiet := slog.New(slog.DiscardHandler)
	client, err := sipgo.NewClient(ua, sipgo.WithClientLogger(quiet),
		sipgo.WithClientConnectionAddr(addr.String()))
	if err != nil {
		ua.Close()

		return nil, err
	}
	server, err := sipgo.NewServer(ua, sipgo.WithServerLogger(quiet))
	if err != nil {
		ua.Close()

		return nil, err
	}
	go server.ServeUDP(conn)
	if err := awaitListener(ua, addr.String()); err != nil {
		ua.Close()
		conn.Close()

		return nil, err
	}

	d := &device{ua: ua, client: client, server: server, conn: conn}
	d.contact = sipmsg.ContactHeader{Address: sipmsg.Uri{
		Scheme: "sip", Host: addr.IP.String(), Port: addr.Port}}

	return d, nil
}

// awaitListener waits until the transport layer serves the socket, so that
// the client sends from it instead of binding its address a second time.
func awaitListener(ua *sipgo.UserAgent, addr string) error {
	for range 200 {
		if c, _ := ua.TransportLayer().GetConnection("udp", addr); c != nil {
			return nil
		}
		time.Sleep(5 * time.Millisecond)
	}

	return fmt.Errorf("honest: udp socket %s not served", addr)
}

func (d *device) Close() {
	d.client.Close()
	d.ua.Close()
	d.conn.Close()
}

// register sends a REGISTER for user@domain for expires seconds (0
// removes the binding), answering the digest challenge.
func (d *device) register(ctx context.Context, c honestConfig, user, password string,
	expires int) error {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()

	req := sipmsg.NewRequest(sipmsg.REGISTER, sipmsg.Uri{Scheme: "sip", Host: c.domain})
	aor := sipmsg.Uri{Scheme: "sip", User: user, Host: c.domain}
	req.AppendHeader(&sipmsg.ToHeader{Address: aor})
	req.AppendHeader(&sipmsg.FromHeader{Address: aor, Params: newTag()})
	contact := d.contact
	contact.Address.User = user
	req.AppendHeader(&contact)
	req.AppendHeader(sipmsg.NewHeader("Expires", strconv.Itoa(expires)))
	req.SetDestination(c.target)

	res, err := d.client.Do(ctx, req)
	if err != nil {
		return err
	}
	if res.StatusCode == sipmsg.StatusUnauthorized || res.StatusCode == sipmsg.StatusProxyAuthRequired {
		res, err = d.client.DoDigestAuth(ctx, req, res,
			sipgo.DigestAuth{Username: user, Password: password})
		if err != nil {
			return err
		}
	}
	if res.StatusCode != sipmsg.StatusOK {
		return fmt.Errorf("register %s: %d %s", user, res.StatusCode, res.Reason)
	}

	return nil
}

// call invites the callee through the server, waits for the answer, then
// acknowledges and hangs up.
func (d *device) call(ctx context.Context, c honestConfig) error {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()

	dua := sipgo.DialogUA{Client: d.client, ContactHDR: d.contact}
	req := sipmsg.NewRequest(sipmsg.INVITE, sipmsg.Uri{Scheme: "sip", User: c.callee, Host: c.domain})
	from := sipmsg.Uri{Scheme: "sip", User: c.user, Host: c.domain}
	req.AppendHeader(&sipmsg.FromHeader{Address: from, Params: newTag()})
	req.AppendHeader(sipmsg.NewHeader("Content-Type", "application/sdp"))
	req.SetBody(offerSDP(d.contact.Address.Host, 40000))
	req.SetDestination(c.target)

	session, err := dua.WriteInvite(ctx, req)
	if err != nil {
		return fmt.Errorf("invite: %w", err)
	}
	defer session.Close()
	err = session.WaitAnswer(ctx, sipgo.AnswerOptions{Username: c.user, Password: c.password})
	if err != nil {
		return fmt.Errorf("invite: %w", err)
	}
	if err := session.Ack(ctx); err != nil {
		return fmt.Errorf("ack: %w", err)
	}

	return session.Bye(ctx)
}

// startCallee registers the callee and answers every INVITE with 200 OK.
func startCallee(ctx context.Context, c honestConfig) (*device, error) {
	d, err := newDevice(c.target)
	if err != nil {
		return nil, err
	}
	// The cache hands each ACK and BYE to its dialog; without it the
	// answer would be retransmitted for 32s and every BYE refused.
	dialogs := sipgo.NewDialogServerCache(d.client, d.contact)
	d.server.OnInvite(func(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
		session, err := dialogs.ReadInvite(req, tx)
		if err != nil {
			tx.Respond(sipmsg.NewResponseFromRequest(req, 400, "Bad Request", nil))

			return
		}
		session.RespondSDP(offerSDP(d.contact.Address.Host, 40002))
	})
	d.server.OnAck(func(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
		dialogs.ReadAck(req, tx)
	})
	d.server.OnBye(func(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
		if dialogs.ReadBye(req, tx) != nil {
			tx.Respond(sipmsg.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
		}
	})
	if err := d.register(ctx, c, c.callee, c.calleePassword, 300); err != nil {
		d.Close()

		return nil, fmt.Errorf("callee: %w", err)
	}

	return d, nil
}

func newTag() sipmsg.HeaderParams {
	p := sipmsg.NewParams()
	p.Add("tag", strconv.FormatInt(time.Now().UnixNano(), 36))

	return p
}

func offerSDP(host string, port int) []byte {
	return fmt.Appendf(nil, "v=0\r\no=- 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n"+
		"m=audio %d RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n"+
		"a=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n", host, host, port)
}

// latencies collects the outcome of repeated operations.
type latencies struct {
	ok      []time.Duration
	failed  int
	lastErr error
}

func timed(op func() error) (time.Duration, error) {
	start := time.Now()
	err := op()

	return time.Since(start), err
}

func (l *latencies) record(d time.Duration, err error) {
	if err != nil {
		l.failed++
		l.lastErr = err

		return
	}
	l.ok = append(l.ok, d)
}

func (l *latencies) summary() string {
	total := len(l.ok) + l.failed
	if len(l.ok) == 0 {
		return fmt.Sprintf("0/%d succeeded", total)
	}
	slices.Sort(l.ok)
	pct := func(p float64) time.Duration { return l.ok[int(p*float64(len(l.ok)-1))] }

	return fmt.Sprintf("%d/%d succeeded (%.2f%%), latency p50 %s p99 %s max %s",
		len(l.ok), total, 100*float64(len(l.ok))/float64(total),
		pct(0.5).Round(time.Microsecond), pct(0.99).Round(time.Microsecond),
		l.ok[len(l.ok)-1].Round(time.Microsecond))
}
