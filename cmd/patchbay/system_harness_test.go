package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	sipmsg "github.com/emiago/sipgo/sip"
)

// The system tests drive the whole server as phones, carriers and tenant
// applications would: real SIP over UDP on loopback, the REST API over
// HTTP, SQLite files in temporary folders. Each phone sends from its own
// loopback address (127.0.0.2, 127.0.0.3 ...), since the SIP guard keys
// its limits on the source IP and Linux routes all of 127.0.0.0/8 to lo.

// sysPasswords are the passwords of the users every test tenant gets.
var sysPasswords = map[string]string{"alice": "Secret-pass1", "bob": "Secret-pass2"}

// tenant is one provisioned account with a SIP domain whose users alice
// and bob may register and call.
type tenant struct {
	sid, token, domain string
}

// apiPost sends a form POST to the REST API as user:pass and decodes the
// JSON answer into out (when not nil); it fails the test unless 2xx.
func apiPost(t *testing.T, base, user, pass, path string, form url.Values, out any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+path,
		strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(user, pass)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		t.Fatalf("POST %s = %d: %s", path, resp.StatusCode, body)
	}
	if out != nil {
		if err := json.Unmarshal(body, out); err != nil {
			t.Fatalf("POST %s: %v in %s", path, err, body)
		}
	}
}

// provision creates an account owning domain, with alice and bob allowed
// to register and call. urls holds the domain's optional application
// fields (VoiceUrl, VoiceFallbackUrl, VoiceStatusCallbackUrl ...): without
// a voice URL calls between the users are proxied, with one they run the
// application.
func provision(t *testing.T, base, domain string, urls url.Values) tenant {
	t.Helper()
	var acct struct {
		SID   string `json:"sid"`
		Token string `json:"auth_token"`
	}
	apiPost(t, base, "admin", testToken, "/2010-04-01/Accounts.json",
		url.Values{"FriendlyName": {domain}}, &acct)
	tn := tenant{sid: acct.SID, token: acct.Token, domain: domain}
	prefix := "/2010-04-01/Accounts/" + acct.SID
	var d, cl struct {
		SID string `json:"sid"`
	}
	form := url.Values{"DomainName": {domain}, "SipRegistration": {"true"}}
	for k, v := range urls {
		form[k] = v
	}
	apiPost(t, base, tn.sid, tn.token, prefix+"/SIP/Domains.json", form, &d)
	apiPost(t, base, tn.sid, tn.token, prefix+"/SIP/CredentialLists.json",
		url.Values{"FriendlyName": {"phones"}}, &cl)
	for user, pw := range sysPasswords {
		apiPost(t, base, tn.sid, tn.token, prefix+"/SIP/CredentialLists/"+cl.SID+
			"/Credentials.json", url.Values{"Username": {user}, "Password": {pw}}, nil)
	}
	for _, kind := range []string{"Registrations", "Calls"} {
		apiPost(t, base, tn.sid, tn.token, prefix+"/SIP/Domains/"+d.SID+"/Auth/"+kind+
			"/CredentialListMappings.json", url.Values{"CredentialListSid": {cl.SID}}, nil)
	}

	return tn
}

// sipAddr is the UDP address of an in-process server's SIP edge.
func (r *running) sipAddr() string { return r.srv.voice.sip.Addr("udp").String() }

// phone is a SIP device on its own UDP socket: it registers, calls through
// Patchbay and answers calls sent to it (200 with SDP), holding them until
// a BYE arrives.
type phone struct {
	t       *testing.T
	ua      *sipgo.UserAgent
	cli     *sipgo.Client
	conn    net.PacketConn
	contact sipmsg.ContactHeader
	target  string // Patchbay's SIP address
	domain  string
	user    string
	pass    string

	invites atomic.Int64 // INVITEs received
	byes    atomic.Int64 // BYEs received
}

// newPhone starts user@domain sending from ip (a loopback address) to
// target. The password defaults to the user's provisioned one.
func newPhone(t *testing.T, ip, target, domain, user string) *phone {
	t.Helper()
	conn, err := net.ListenPacket("udp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatalf("phone socket on %s: %v", ip, err)
	}
	laddr := conn.LocalAddr().(*net.UDPAddr)
	quiet := slog.New(slog.DiscardHandler)
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("patchbay-systest"))
	if err != nil {
		t.Fatal(err)
	}
	cli, err := sipgo.NewClient(ua, sipgo.WithClientLogger(quiet),
		sipgo.WithClientHostname(ip), sipgo.WithClientConnectionAddr(laddr.String()))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sipgo.NewServer(ua, sipgo.WithServerLogger(quiet))
	if err != nil {
		t.Fatal(err)
	}
	p := &phone{t: t, ua: ua, cli: cli, conn: conn, target: target, domain: domain,
		user: user, pass: sysPasswords[user]}
	p.contact = sipmsg.ContactHeader{Address: sipmsg.Uri{Scheme: "sip", User: user,
		Host: ip, Port: laddr.Port}}
	p.answerCalls(srv)
	go srv.ServeUDP(conn)
	t.Cleanup(func() {
		cli.Close()
		ua.Close()
		conn.Close()
	})
	for pool := ua.TransportLayer().Pool("udp"); pool.Get(laddr.String()) == nil; {
		time.Sleep(time.Millisecond)
	}

	return p
}

// answerCalls makes the phone answer every INVITE with 200 and SDP, hand
// ACKs and BYEs to the dialog they belong to, and count both.
func (p *phone) answerCalls(srv *sipgo.Server) {
	dialogs := sipgo.NewDialogServerCache(p.cli, p.contact)
	srv.OnInvite(func(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
		p.invites.Add(1)
		session, err := dialogs.ReadInvite(req, tx)
		if err != nil {
			tx.Respond(sipmsg.NewResponseFromRequest(req, 400, "Bad Request", nil))
			return
		}
		session.RespondSDP(sdpOffer(p.contact.Address.Host, 40002))
	})
	srv.OnAck(func(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
		dialogs.ReadAck(req, tx)
	})
	srv.OnBye(func(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
		p.byes.Add(1)
		if dialogs.ReadBye(req, tx) != nil {
			tx.Respond(sipmsg.NewResponseFromRequest(req, 481, "No Such Dialog", nil))
		}
	})
}

// sdpOffer is a minimal audio offer (PCMU and telephone-event).
func sdpOffer(host string, port int) []byte {
	return fmt.Appendf(nil, "v=0\r\no=- 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n"+
		"m=audio %d RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n"+
		"a=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n", host, host, port)
}

// registerAs sends a REGISTER for the phone's user answering the digest
// challenge with password, and returns the final status code (0 with the
// error when no answer came within the timeout).
func (p *phone) registerAs(ctx context.Context, password string, expires int) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req := sipmsg.NewRequest(sipmsg.REGISTER, sipmsg.Uri{Scheme: "sip", Host: p.domain})
	aor := sipmsg.Uri{Scheme: "sip", User: p.user, Host: p.domain}
	req.AppendHeader(&sipmsg.ToHeader{Address: aor})
	from := &sipmsg.FromHeader{Address: aor, Params: sipmsg.NewParams()}
	from.Params.Add("tag", sipmsg.GenerateTagN(8))
	req.AppendHeader(from)
	contact := p.contact
	req.AppendHeader(&contact)
	req.AppendHeader(sipmsg.NewHeader("Expires", fmt.Sprint(expires)))
	req.SetDestination(p.target)

	res, err := p.cli.Do(ctx, req)
	if err != nil {
		return 0, err
	}
	if res.StatusCode == sipmsg.StatusUnauthorized {
		res, err = p.cli.DoDigestAuth(ctx, req, res,
			sipgo.DigestAuth{Username: p.user, Password: password})
		if err != nil {
			return 0, err
		}
	}

	return int(res.StatusCode), nil
}

// register registers with the phone's own password for 300 s.
func (p *phone) register(ctx context.Context) (int, error) {
	return p.registerAs(ctx, p.pass, 300)
}

// mustRegister fails the test unless the phone registers.
func (p *phone) mustRegister() {
	p.t.Helper()
	if code, err := p.register(p.t.Context()); code != 200 {
		p.t.Fatalf("%s register: %d %v", p.user, code, err)
	}
}

// call invites callee@domain through Patchbay, answering the proxy
// challenge, and acknowledges the answer. It returns the established
// session, or the final status of a refused call (0 when none came).
func (p *phone) call(ctx context.Context, callee string) (*sipgo.DialogClientSession, int,
	error) {
	dua := sipgo.DialogUA{Client: p.cli, ContactHDR: p.contact}
	req := sipmsg.NewRequest(sipmsg.INVITE,
		sipmsg.Uri{Scheme: "sip", User: callee, Host: p.domain})
	from := &sipmsg.FromHeader{Address: sipmsg.Uri{Scheme: "sip", User: p.user,
		Host: p.domain}, Params: sipmsg.NewParams()}
	from.Params.Add("tag", sipmsg.GenerateTagN(8))
	req.AppendHeader(from)
	req.AppendHeader(sipmsg.NewHeader("Content-Type", "application/sdp"))
	req.SetBody(sdpOffer(p.contact.Address.Host, 40000))
	req.SetDestination(p.target)

	session, err := dua.WriteInvite(ctx, req)
	if err != nil {
		return nil, 0, err
	}
	err = session.WaitAnswer(ctx, sipgo.AnswerOptions{Username: p.user, Password: p.pass})
	if err != nil {
		session.Close()
		var refused *sipgo.ErrDialogResponse
		if errors.As(err, &refused) {
			return nil, int(refused.Res.StatusCode), err
		}

		return nil, 0, err
	}
	if err := session.Ack(ctx); err != nil {
		session.Close()
		return nil, 0, err
	}

	return session, 200, nil
}

// callAndHangUp places a call, and hangs it up at once when answered. It
// returns the final status of the INVITE.
func (p *phone) callAndHangUp(ctx context.Context, callee string) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	session, code, err := p.call(ctx, callee)
	if err != nil {
		return code, err
	}
	defer session.Close()

	return 200, session.Bye(ctx)
}

// eventually polls cond every 50 ms until it holds or d passes; it
// reports whether it held.
func eventually(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if cond() {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}

	return cond()
}

// metricValue returns the sum of the samples of metric whose label text
// contains every one of labels, from the server's /metrics.
func (r *running) metricValue(t *testing.T, metric string, labels ...string) float64 {
	t.Helper()
	_, body := r.get(t, "/metrics", false)
	var sum float64
	for line := range strings.SplitSeq(body, "\n") {
		if !strings.HasPrefix(line, metric+"{") && !strings.HasPrefix(line, metric+" ") {
			continue
		}
		ok := true
		for _, l := range labels {
			ok = ok && strings.Contains(line, l)
		}
		var v float64
		if _, err := fmt.Sscan(line[strings.LastIndexByte(line, ' ')+1:], &v); ok && err == nil {
			sum += v
		}
	}

	return sum
}
