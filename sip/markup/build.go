package markup

import (
	"strings"
	"time"
)

// builder turns the node tree into typed verbs.
type builder struct {
	lim     Limits
	ignored []string
}

// unsupportedVerbs are CPaaS verbs Patchbay knows of but does not run.
var unsupportedVerbs = map[string]bool{
	"Connect": true, "Echo": true, "Enqueue": true, "Leave": true, "Message": true,
	"Pay": true, "Prompt": true, "Queue": true, "Refer": true, "Sms": true,
	"Start": true, "Stop": true,
}

func (b *builder) response(root *node) (*Response, error) {
	if root.name != "Response" {
		return nil, docError("line %d: root element is <%s>, want <Response>", root.line, root.name)
	}
	if root.content() != "" {
		return nil, docError("line %d: text directly inside <Response>", root.line)
	}
	resp := &Response{Verbs: make([]Verb, 0, len(root.children))}
	for _, n := range root.children {
		v, err := b.verb(n)
		if err != nil {
			return nil, err
		}
		resp.Verbs = append(resp.Verbs, v)
	}
	resp.Ignored = b.ignored

	return resp, nil
}

func (b *builder) verb(n *node) (Verb, error) {
	switch n.name {
	case "Dial":
		return b.dial(n)
	case "Hangup":
		return b.hangup(n)
	case "Reject":
		return b.reject(n)
	case "Redirect":
		return b.redirect(n)
	case "Pause":
		return b.pause(n)
	case "Play":
		return b.play(n)
	case "Say":
		return b.say(n)
	case "Gather":
		return b.gather(n)
	case "Record":
		return b.record(n)
	}

	return nil, unknownVerb(n, "Response")
}

func unknownVerb(n *node, parent string) *Error {
	reason := "not a verb Patchbay knows"
	if unsupportedVerbs[n.name] {
		reason = "verb not supported by Patchbay"
	}
	if parent != "Response" {
		reason = "not allowed inside <" + parent + ">"
	}

	return &Error{Code: CodeUnknownVerb, Verb: n.name, Line: n.line, Reason: reason,
		Err: ErrUnknownVerb}
}

// bare checks that a verb without content has neither text nor children.
func bare(n *node) error {
	if len(n.children) > 0 {
		return unknownVerb(n.children[0], n.name)
	}
	if n.content() != "" {
		return attrError(n.name, "", n.content(), n.line, "verb takes no text")
	}

	return nil
}

func (b *builder) hangup(n *node) (Verb, error) {
	if err := b.attrs(n).done(); err != nil {
		return nil, err
	}

	return &Hangup{}, bare(n)
}

func (b *builder) reject(n *node) (Verb, error) {
	a := b.attrs(n)
	r := &Reject{Reason: "rejected"}
	if v, ok := a.take("reason"); ok {
		switch v {
		case "rejected", "busy":
			r.Reason = v
		default:
			a.fail("reason", v, "must be rejected or busy")
		}
	}
	if err := a.done(); err != nil {
		return nil, err
	}

	return r, b.noChildren(n)
}

func (b *builder) redirect(n *node) (Verb, error) {
	a := b.attrs(n)
	r := &Redirect{Method: a.method("method"), URL: n.content()}
	if err := a.done(); err != nil {
		return nil, err
	}
	if r.URL == "" {
		return nil, attrError(n.name, "", "", n.line, "URL missing")
	}
	if reason := checkURL(r.URL); reason != "" {
		return nil, attrError(n.name, "", r.URL, n.line, reason)
	}

	return r, b.noChildren(n)
}

func (b *builder) pause(n *node) (Verb, error) {
	a := b.attrs(n)
	p := &Pause{Length: a.seconds("length", time.Second, 0, 600)}
	if err := a.done(); err != nil {
		return nil, err
	}

	return p, bare(n)
}

func (b *builder) noChildren(n *node) error {
	if len(n.children) > 0 {
		return unknownVerb(n.children[0], n.name)
	}

	return nil
}

func (b *builder) play(n *node) (Verb, error) {
	a := b.attrs(n)
	p := &Play{
		Loop:   a.integer("loop", 1, 0, maxPlayLoop),
		Digits: a.text("digits", maxDigitsLength),
		URL:    n.content(),
	}
	if p.Digits != "" && !onlyChars(p.Digits, "0123456789*#wW") {
		a.fail("digits", p.Digits, "digits must be 0-9, *, # or w")
	}
	if err := a.done(); err != nil {
		return nil, err
	}
	switch {
	case p.URL == "" && p.Digits == "":
		return nil, attrError(n.name, "", "", n.line, "needs a URL or digits")
	case p.URL != "" && p.Digits != "":
		return nil, attrError(n.name, "", p.URL, n.line, "takes a URL or digits, not both")
	case p.URL != "":
		if reason := checkURL(p.URL); reason != "" {
			return nil, attrError(n.name, "", p.URL, n.line, reason)
		}
	}

	return p, b.noChildren(n)
}

func (b *builder) say(n *node) (Verb, error) {
	if !b.lim.SpeechEngine {
		return nil, &Error{Code: CodeSpeechUnsupported, Verb: n.name, Line: n.line,
			Reason: "text-to-speech is not available", Err: ErrSpeechUnsupported}
	}
	a := b.attrs(n)
	s := &Say{
		Text: n.content(), Loop: a.integer("loop", 1, 0, maxPlayLoop),
		Voice: a.text("voice", 64), Language: a.text("language", 16),
	}
	if err := a.done(); err != nil {
		return nil, err
	}
	if s.Text == "" {
		return nil, attrError(n.name, "", "", n.line, "nothing to say")
	}

	return s, b.noChildren(n)
}

func (b *builder) gather(n *node) (Verb, error) {
	a := b.attrs(n)
	g := &Gather{
		Action:      a.url("action"),
		Method:      a.method("method"),
		Timeout:     a.seconds("timeout", 5*time.Second, 1, 600),
		FinishOnKey: a.keys("finishOnKey", "#", true),
		NumDigits:   a.integer("numDigits", 0, 1, 128),
	}
	g.Speech = b.gatherInput(a)
	if err := a.done(); err != nil {
		return nil, err
	}
	if n.content() != "" {
		return nil, attrError(n.name, "", n.content(), n.line, "text is not allowed, nest <Play>")
	}
	for _, c := range n.children {
		var (
			v   Verb
			err error
		)
		switch c.name {
		case "Play":
			v, err = b.play(c)
		case "Pause":
			v, err = b.pause(c)
		case "Say":
			v, err = b.say(c)
		default:
			err = unknownVerb(c, n.name)
		}
		if err != nil {
			return nil, err
		}
		g.Nested = append(g.Nested, v)
	}

	return g, nil
}

// gatherInput reads Gather's input attribute and reports whether speech is
// wanted.
func (b *builder) gatherInput(a *attrSet) bool {
	v, ok := a.take("input")
	if !ok || v == "" {
		return false
	}
	speech := false
	for _, f := range strings.Fields(v) {
		switch f {
		case "dtmf":
		case "speech":
			speech = true
		default:
			a.fail("input", v, "must be dtmf, speech or both")

			return false
		}
	}
	if speech && !b.lim.SpeechEngine && a.err == nil {
		a.err = &Error{Code: CodeSpeechUnsupported, Verb: a.verb, Attr: "input", Value: v,
			Line: a.n.line, Reason: "speech recognition is not available",
			Err: ErrSpeechUnsupported}
	}

	return speech
}

func (b *builder) record(n *node) (Verb, error) {
	a := b.attrs(n)
	r := &Record{
		Action:      a.url("action"),
		Method:      a.method("method"),
		Timeout:     a.seconds("timeout", 5*time.Second, 0, 600),
		MaxLength:   a.seconds("maxLength", time.Hour, 1, 4*3600),
		FinishOnKey: a.keys("finishOnKey", "1234567890*#", false),
		PlayBeep:    a.boolean("playBeep", true),
	}
	r.Trim = b.trim(a)
	if err := a.done(); err != nil {
		return nil, err
	}

	return r, bare(n)
}

func (b *builder) trim(a *attrSet) bool {
	v, ok := a.take("trim")
	if !ok {
		return true
	}
	switch v {
	case "trim-silence":
		return true
	case "do-not-trim":
		return false
	}
	a.fail("trim", v, "must be trim-silence or do-not-trim")

	return true
}
