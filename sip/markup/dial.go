package markup

import (
	"strings"
	"time"
)

// unsupportedNouns are the Dial nouns of the CPaaS markup Patchbay does not run.
var unsupportedNouns = map[string]bool{
	"Conference": true, "Queue": true, "Sim": true, "Application": true,
	"WhatsApp": true,
}

func (b *builder) dial(n *node) (Verb, error) {
	a := b.attrs(n)
	d := &Dial{
		Action:         a.url("action"),
		Method:         a.method("method"),
		Timeout:        a.seconds("timeout", 30*time.Second, 5, 600),
		CallerID:       a.text("callerId", maxCallerIDLength),
		TimeLimit:      a.seconds("timeLimit", 4*time.Hour, 1, 4*3600),
		Record:         b.recordMode(a),
		AnswerOnBridge: a.boolean("answerOnBridge", true),
		HangupOnStar:   a.boolean("hangupOnStar", false),
	}
	if err := a.done(); err != nil {
		return nil, err
	}

	text := n.content()
	switch {
	case text != "" && len(n.children) > 0:
		return nil, attrError(n.name, "", text, n.line, "text and nouns cannot be mixed")
	case text != "":
		num, reason := normalizeNumber(text)
		if reason != "" {
			return nil, attrError(n.name, "", text, n.line, reason)
		}
		d.Nouns = []Noun{{Kind: NounNumber, Target: num, Method: MethodPOST}}

		return d, nil
	case len(n.children) == 0:
		return nil, attrError(n.name, "", "", n.line, "nothing to dial")
	}
	for _, c := range n.children {
		noun, err := b.noun(c)
		if err != nil {
			return nil, err
		}
		d.Nouns = append(d.Nouns, noun)
	}

	return d, nil
}

func (b *builder) recordMode(a *attrSet) RecordMode {
	v, ok := a.take("record")
	if !ok {
		return RecordNone
	}
	switch m := RecordMode(v); m {
	case RecordNone, RecordFromAnswer, RecordFromRinging, RecordFromAnswerDual,
		RecordFromRingingDual:
		return m
	}
	switch strings.ToLower(v) {
	case "true":
		return RecordFromAnswer
	case "false":
		return RecordNone
	}
	a.fail("record", v, "must be do-not-record, record-from-answer, record-from-ringing "+
		"or their -dual forms")

	return RecordNone
}

func (b *builder) noun(n *node) (Noun, error) {
	var kind NounKind
	switch n.name {
	case "Number":
		kind = NounNumber
	case "Sip":
		kind = NounSIP
	case "Client":
		kind = NounClient
	default:
		err := unknownVerb(n, "Dial")
		if unsupportedNouns[n.name] {
			err.Reason = "noun not supported by Patchbay"
		}

		return Noun{}, err
	}

	a := b.attrs(n)
	noun := Noun{Kind: kind, URL: a.url("url"), Method: a.method("method")}
	switch kind {
	case NounNumber:
		noun.SendDigits = a.text("sendDigits", maxDigitsLength)
		if !onlyChars(noun.SendDigits, "0123456789*#wW") {
			a.fail("sendDigits", noun.SendDigits, "digits must be 0-9, *, # or w")
		}
	case NounSIP:
		noun.Username = a.text("username", maxCredentialLength)
		noun.Password = a.text("password", maxCredentialLength)
	}
	if err := a.done(); err != nil {
		return Noun{}, err
	}

	target, err := b.nounTarget(n, kind)
	if err != nil {
		return Noun{}, err
	}
	noun.Target = target

	return noun, nil
}

// nounTarget validates the noun's content: a number, a SIP URI or a client
// identity (as text or as an <Identity> child).
func (b *builder) nounTarget(n *node, kind NounKind) (string, error) {
	text := n.content()
	if kind == NounClient {
		return b.clientIdentity(n, text)
	}
	if len(n.children) > 0 {
		return "", unknownVerb(n.children[0], n.name)
	}
	var reason string
	switch kind {
	case NounNumber:
		text, reason = normalizeNumber(text)
	case NounSIP:
		reason = checkSIPURI(text)
	}
	if reason != "" {
		return "", attrError(n.name, "", text, n.line, reason)
	}

	return text, nil
}

func (b *builder) clientIdentity(n *node, text string) (string, error) {
	for _, c := range n.children {
		switch c.name {
		case "Identity":
			if text != "" {
				return "", attrError(n.name, "", text, n.line, "more than one identity")
			}
			if len(c.children) > 0 {
				return "", unknownVerb(c.children[0], c.name)
			}
			text = c.content()
		case "Parameter":
			b.ignored = append(b.ignored, n.name+"/"+c.name)
		default:
			return "", unknownVerb(c, n.name)
		}
	}
	if text == "" || len(text) > maxIdentityLength ||
		!onlyChars(text, identityChars) {
		return "", attrError(n.name, "", text, n.line,
			"identity must be 1 to 256 characters of A-Z, a-z, 0-9, _ . - +")
	}

	return text, nil
}

const identityChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-+"

// normalizeNumber strips the visual separators of a phone number and
// returns it as digits with an optional leading +, or why it is not one.
func normalizeNumber(s string) (string, string) {
	var out strings.Builder
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			out.WriteRune(r)
		case r == '+' && i == 0:
			out.WriteRune(r)
		case r == ' ' || r == '-' || r == '(' || r == ')' || r == '.':
		default:
			return s, "number must be digits with an optional leading +"
		}
	}
	digits := strings.TrimPrefix(out.String(), "+")
	if len(digits) < 2 || len(digits) > 20 {
		return s, "number must have 2 to 20 digits"
	}

	return out.String(), ""
}

// checkSIPURI returns why s is not a sip: or sips: URI with a host, or "".
func checkSIPURI(s string) string {
	if len(s) > maxSIPURILength {
		return "SIP URI too long"
	}
	lower := strings.ToLower(s)
	rest, ok := strings.CutPrefix(lower, "sip:")
	if !ok {
		rest, ok = strings.CutPrefix(lower, "sips:")
	}
	if !ok {
		return "must be a sip: or sips: URI"
	}
	if strings.ContainsAny(s, " \t\r\n<>\"") || hasControl(s) {
		return "SIP URI contains spaces, quotes or angle brackets"
	}
	if i := strings.LastIndexByte(rest, '@'); i >= 0 {
		rest = rest[i+1:]
	}
	host, _, _ := strings.Cut(rest, ";")
	host, _, _ = strings.Cut(host, "?")
	if host == "" || strings.HasPrefix(host, ":") {
		return "SIP URI has no host"
	}

	return ""
}
