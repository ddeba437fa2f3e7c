package sip

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	sipmsg "github.com/emiago/sipgo/sip"

	"github.com/patchbay/patchbay/tenancy"
)

// answered places a call from a new caller UA and returns its confirmed
// dialog.
func (e *ccEnv) answered(ctx context.Context, to string) (*ccUA, *sipgo.DialogClientSession) {
	e.t.Helper()
	alice := newCCUA(e.t, "alice")
	d, err := alice.call(ctx, e.addr, to)
	if err != nil {
		e.t.Fatal(err)
	}
	if err := d.WaitAnswer(ctx, sipgo.AnswerOptions{}); err != nil {
		e.t.Fatalf("caller not answered: %v", err)
	}
	if err := d.Ack(ctx); err != nil {
		e.t.Fatal(err)
	}

	return alice, d
}

func waitSignal(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(5 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
}

func TestCallCallerCancelsWhileRinging(t *testing.T) {
	e := newCCEnv(t)
	bob := newCCUA(t, "bob")
	cancelled := make(chan struct{})
	bob.setAnswer(func(d *sipgo.DialogServerSession) {
		d.Respond(180, "Ringing", nil)
		<-d.Context().Done()
		close(cancelled)
	})
	e.app.doc("/voice", `<Response><Dial action="/after"><Sip>`+bob.uri("bob")+
		`</Sip></Dial></Response>`)
	alice := newCCUA(t, "alice")
	d, err := alice.call(t.Context(), e.addr, "+14155550100")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	rang := make(chan struct{}, 1)
	go func() {
		<-rang
		cancel()
	}()
	err = d.WaitAnswer(ctx, sipgo.AnswerOptions{OnResponse: func(r *sipmsg.Response) error {
		if r.StatusCode == 180 {
			rang <- struct{}{}
		}

		return nil
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("WaitAnswer = %v, want cancelled", err)
	}
	waitSignal(t, cancelled, "the dialled leg to be cancelled")
	p := e.waitCallback("canceled")
	if after := e.app.requests("/after"); len(after) != 1 ||
		after[0].Get("DialCallStatus") != "canceled" {
		t.Errorf("action requests = %v", after)
	}
	if c := e.cdr(p.Get("CallSid")); c.Status != "canceled" {
		t.Errorf("parent cdr status %s", c.Status)
	}
}

func TestCallCalleeHangsUpFirstContinues(t *testing.T) {
	e := newCCEnv(t)
	bob := newCCUA(t, "bob")
	var bobDialog atomic.Pointer[sipgo.DialogServerSession]
	bob.setAnswer(func(d *sipgo.DialogServerSession) {
		bobDialog.Store(d)
		d.RespondSDP(bob.sdp())
	})
	e.app.doc("/voice", `<Response><Dial action="/after"><Sip>`+bob.uri("bob")+
		`</Sip></Dial><Reject/></Response>`)
	e.app.doc("/after", `<Response><Hangup/></Response>`)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	alice, _ := e.answered(ctx, "+14155550100")
	time.Sleep(50 * time.Millisecond)
	if err := bobDialog.Load().Bye(ctx); err != nil {
		t.Fatalf("callee bye: %v", err)
	}
	waitSignal(t, alice.byes, "the caller's BYE after the action's Hangup")
	after := e.app.requests("/after")
	if len(after) != 1 || after[0].Get("DialCallStatus") != "completed" ||
		after[0].Get("CallStatus") != "in-progress" {
		t.Errorf("action requests = %v", after)
	}
	e.waitCallback("completed")
}

func TestCallDialTimeLimit(t *testing.T) {
	e := newCCEnv(t)
	bob := newCCUA(t, "bob")
	e.app.doc("/voice", `<Response><Dial timeLimit="1" action="/after"><Sip>`+
		bob.uri("bob")+`</Sip></Dial></Response>`)
	e.app.doc("/after", `<Response><Hangup/></Response>`)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	alice, _ := e.answered(ctx, "+14155550100")
	waitSignal(t, bob.byes, "the time limit's BYE to the callee")
	waitSignal(t, alice.byes, "the caller's BYE")
	after := e.app.requests("/after")
	if len(after) != 1 || after[0].Get("DialCallDuration") != "1" {
		t.Errorf("action requests = %v", after)
	}
}

func TestCallInDialogRequestsRelayed(t *testing.T) {
	e := newCCEnv(t)
	bob := newCCUA(t, "bob")
	e.app.doc("/voice", `<Response><Dial><Sip>`+bob.uri("bob")+`</Sip></Dial></Response>`)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	alice, d := e.answered(ctx, "+14155550100")

	reinvite := sipmsg.NewRequest(sipmsg.INVITE, d.InviteResponse.Contact().Address)
	reinvite.SetBody([]byte(strings.ReplaceAll(string(alice.sdp()), "sendrecv", "sendonly")))
	reinvite.AppendHeader(sipmsg.NewHeader("Content-Type", "application/sdp"))
	res, err := d.Do(ctx, reinvite)
	if err != nil || res.StatusCode != 200 || len(res.Body()) == 0 {
		t.Fatalf("re-INVITE: %v %v", res, err)
	}
	if n := len(bob.invitesSeen()); n != 2 {
		t.Errorf("callee saw %d INVITEs, want the re-INVITE relayed", n)
	}
	info := sipmsg.NewRequest(sipmsg.INFO, d.InviteResponse.Contact().Address)
	info.SetBody([]byte("Signal=5\r\nDuration=160\r\n"))
	info.AppendHeader(sipmsg.NewHeader("Content-Type", "application/dtmf-relay"))
	if res, err := d.Do(ctx, info); err != nil || res.StatusCode != 200 {
		t.Fatalf("INFO: %v %v", res, err)
	}
	infos := bob.infosSeen()
	if len(infos) != 1 || string(infos[0].Body()) != "Signal=5\r\nDuration=160\r\n" {
		t.Errorf("callee INFOs = %v", infos)
	}
	update := sipmsg.NewRequest(sipmsg.UPDATE, d.InviteResponse.Contact().Address)
	update.SetBody(alice.sdp())
	update.AppendHeader(sipmsg.NewHeader("Content-Type", "application/sdp"))
	if res, err := d.Do(ctx, update); err != nil || res.StatusCode != 200 ||
		len(res.Body()) == 0 {
		t.Fatalf("UPDATE: %v %v", res, err)
	}
	if got := bob.infosSeen(); len(got) != 2 || got[1].Method != sipmsg.UPDATE {
		t.Errorf("callee did not get the UPDATE: %v", got)
	}
	if err := d.Bye(ctx); err != nil {
		t.Fatal(err)
	}
	waitSignal(t, bob.byes, "the callee's BYE")
	e.waitCallback("completed")
}

func TestCallEarlyMediaPassedThrough(t *testing.T) {
	e := newCCEnv(t)
	bob := newCCUA(t, "bob")
	bob.setAnswer(func(d *sipgo.DialogServerSession) {
		d.Respond(183, "Session Progress", bob.sdp(),
			sipmsg.NewHeader("Content-Type", "application/sdp"))
		time.Sleep(100 * time.Millisecond)
		d.RespondSDP(bob.sdp())
	})
	e.app.doc("/voice", `<Response><Dial><Sip>`+bob.uri("bob")+`</Sip></Dial></Response>`)
	ctx, d := callNumber(t, e)
	var early []byte
	err := d.WaitAnswer(ctx, sipgo.AnswerOptions{OnResponse: func(r *sipmsg.Response) error {
		if r.StatusCode == 183 {
			early = r.Body()
		}

		return nil
	}})
	if err != nil || len(early) == 0 {
		t.Fatalf("answer %v, early media SDP %q", err, early)
	}
	if string(early) == string(bob.sdp()) {
		t.Error("early SDP not rewritten by the relay")
	}
	d.Ack(ctx)
	d.Bye(ctx)
	e.waitCallback("completed")
}

func TestCallParallelFirstAnswerWins(t *testing.T) {
	e := newCCEnv(t)
	bob, carol := newCCUA(t, "bob"), newCCUA(t, "carol")
	bobCancelled := make(chan struct{})
	bob.setAnswer(func(d *sipgo.DialogServerSession) {
		d.Respond(180, "Ringing", nil)
		<-d.Context().Done()
		close(bobCancelled)
	})
	e.app.doc("/voice", `<Response><Dial action="/after"><Sip>`+bob.uri("bob")+`</Sip><Sip>`+
		carol.uri("carol")+`</Sip></Dial></Response>`)
	e.app.doc("/after", `<Response><Hangup/></Response>`)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	_, d := e.answered(ctx, "+14155550100")
	waitSignal(t, bobCancelled, "the losing leg's CANCEL")
	d.Bye(ctx)
	waitSignal(t, carol.byes, "the winner's BYE")
	after := e.waitRequests("/after", 1)
	if len(after) != 1 || after[0].Get("DialCallStatus") != "completed" {
		t.Errorf("action = %v", after)
	}
}

func TestCallClientRegistered(t *testing.T) {
	e := newCCEnv(t)
	bob := newCCUA(t, "bob")
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := bob.register(ctx, e.addr, "bob"); err != nil {
		t.Fatal(err)
	}
	e.app.doc("/voice", `<Response><Dial><Client>bob</Client></Dial></Response>`)
	_, d := e.answered(ctx, "+14155550100")
	if n := len(bob.invitesSeen()); n != 1 {
		t.Fatalf("registered client got %d INVITEs", n)
	}
	d.Bye(ctx)
	waitSignal(t, bob.byes, "the client's BYE")
}

func TestCallNumberViaTrunkFailsOver(t *testing.T) {
	e := newCCEnv(t)
	down, bob := newCCUA(t, "down"), newCCUA(t, "bob")
	down.setAnswer(answerCode(503))
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	tk, err := e.store.CreateTrunk(ctx, &tenancy.Trunk{AccountSID: e.acct.SID,
		FriendlyName: "carrier"})
	if err != nil {
		t.Fatal(err)
	}
	for i, u := range []*ccUA{down, bob} {
		_, err := e.store.CreateOriginationURI(ctx, e.acct.SID, &tenancy.OriginationURI{
			TrunkSID: tk.SID, SIPURL: u.uri("x"), Priority: 10 * (i + 1), Weight: 10,
			Enabled: true})
		if err != nil {
			t.Fatal(err)
		}
	}
	e.app.doc("/voice", `<Response><Dial callerId="+14155550111"><Number>+1 415 555 0123`+
		`</Number></Dial></Response>`)
	_, d := e.answered(ctx, "+14155550100")
	if len(down.invitesSeen()) != 1 || len(bob.invitesSeen()) != 1 {
		t.Fatalf("INVITEs: first target %d, second %d", len(down.invitesSeen()),
			len(bob.invitesSeen()))
	}
	inv := bob.invitesSeen()[0]
	if inv.Recipient.User != "+14155550123" || inv.From().Address.User != "+14155550111" {
		t.Errorf("trunk INVITE to %q from %q", inv.Recipient.User, inv.From().Address.User)
	}
	d.Bye(ctx)
	waitSignal(t, bob.byes, "the callee's BYE")
}

func TestCallNumberRefusedByAllowedPrefixes(t *testing.T) {
	e := newCCEnv(t)
	bob := newCCUA(t, "bob")
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	tk, _ := e.store.CreateTrunk(ctx, &tenancy.Trunk{AccountSID: e.acct.SID})
	e.store.CreateOriginationURI(ctx, e.acct.SID, &tenancy.OriginationURI{TrunkSID: tk.SID,
		SIPURL: bob.uri("x"), Priority: 10, Weight: 10, Enabled: true})
	e.store.SetLimits(ctx, e.acct.SID, func(l *tenancy.Limits) error {
		l.AllowedPrefixes = []string{"+44"}

		return nil
	})
	e.app.doc("/voice", `<Response><Dial action="/after"><Number>+14155550123</Number>`+
		`</Dial></Response>`)
	e.app.doc("/after", `<Response><Reject reason="busy"/></Response>`)
	alice := newCCUA(t, "alice")
	d, _ := alice.call(ctx, e.addr, "+14155550100")
	if code := failureCode(d.WaitAnswer(ctx, sipgo.AnswerOptions{})); code != 486 {
		t.Fatalf("caller got %d", code)
	}
	if len(bob.invitesSeen()) != 0 {
		t.Error("a number outside the allowed prefixes was dialled")
	}
	if after := e.app.requests("/after"); len(after) != 1 ||
		after[0].Get("DialCallStatus") != "failed" {
		t.Errorf("action = %v", after)
	}
}

func TestCallAdmissionLimits(t *testing.T) {
	e := newCCEnv(t)
	bob := newCCUA(t, "bob")
	bob.setAnswer(ringForeverUA)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	e.store.SetLimits(ctx, e.acct.SID, func(l *tenancy.Limits) error {
		l.ConcurrentCalls = 1

		return nil
	})
	e.app.doc("/voice", `<Response><Dial><Sip>`+bob.uri("bob")+`</Sip></Dial></Response>`)
	alice := newCCUA(t, "alice")
	first, _ := alice.call(ctx, e.addr, "+14155550100")
	rang := make(chan struct{}, 1)
	go first.WaitAnswer(ctx, sipgo.AnswerOptions{OnResponse: func(r *sipmsg.Response) error {
		if r.StatusCode == 180 {
			rang <- struct{}{}
		}

		return nil
	}})
	waitSignal(t, rang, "the first call to ring")
	second, _ := alice.call(ctx, e.addr, "+14155550100")
	err := second.WaitAnswer(ctx, sipgo.AnswerOptions{})
	var re *sipgo.ErrDialogResponse
	if !errors.As(err, &re) || re.Res.StatusCode != 503 ||
		re.Res.GetHeader("Retry-After") == nil {
		t.Fatalf("second call: %v, want 503 with Retry-After", err)
	}
	if n := e.cc.ActiveCalls(); n != 1 {
		t.Errorf("active calls = %d", n)
	}
}

func TestCallControlCloseHangsUpCalls(t *testing.T) {
	e := newCCEnv(t)
	bob := newCCUA(t, "bob")
	e.app.doc("/voice", `<Response><Dial><Sip>`+bob.uri("bob")+`</Sip></Dial></Response>`)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	alice, _ := e.answered(ctx, "+14155550100")
	if err := e.cc.Close(); err != nil {
		t.Fatal(err)
	}
	waitSignal(t, alice.byes, "the caller's BYE at Close")
	waitSignal(t, bob.byes, "the callee's BYE at Close")
	if n := e.cc.ActiveCalls(); n != 0 {
		t.Errorf("%d calls live after Close", n)
	}
	e.cc.Close()
}

func TestEndAccountCalls(t *testing.T) {
	e := newCCEnv(t)
	bob := newCCUA(t, "bob")
	e.app.doc("/voice", `<Response><Dial><Sip>`+bob.uri("bob")+`</Sip></Dial></Response>`)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	alice, _ := e.answered(ctx, "+14155550100")
	if n := e.cc.EndAccountCalls("AC00000000000000000000000000000000"); n != 0 {
		t.Errorf("ended %d calls of another account", n)
	}
	if n := e.cc.EndAccountCalls(e.acct.SID); n != 1 {
		t.Fatalf("ended %d calls, want 1", n)
	}
	waitSignal(t, alice.byes, "the caller's BYE")
	waitSignal(t, bob.byes, "the callee's BYE")
	p := e.waitCallback("completed")
	if c := e.cdr(p.Get("CallSid")); c.Cause != "limit" {
		t.Errorf("cdr cause %s, want limit", c.Cause)
	}
}

func TestCallNumberSendDigits(t *testing.T) {
	e := newCCEnv(t)
	bob := newCCUA(t, "bob")
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	tk, _ := e.store.CreateTrunk(ctx, &tenancy.Trunk{AccountSID: e.acct.SID})
	e.store.CreateOriginationURI(ctx, e.acct.SID, &tenancy.OriginationURI{TrunkSID: tk.SID,
		SIPURL: bob.uri("x"), Priority: 10, Weight: 10, Enabled: true})
	e.app.doc("/voice", `<Response><Dial><Number sendDigits="1w#">+14155550123</Number>`+
		`</Dial></Response>`)
	_, d := e.answered(ctx, "+14155550100")
	deadline := time.Now().Add(5 * time.Second)
	for len(bob.infosSeen()) < 2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	var got []string
	for _, r := range bob.infosSeen() {
		got = append(got, strings.Fields(string(r.Body()))[0])
	}
	if strings.Join(got, " ") != "Signal=1 Signal=#" {
		t.Errorf("callee INFOs = %v", got)
	}
	d.Bye(ctx)
}
