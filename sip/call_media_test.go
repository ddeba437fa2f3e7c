package sip

import (
	"bytes"
	"context"
	"net"
	"os"
	"regexp"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	sipmsg "github.com/emiago/sipgo/sip"
	"github.com/pion/rtp"

	"github.com/patchbay/patchbay/accounting"
	"github.com/patchbay/patchbay/media"
)

// toneWAV returns d of a 500 Hz square tone as a WAV file.
func toneWAV(t *testing.T, d time.Duration) []byte {
	t.Helper()
	n := int(d / (time.Second / 8000))
	a := &media.Audio{Samples: make([]int16, n)}
	for i := range a.Samples {
		if i%16 < 8 {
			a.Samples[i] = 4000
		} else {
			a.Samples[i] = -4000
		}
	}
	var b bytes.Buffer
	if err := a.EncodeWAV(&b); err != nil {
		t.Fatal(err)
	}

	return b.Bytes()
}

var sdpPort = regexp.MustCompile(`m=audio (\d+) `)

// rtpPeer sends RTP from the UA's media socket to the address of answer.
type rtpPeer struct {
	t    *testing.T
	conn *net.UDPConn
	dst  *net.UDPAddr
	seq  uint16
	ts   uint32
}

func newRTPPeer(t *testing.T, u *ccUA, answer []byte) *rtpPeer {
	t.Helper()
	m := sdpPort.FindSubmatch(answer)
	if m == nil {
		t.Fatalf("no audio port in %q", answer)
	}
	port, _ := strconv.Atoi(string(m[1]))

	return &rtpPeer{t: t, conn: u.rtp, dst: &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1),
		Port: port}}
}

func (p *rtpPeer) send(pt uint8, marker bool, payload []byte) {
	p.seq++
	pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: pt, Marker: marker,
		SequenceNumber: p.seq, Timestamp: p.ts, SSRC: 0x1234abcd}, Payload: payload}
	b, _ := pkt.Marshal()
	p.conn.WriteToUDP(b, p.dst)
}

// audio sends n 20 ms PCMU frames of silence.
func (p *rtpPeer) audio(n int) {
	for range n {
		p.send(0, false, bytes.Repeat([]byte{0xff}, 160))
		p.ts += 160
		time.Sleep(5 * time.Millisecond)
	}
}

// digit sends one RFC 4733 event (payload type 101) of 100 ms.
func (p *rtpPeer) digit(d byte) {
	code := map[byte]byte{'*': 10, '#': 11}[d]
	if d >= '0' && d <= '9' {
		code = d - '0'
	}
	for i := 1; i <= 5; i++ {
		end := byte(0)
		if i == 5 {
			end = 0x80
		}
		dur := uint16(i * 160)
		payload := []byte{code, end | 10, byte(dur >> 8), byte(dur)}
		reps := 1
		if i == 5 {
			reps = 3
		}
		for range reps {
			p.send(101, i == 1, payload)
		}
		time.Sleep(5 * time.Millisecond)
	}
	p.ts += 800
}

// received counts RTP packets arriving at the UA's media socket within d.
func received(u *ccUA, d time.Duration) int { return countRTP(u, d, nil) }

// fromSSRC counts RTP packets of ssrc arriving at the UA within d.
func fromSSRC(u *ccUA, ssrc uint32, d time.Duration) int {
	return countRTP(u, d, func(p *rtp.Packet) bool { return p.SSRC == ssrc })
}

// countRTP counts the packets arriving at the UA's media socket within d
// that match (all of them when match is nil).
func countRTP(u *ccUA, d time.Duration, match func(*rtp.Packet) bool) int {
	n := 0
	buf := make([]byte, 1500)
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		u.rtp.SetReadDeadline(deadline)
		k, _, err := u.rtp.ReadFromUDP(buf)
		if err != nil {
			break
		}
		var p rtp.Packet
		if match == nil || p.Unmarshal(buf[:k]) == nil && match(&p) {
			n++
		}
	}

	return n
}

func TestCallPlayThenHangup(t *testing.T) {
	e := newCCEnv(t)
	e.app.file("/tone.wav", toneWAV(t, 300*time.Millisecond))
	e.app.doc("/voice", `<Response><Play loop="2">/tone.wav</Play><Hangup/></Response>`)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	alice, d := e.answered(ctx, "+14155550100")
	newRTPPeer(t, alice, d.InviteResponse.Body()).audio(2)
	if n := received(alice, 500*time.Millisecond); n < 10 {
		t.Errorf("caller received %d RTP packets of the played file", n)
	}
	waitSignal(t, alice.byes, "the BYE of Hangup")
	p := e.waitCallback("completed")
	if p.Get("CallDuration") == "" {
		t.Errorf("completed callback without CallDuration: %v", p)
	}
}

func TestCallGatherDigits(t *testing.T) {
	tests := []struct {
		name   string
		attrs  string
		press  string
		digits string
	}{
		{"numDigits", `numDigits="2"`, "42", "42"},
		{"finishOnKey", `finishOnKey="#"`, "7#", "7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newCCEnv(t)
			e.app.file("/prompt.wav", toneWAV(t, 2*time.Second))
			e.app.doc("/voice", `<Response><Gather action="/gathered" timeout="3" `+tt.attrs+
				`><Play>/prompt.wav</Play></Gather><Reject/></Response>`)
			e.app.doc("/gathered", `<Response><Hangup/></Response>`)
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			alice, d := e.answered(ctx, "+14155550100")
			peer := newRTPPeer(t, alice, d.InviteResponse.Body())
			peer.audio(3)
			for i := range len(tt.press) {
				peer.digit(tt.press[i])
			}
			got := e.waitRequests("/gathered", 1)
			if got[0].Get("Digits") != tt.digits || got[0].Get("CallStatus") != "in-progress" {
				t.Errorf("gather action = %v, want Digits=%s", got[0], tt.digits)
			}
			waitSignal(t, alice.byes, "the BYE of the action's Hangup")
		})
	}
}

func TestCallGatherTimeoutGoesOn(t *testing.T) {
	e := newCCEnv(t)
	e.app.doc("/voice", `<Response><Gather action="/gathered" timeout="1"><Pause length="0"/>`+
		`</Gather><Hangup/></Response>`)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	alice, _ := e.answered(ctx, "+14155550100")
	waitSignal(t, alice.byes, "the BYE of the verb after Gather")
	if n := len(e.app.requests("/gathered")); n != 0 {
		t.Errorf("action asked %d times without input", n)
	}
}

func TestCallRecord(t *testing.T) {
	e := newCCEnv(t)
	e.app.doc("/voice", `<Response><Record action="/recorded" maxLength="10" `+
		`playBeep="false"/></Response>`)
	e.app.doc("/recorded", `<Response><Hangup/></Response>`)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	alice, d := e.answered(ctx, "+14155550100")
	peer := newRTPPeer(t, alice, d.InviteResponse.Body())
	peer.audio(50)
	peer.digit('#')
	got := e.waitRequests("/recorded", 1)[0]
	sid := got.Get("RecordingSid")
	if got.Get("Digits") != "#" || !validRecordingSID(sid) ||
		got.Get("RecordingUrl") != "http://api.test/2010-04-01/Accounts/"+e.acct.SID+
			"/Recordings/"+sid+".wav" {
		t.Fatalf("record action = %v", got)
	}
	wav, err := os.ReadFile(e.dir + "/recordings/" + e.acct.SID + "/" + sid + ".wav")
	if err != nil || len(wav) < 44 || string(wav[:4]) != "RIFF" {
		t.Fatalf("recording file: %d bytes, %v", len(wav), err)
	}
	e.waitUsage(accounting.CatRecordings, 1)
	e.waitUsage(accounting.CatRecordingMinutes, 1)
	waitSignal(t, alice.byes, "the BYE after recording")
}

func TestCallGatherSIPInfoDigits(t *testing.T) {
	e := newCCEnv(t)
	e.app.doc("/voice", `<Response><Gather action="/gathered" numDigits="3" timeout="3">`+
		`<Pause length="5"/></Gather></Response>`)
	e.app.doc("/gathered", `<Response><Hangup/></Response>`)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	alice, d := e.answered(ctx, "+14155550100")
	for _, digit := range []string{"1", "*", "9"} {
		info := sipmsg.NewRequest(sipmsg.INFO, d.InviteResponse.Contact().Address)
		info.SetBody([]byte("Signal=" + digit + "\r\nDuration=160\r\n"))
		info.AppendHeader(sipmsg.NewHeader("Content-Type", "application/dtmf-relay"))
		if res, err := d.Do(ctx, info); err != nil || res.StatusCode != 200 {
			t.Fatalf("INFO: %v %v", res, err)
		}
	}
	if got := e.waitRequests("/gathered", 1)[0].Get("Digits"); got != "1*9" {
		t.Errorf("Digits = %q, want 1*9", got)
	}
	waitSignal(t, alice.byes, "the BYE of the action's Hangup")
}

func TestCallDialHangupOnStar(t *testing.T) {
	e := newCCEnv(t)
	bob := newCCUA(t, "bob")
	e.app.doc("/voice", `<Response><Dial hangupOnStar="true" action="/after"><Sip>`+
		bob.uri("bob")+`</Sip></Dial></Response>`)
	e.app.doc("/after", `<Response><Hangup/></Response>`)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	alice, d := e.answered(ctx, "+14155550100")
	peer := newRTPPeer(t, alice, d.InviteResponse.Body())
	peer.audio(3)
	peer.digit('*')
	waitSignal(t, bob.byes, "the callee's BYE after *")
	if after := e.waitRequests("/after", 1); after[0].Get("DialCallStatus") != "completed" {
		t.Errorf("action = %v", after[0])
	}
	waitSignal(t, alice.byes, "the caller's BYE of the action's Hangup")
}

func TestCallDialRecord(t *testing.T) {
	e := newCCEnv(t)
	bob := newCCUA(t, "bob")
	e.app.doc("/voice", `<Response><Dial record="record-from-answer" action="/after"><Sip>`+
		bob.uri("bob")+`</Sip></Dial></Response>`)
	e.app.doc("/after", `<Response><Hangup/></Response>`)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	alice, d := e.answered(ctx, "+14155550100")
	newRTPPeer(t, alice, d.InviteResponse.Body()).audio(25)
	d.Bye(ctx)
	after := e.waitRequests("/after", 1)[0]
	sid := after.Get("RecordingSid")
	if !validRecordingSID(sid) || after.Get("RecordingUrl") == "" {
		t.Fatalf("action without recording: %v", after)
	}
	if _, err := os.Stat(e.dir + "/recordings/" + e.acct.SID + "/" + sid + ".wav"); err != nil {
		t.Error(err)
	}
}

// TestCallPlayAfterDial checks that a caller whose dialled party hung up is
// re-anchored (re-INVITE without SDP) and hears the action's Play.
func TestCallPlayAfterDial(t *testing.T) {
	e := newCCEnv(t)
	bob := newCCUA(t, "bob")
	var bobDialog atomic.Pointer[sipgo.DialogServerSession]
	bob.setAnswer(func(d *sipgo.DialogServerSession) {
		bobDialog.Store(d)
		d.RespondSDP(bob.sdp())
	})
	e.app.file("/tone.wav", toneWAV(t, 400*time.Millisecond))
	e.app.doc("/voice", `<Response><Dial action="/after"><Sip>`+bob.uri("bob")+
		`</Sip></Dial></Response>`)
	e.app.doc("/after", `<Response><Play>/tone.wav</Play><Hangup/></Response>`)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	alice, _ := e.answered(ctx, "+14155550100")
	time.Sleep(50 * time.Millisecond)
	if err := bobDialog.Load().Bye(ctx); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(alice.invitesSeen()) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	reinv := alice.invitesSeen()
	if len(reinv) != 1 || len(reinv[0].Body()) != 0 {
		t.Fatalf("caller got %d re-INVITEs (want one without SDP)", len(reinv))
	}
	if n := received(alice, 400*time.Millisecond); n < 5 {
		t.Errorf("caller received %d RTP packets after the re-anchor", n)
	}
	waitSignal(t, alice.byes, "the BYE of the action's Hangup")
}

// TestCallDialAnswerOnBridgeFalse: with answerOnBridge="false" the caller
// is answered before the callee, hears ringback from Patchbay while the
// callee rings, and then the callee's audio once it answers.
func TestCallDialAnswerOnBridgeFalse(t *testing.T) {
	e := newCCEnv(t)
	bob := newCCUA(t, "bob")
	ringing, pickUp := make(chan struct{}), make(chan struct{})
	bob.setAnswer(func(d *sipgo.DialogServerSession) {
		d.Respond(180, "Ringing", nil)
		close(ringing)
		select {
		case <-pickUp:
			d.RespondSDP(bob.sdp())
		case <-d.Context().Done():
		}
	})
	e.app.doc("/voice", `<Response><Dial answerOnBridge="false"><Sip>`+bob.uri("bob")+
		`</Sip></Dial></Response>`)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	alice, d := e.answered(ctx, "+14155550100") // returns while bob still rings
	waitSignal(t, ringing, "the callee to ring")
	if n := received(alice, 300*time.Millisecond); n < 8 {
		t.Fatalf("caller got %d RTP packets of ringback in 300 ms", n)
	}
	close(pickUp)
	deadline := time.Now().Add(5 * time.Second)
	for len(bob.invitesSeen()) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	bobRTP := newRTPPeer(t, bob, bob.invitesSeen()[0].Body())
	go bobRTP.audio(40)
	if n := fromSSRC(alice, 0x1234abcd, time.Second); n < 5 {
		t.Errorf("caller got %d RTP packets from the callee after the bridge", n)
	}
	d.Bye(ctx)
	waitSignal(t, bob.byes, "the callee's BYE")
}
