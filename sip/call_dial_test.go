package sip

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo"

	"github.com/patchbay/patchbay/accounting"
	"github.com/patchbay/patchbay/tenancy"
)

func TestCallDialSipBridgesAndCompletes(t *testing.T) {
	e := newCCEnv(t)
	bob := newCCUA(t, "bob")
	e.app.doc("/voice", `<Response><Dial action="/dialed"><Sip>`+bob.uri("bob")+
		`</Sip></Dial></Response>`)
	e.app.doc("/dialed", `<Response><Hangup/></Response>`)
	ctx, d := callNumber(t, e)
	if err := d.WaitAnswer(ctx, sipgo.AnswerOptions{}); err != nil {
		t.Fatalf("caller not answered: %v", err)
	}
	if err := d.Ack(ctx); err != nil {
		t.Fatal(err)
	}
	invites := bob.invitesSeen()
	if n := len(invites); n != 1 {
		t.Fatalf("callee saw %d INVITEs", n)
	}
	if src := invites[0].Source(); src != e.addr {
		t.Errorf("INVITE sent from %s, want the listening socket %s", src, e.addr)
	}
	time.Sleep(100 * time.Millisecond)
	if err := d.Bye(ctx); err != nil {
		t.Fatalf("bye: %v", err)
	}
	select {
	case <-bob.byes:
	case <-ctx.Done():
		t.Fatal("callee got no BYE")
	}
	p := e.waitCallback("completed")
	if p.Get("AccountSid") != e.acct.SID || p.Get("Direction") != "inbound" ||
		p.Get("SequenceNumber") != "0" || p.Get("CallbackSource") != "call-progress-events" {
		t.Errorf("completed callback = %v", p)
	}
	voice := e.app.requests("/voice")
	if len(voice) != 1 || voice[0].Get("To") != "+14155550100" ||
		voice[0].Get("From") != "sip:alice@acme.test" || voice[0].Get("CallStatus") != "ringing" {
		t.Errorf("voice request = %v", voice)
	}
	dialed := e.app.requests("/dialed")
	if len(dialed) != 1 || dialed[0].Get("DialCallStatus") != "completed" ||
		dialed[0].Get("DialCallSid") == "" || dialed[0].Get("DialSipResponseCode") != "200" {
		t.Fatalf("action request = %v", dialed)
	}
	for _, path := range []string{"/voice", "/dialed", "/status"} {
		if !e.app.signedWith(path, e.acct.AuthToken) {
			t.Errorf("requests to %s not signed with the account's token", path)
		}
	}
	parent := e.cdr(p.Get("CallSid"))
	child := e.cdr(dialed[0].Get("DialCallSid"))
	if parent.Status != "completed" || child.Status != "completed" ||
		child.ParentSID != parent.SID || child.Direction != "outbound-dial" {
		t.Errorf("cdrs: parent %+v child %+v", parent, child)
	}
}
func TestCallSecondDialAfterBusy(t *testing.T) {
	e := newCCEnv(t)
	busy, bob := newCCUA(t, "busy"), newCCUA(t, "bob")
	busy.setAnswer(answerCode(486))
	e.app.doc("/voice", `<Response><Dial><Sip>`+busy.uri("busy")+`</Sip></Dial><Dial><Sip>`+
		bob.uri("bob")+`</Sip></Dial></Response>`)
	ctx, d := callNumber(t, e)
	if err := d.WaitAnswer(ctx, sipgo.AnswerOptions{}); err != nil {
		t.Fatalf("second Dial did not connect: %v", err)
	}
	d.Ack(ctx)
	d.Bye(ctx)
	waitSignal(t, bob.byes, "bye")
}

func TestOriginationURIs(t *testing.T) {
	ou := func(uri string, prio, weight int, on bool) tenancy.OriginationURI {
		return tenancy.OriginationURI{SIPURL: uri, Priority: prio, Weight: weight, Enabled: on}
	}
	trunk := &tenancy.Trunk{OriginationURIs: []tenancy.OriginationURI{
		ou("sip:c.example.com", 20, 10, true),
		ou("sip:a.example.com", 10, 90, true),
		ou("sip:b.example.com", 10, 10, true),
		ou("sip:off.example.com", 1, 10, false),
		ou("sips:tls.example.com", 30, 10, true),
	}}
	firstA := 0
	for range 400 {
		got := originationURIs(trunk, "+14155550123")
		if len(got) != 4 || got[2].Host != "c.example.com" || got[3].Host != "tls.example.com" {
			t.Fatalf("order = %v", got)
		}
		if got[0].User != "+14155550123" {
			t.Fatalf("number not set: %v", got[0])
		}
		if got[0].Host == "a.example.com" {
			firstA++
		}
	}
	// Weight 90 against 10: a.example.com leads about 90% of the time.
	if firstA < 320 || firstA > 395 {
		t.Errorf("weight 90 URI first %d of 400 times", firstA)
	}
	trunk.Secure = true
	if got := originationURIs(trunk, "+1"); len(got) != 1 || got[0].Host != "tls.example.com" {
		t.Errorf("secure trunk kept %v", got)
	}
}

// TestCallPeerToPeerMedia checks an account whose media_relay service is
// set to peer_to_peer: SDP passes between the legs untouched.
func TestCallPeerToPeerMedia(t *testing.T) {
	e := newCCEnv(t)
	e.store.SetService(t.Context(), e.acct.SID, tenancy.ServiceMediaRelay,
		func(s *tenancy.Service) error {
			s.Options = map[string]string{"media_mode": "peer_to_peer"}

			return nil
		})
	bob := newCCUA(t, "bob")
	e.app.doc("/voice", `<Response><Dial><Sip>`+bob.uri("bob")+`</Sip></Dial></Response>`)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	alice, d := e.answered(ctx, "+14155550100")
	if got := string(bob.invitesSeen()[0].Body()); got != string(alice.sdp()) {
		t.Errorf("callee got a rewritten offer:\n%s", got)
	}
	if got := string(d.InviteResponse.Body()); got != string(bob.sdp()) {
		t.Errorf("caller got a rewritten answer:\n%s", got)
	}
	d.Bye(ctx)
	p := e.waitCallback("completed")
	if c := e.cdr(p.Get("CallSid")); c.MediaMode != "peer_to_peer" {
		t.Errorf("cdr media mode %q", c.MediaMode)
	}
}

// TestCallSRTPServiceOff checks that with the account's srtp service off
// the dialled leg is offered plain RTP although the caller offered SDES.
func TestCallSRTPServiceOff(t *testing.T) {
	tests := []struct {
		name    string
		on      bool
		wantKey bool // the callee's offer carries a=crypto
	}{{"srtp on mirrors", true, true}, {"srtp off is plain", false, false}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newCCEnv(t)
			e.store.SetService(t.Context(), e.acct.SID, tenancy.ServiceSRTP,
				func(s *tenancy.Service) error { s.Enabled = tt.on; return nil })
			bob := newCCUA(t, "bob")
			bob.setAnswer(func(d *sipgo.DialogServerSession) { d.Respond(486, "Busy", nil) })
			e.app.doc("/voice", `<Response><Dial><Sip>`+bob.uri("bob")+`</Sip></Dial></Response>`)
			alice := newCCUA(t, "alice")
			alice.srtp = true
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			d, _ := alice.call(ctx, e.addr, "+14155550100")
			d.WaitAnswer(ctx, sipgo.AnswerOptions{})
			invites := bob.invitesSeen()
			if len(invites) != 1 {
				t.Fatalf("callee saw %d INVITEs", len(invites))
			}
			offer := string(invites[0].Body())
			if got := strings.Contains(offer, "a=crypto"); got != tt.wantKey {
				t.Errorf("callee offer has a=crypto %v, want %v", got, tt.wantKey)
			}
		})
	}
}

// TestCallDialPortsExhausted checks that a Dial finding no free media
// ports refuses the caller with 503 and Retry-After, so that a carrier can
// try another route, and that the callee is never rung.
func TestCallDialPortsExhausted(t *testing.T) {
	e := newCCEnvPorts(t, 47100, 47101) // one pair: the caller's side takes it
	bob := newCCUA(t, "bob")
	rung := make(chan struct{}, 1)
	bob.setAnswer(func(d *sipgo.DialogServerSession) {
		rung <- struct{}{}
		d.Respond(486, "Busy Here", nil)
	})
	e.app.doc("/voice", `<Response><Dial><Sip>`+bob.uri("bob")+`</Sip></Dial></Response>`)
	ctx, d := callNumber(t, e)
	err := d.WaitAnswer(ctx, sipgo.AnswerOptions{})
	var re *sipgo.ErrDialogResponse
	if !errors.As(err, &re) || re.Res.StatusCode != 503 {
		t.Fatalf("caller got %v, want 503", err)
	}
	if h := re.Res.GetHeader("Retry-After"); h == nil || h.Value() == "" {
		t.Errorf("503 without Retry-After: %v", re.Res)
	}
	e.waitCallback("completed")
	select {
	case <-rung:
		t.Error("the callee was rung without media ports")
	default:
	}
}

// TestCallDialSecondAnswerDropped: when two targets of a Dial both answer,
// the one that lost is acknowledged and hung up at once and its CDR closed
// as canceled; no dialled leg is left up or open. (Before, the loser got a
// BYE attempt without its ACK, which sipgo refuses: the callee stayed up
// and the leg's CDR open.)
func TestCallDialSecondAnswerDropped(t *testing.T) {
	e := newCCEnv(t)
	bob, carol := newCCUA(t, "bob"), newCCUA(t, "carol")
	e.app.doc("/voice", `<Response><Dial><Sip>`+bob.uri("bob")+`</Sip><Sip>`+
		carol.uri("carol")+`</Sip></Dial></Response>`)
	ctx, d := callNumber(t, e)
	if err := d.WaitAnswer(ctx, sipgo.AnswerOptions{}); err != nil {
		t.Fatalf("caller not answered: %v", err)
	}
	d.Ack(ctx)
	// Whichever answered second gets its BYE now, the other at the end.
	select {
	case <-bob.byes:
	case <-carol.byes:
	case <-time.After(5 * time.Second):
		t.Fatal("the losing callee got no BYE")
	}
	d.Bye(ctx)
	select {
	case <-bob.byes:
	case <-carol.byes:
	case <-time.After(5 * time.Second):
		t.Fatal("the winning callee got no BYE")
	}
	p := e.waitCallback("completed")
	deadline := time.Now().Add(5 * time.Second)
	for {
		legs, _, err := e.ledger.ListCDRs(ctx, accounting.CDRFilter{
			ParentSID: p.Get("CallSid")})
		if err != nil {
			t.Fatal(err)
		}
		statuses := map[accounting.Status]int{}
		open := 0
		for _, l := range legs {
			statuses[l.Status]++
			if l.Open() {
				open++
			}
		}
		if len(legs) == 2 && open == 0 {
			if statuses[accounting.StatusCompleted] != 1 || statuses[accounting.StatusCanceled] != 1 {
				t.Errorf("dialled legs %v, want one completed and one canceled", statuses)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d dialled legs, %d still open", len(legs), open)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
