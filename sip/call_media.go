package sip

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/patchbay/patchbay/accounting"
	"github.com/patchbay/patchbay/media"
	"github.com/patchbay/patchbay/sip/markup"
	"github.com/patchbay/patchbay/sip/webhook"
	"github.com/patchbay/patchbay/tenancy"
)

// maxAudioBytes caps an audio file fetched for Play.
const maxAudioBytes = 16 << 20

// errNoMedia reports a media verb on a call without a usable endpoint.
var errNoMedia = errors.New("sip: media endpoint unavailable for this call")

// answerLocal answers the caller with Patchbay as the far end, once. A
// caller whose media was relayed to a dialled leg that has since left is
// re-anchored on a fresh session first.
func (c *call) answerLocal(ctx context.Context) error {
	c.mu.Lock()
	local, answered, bridged := c.localAnswered, !c.answered.IsZero(), c.bridged
	c.mu.Unlock()
	sess := c.msess()
	switch {
	case local && !bridged:
		return nil
	case answered && bridged:
		return c.reanchor(ctx)
	case answered || sess == nil || sess.Mode() != media.ModeRelay:
		return errNoMedia
	}
	ans, err := sess.AnswerLocal(c.offer)
	if err != nil {
		return fmt.Errorf("sip: answer: %w", err)
	}
	c.mu.Lock()
	c.localAnswered = true
	c.mu.Unlock()

	return c.answerWith(ans)
}

// reanchor moves an answered caller from a finished bridge to a new media
// session with Patchbay as the far end: a re-INVITE without SDP draws a
// fresh offer from the caller (RFC 3264 section 5, RFC 3261 section 14),
// answered locally in the ACK. The old session is closed.
func (c *call) reanchor(ctx context.Context) error {
	if c.parent.isGone() || c.msess() == nil {
		return errNoMedia
	}
	sess, err := c.cc.newSession(ctx, c)
	if err != nil {
		return err
	}
	if sess == nil || sess.Mode() != media.ModeRelay {
		if sess != nil {
			sess.Close()
		}

		return errNoMedia
	}
	offer, err := c.parent.reinvite(ctx)
	if err != nil {
		sess.Close()

		return fmt.Errorf("sip: re-anchor: %w", err)
	}
	ans, aerr := sess.AnswerLocal(offer)
	if err := c.parent.ackReinvite(ans); err != nil || aerr != nil {
		sess.Close()

		return fmt.Errorf("sip: re-anchor: %w", errors.Join(aerr, err))
	}
	if old := c.sessp.Swap(sess); old != nil {
		old.Close()
	}
	c.mu.Lock()
	c.localAnswered, c.bridged = true, false
	c.mu.Unlock()

	return nil
}

// play runs Play: the file (fetched over HTTP) loop times, or digits.
func (c *call) play(ctx context.Context, doc *webhook.Document, p *markup.Play) error {
	if err := c.answerLocal(ctx); err != nil {
		return err
	}
	if p.Digits != "" {
		return c.sendDigits(ctx, p.Digits)
	}
	audio, err := c.fetchAudio(ctx, doc.URL, p.URL)
	if err != nil {
		return err
	}
	loops := p.Loop
	if loops == 0 {
		loops = 1000
	}
	for range loops {
		if err := c.msess().Play(ctx, audio); err != nil {
			return ignoreEnd(ctx, err)
		}
	}

	return nil
}

// ignoreEnd drops errors caused by the verb being interrupted.
func ignoreEnd(ctx context.Context, err error) error {
	if ctx.Err() != nil || errors.Is(err, media.ErrSessionClosed) {
		return nil
	}

	return err
}

// sendDigits sends DTMF; 'w' waits half a second.
func (c *call) sendDigits(ctx context.Context, digits string) error {
	for _, part := range strings.FieldsFunc(digits, func(r rune) bool {
		return r == 'w' || r == 'W'
	}) {
		if err := c.msess().SendDTMF(ctx, part, 0); err != nil {
			return ignoreEnd(ctx, err)
		}
	}
	pauseFor(ctx, time.Duration(strings.Count(strings.ToLower(digits), "w"))*500*time.Millisecond)

	return nil
}

// fetchAudio downloads ref (resolved against the document) and decodes it:
// WAV, or raw mu-law (.ulaw, .mulaw, .ul, audio/basic) or A-law (.alaw).
func (c *call) fetchAudio(ctx context.Context, base, ref string) (*media.Audio, error) {
	u, err := webhook.ResolveURL(base, ref)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("sip: play %s: %w", u, err)
	}
	defer res.Body.Close()
	if res.StatusCode/100 != 2 {
		return nil, fmt.Errorf("sip: play %s: status %d", u, res.StatusCode)
	}
	b, err := io.ReadAll(io.LimitReader(res.Body, maxAudioBytes+1))
	if err != nil || len(b) > maxAudioBytes {
		return nil, fmt.Errorf("sip: play %s: unreadable or larger than %d bytes", u,
			maxAudioBytes)
	}
	ct := res.Header.Get("Content-Type")
	lower := strings.ToLower(u)
	switch {
	case strings.HasSuffix(lower, ".alaw") || strings.Contains(ct, "pcma"):
		return &media.Audio{Samples: decodeG711(b, alawSample)}, nil
	case strings.HasSuffix(lower, ".ulaw") || strings.HasSuffix(lower, ".mulaw") ||
		strings.HasSuffix(lower, ".ul") || strings.Contains(ct, "basic") ||
		strings.Contains(ct, "pcmu"):
		return &media.Audio{Samples: decodeG711(b, ulawSample)}, nil
	}

	return media.ParseWAV(b)
}

// gather runs Gather: nested Play/Pause while collecting DTMF.
func (c *call) gather(ctx context.Context, doc *webhook.Document,
	g *markup.Gather) (*webhook.Document, bool, error) {
	if err := c.answerLocal(ctx); err != nil {
		return nil, false, err
	}
	// Digits typed ahead during earlier prompts count; those of a bridged
	// conversation do not.
	c.mu.Lock()
	bridged := c.bridged
	c.mu.Unlock()
	if bridged {
		drainDTMF(c.msess())
	}
	digits := make(chan rune, 64)
	cctx, stopCollect := context.WithCancel(ctx)
	defer stopCollect()
	go c.collectDTMF(cctx, digits)
	pctx, stopPrompt := context.WithCancel(ctx)
	defer stopPrompt()
	promptDone := make(chan error, 1)
	go func() { promptDone <- c.prompt(pctx, doc, g.Nested) }()

	got, key := c.readDigits(ctx, g, digits, promptDone, stopPrompt)
	if ctx.Err() != nil {
		return nil, c.ctx.Err() != nil, nil
	}
	if got == "" && key == "" {
		return nil, false, nil
	}
	u, err := webhook.ResolveURL(doc.URL, g.Action)
	if err != nil {
		return nil, false, err
	}
	extra := map[string][]string{"Digits": {got}}
	if key != "" && key != "numDigits" {
		extra["FinishedOnKey"] = []string{key}
	}
	next, err := c.fetch(ctx, u, g.Method, extra)

	return next, false, err
}

// readDigits collects digits until numDigits, finishOnKey or the timeout
// after the prompt (or the last digit). It returns the digits and what
// ended the input: the finish key, "numDigits", or "" for a timeout.
func (c *call) readDigits(ctx context.Context, g *markup.Gather, digits <-chan rune,
	promptDone <-chan error, stopPrompt func()) (string, string) {
	var got strings.Builder
	var timer <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return got.String(), ""
		case <-promptDone:
			promptDone = nil
			timer = time.After(g.Timeout)
		case <-timer:
			return got.String(), ""
		case d := <-digits:
			stopPrompt()
			if g.FinishOnKey != "" && string(d) == g.FinishOnKey {
				return got.String(), g.FinishOnKey
			}
			got.WriteRune(d)
			if g.NumDigits > 0 && got.Len() >= g.NumDigits {
				return got.String(), "numDigits"
			}
			timer = time.After(g.Timeout)
		}
	}
}

// prompt plays Gather's nested verbs.
func (c *call) prompt(ctx context.Context, doc *webhook.Document, nested []markup.Verb) error {
	for _, v := range nested {
		switch t := v.(type) {
		case *markup.Play:
			if err := c.play(ctx, doc, t); err != nil {
				return err
			}
		case *markup.Pause:
			pauseFor(ctx, t.Length)
		}
		if ctx.Err() != nil {
			return nil
		}
	}

	return nil
}

// collectDTMF forwards the caller's digits until ctx ends.
func (c *call) collectDTMF(ctx context.Context, out chan<- rune) {
	for {
		select {
		case <-ctx.Done():
			return
		case ev := <-c.msess().DTMF():
			if ev.Leg != media.LegA {
				continue
			}
			select {
			case out <- ev.Digit:
			default:
			}
		}
	}
}

func drainDTMF(s *media.Session) {
	for {
		select {
		case <-s.DTMF():
		default:
			return
		}
	}
}

// record runs Record: the caller is recorded until a finish key, the
// maximum length or the caller hanging up; the file is kept in the
// recordings directory and the action told its URL.
func (c *call) record(ctx context.Context, doc *webhook.Document,
	r *markup.Record) (*webhook.Document, bool, error) {
	if c.cc.cfg.RecordingsDir == "" || !c.recordingAllowed(ctx) {
		return nil, false, errors.New("sip: recording is not configured or not enabled")
	}
	if err := c.answerLocal(ctx); err != nil {
		return nil, false, err
	}
	if r.PlayBeep {
		c.msess().Play(ctx, beepTone())
	}
	drainDTMF(c.msess())
	rec, err := c.msess().StartRecording(r.MaxLength)
	if err != nil {
		return nil, false, err
	}
	key := c.waitRecordEnd(ctx, r)
	rsid := randomSID("RE")
	dur, err := c.saveRecording(rec, rsid)
	if err != nil {
		return nil, false, err
	}
	u, err := webhook.ResolveURL(doc.URL, r.Action)
	if err != nil {
		return nil, false, err
	}
	extra := map[string][]string{
		"RecordingSid": {rsid}, "RecordingUrl": {c.recordingURL(rsid)},
		"RecordingDuration": {strconv.Itoa(int(dur.Round(time.Second) / time.Second))},
		"Digits":            {key},
	}
	fctx := ctx
	if c.ctx.Err() != nil {
		var cancel context.CancelFunc
		fctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), teardownTimeout)
		defer cancel()
	}
	next, err := c.fetch(fctx, u, r.Method, extra)
	if c.ctx.Err() != nil {
		return nil, true, nil
	}

	return next, false, err
}

// waitRecordEnd returns the finish key pressed, or "hangup" / "" when the
// caller left or the maximum length passed.
func (c *call) waitRecordEnd(ctx context.Context, r *markup.Record) string {
	limit := time.NewTimer(r.MaxLength)
	defer limit.Stop()
	for {
		select {
		case <-ctx.Done():
			return "hangup"
		case <-limit.C:
			return ""
		case ev := <-c.msess().DTMF():
			if ev.Leg == media.LegA && strings.ContainsRune(r.FinishOnKey, ev.Digit) {
				return string(ev.Digit)
			}
		}
	}
}

func (c *call) saveRecording(rec *media.Recording, rsid string) (time.Duration, error) {
	dir := filepath.Join(c.cc.cfg.RecordingsDir, c.acct.SID)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return 0, fmt.Errorf("sip: recordings: %w", err)
	}
	f, err := os.CreateTemp(dir, rsid+".*.tmp")
	if err != nil {
		return 0, fmt.Errorf("sip: recordings: %w", err)
	}
	dur, err := rec.Stop(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), filepath.Join(dir, rsid+".wav"))
	}
	if err != nil {
		os.Remove(f.Name())

		return 0, fmt.Errorf("sip: recordings: %w", err)
	}
	c.meter(accounting.CatRecordings, 1, 1)
	c.meter(accounting.CatRecordingMinutes, 1, int64(dur/time.Second))

	return dur, nil
}

func (c *call) recordingURL(rsid string) string {
	return c.cc.cfg.APIBaseURL + "/2010-04-01/Accounts/" + c.acct.SID + "/Recordings/" +
		rsid + ".wav"
}

// recordingAllowed reports whether the account's recording service is on.
func (c *call) recordingAllowed(ctx context.Context) bool {
	svc, err := c.cc.cfg.Directory.ServiceSetting(ctx, c.acct.SID, tenancy.ServiceRecording)

	return err == nil && svc.Enabled
}

// beepTone is a half-second 1 kHz tone.
func beepTone() *media.Audio {
	const n = 4000
	s := make([]int16, n)
	for i := range s {
		// A square-ish 1 kHz wave: 8 samples per period at 8 kHz.
		if i%8 < 4 {
			s[i] = 8000
		} else {
			s[i] = -8000
		}
	}

	return &media.Audio{Samples: s}
}
