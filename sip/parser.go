package sip

import (
	"maps"
	"slices"
	"strings"

	sipmsg "github.com/emiago/sipgo/sip"
)

// newParser returns sipgo's parser with From and To header parsers that
// clean up the parameters sipgo leaves raw, for every transport (the
// stream parser of TCP, TLS and WebSocket shares the header parsers).
// maxBytes bounds a message.
func newParser(maxBytes int) *sipmsg.Parser {
	headers := maps.Clone(sipmsg.DefaultHeadersParser())
	for _, name := range []string{"from", "f", "to", "t"} {
		headers[name] = cleanAddressParams(headers[name])
	}
	p := sipmsg.NewParser(sipmsg.WithHeadersParsers(headers))
	p.MaxMessageLength = maxBytes

	return p
}

// cleanAddressParams wraps sipgo's From or To parser. sipgo keeps the
// linear white space around a parameter's name and value (RFC 3261 25.1:
// SEMI and EQUAL admit it on both sides, folded lines included) and looks
// names up case-sensitively (RFC 3261 7.3.1: names are case-insensitive),
// so ";  tag = 98asjd8" or ";TAG=x" would leave the message without a tag:
// the transaction layer then keys an RFC 2543 request wrongly and answers
// 400, and dialog matching misses. The wrapper trims the white space
// around every name and around the tag's value, writes the tag's name in
// lower case and drops empty parameters (";;"). A header that needs none
// of this costs one pass over its parameters and no allocation.
func cleanAddressParams(parse sipmsg.HeaderParser) sipmsg.HeaderParser {
	return func(name []byte, text string) (sipmsg.Header, error) {
		h, err := parse(name, text)
		if err != nil {
			return h, err
		}
		switch v := h.(type) {
		case *sipmsg.FromHeader:
			v.Params = cleanParams(v.Params)
		case *sipmsg.ToHeader:
			v.Params = cleanParams(v.Params)
		}

		return h, nil
	}
}

// lws is the white space a folded header line leaves: sipgo unfolds a
// continuation into spaces but keeps tabs.
const lws = " \t"

// cleanParams returns ps with its names and the tag's value cleaned as
// cleanAddressParams says; ps itself when nothing needs it.
func cleanParams(ps sipmsg.HeaderParams) sipmsg.HeaderParams {
	if !slices.ContainsFunc(ps, paramNeedsCleaning) {
		return ps
	}
	out := make(sipmsg.HeaderParams, 0, len(ps))
	for _, kv := range ps {
		kv.K = strings.Trim(kv.K, lws)
		if kv.K == "" {
			continue
		}
		if strings.EqualFold(kv.K, "tag") {
			kv.K, kv.V = "tag", strings.Trim(kv.V, lws)
		}
		out = append(out, kv)
	}

	return out
}

// paramNeedsCleaning reports whether kv has white space around its name,
// an empty name, or is the tag spelt other than "tag" or with white space
// around its value.
func paramNeedsCleaning(kv sipmsg.HeaderKV) bool {
	k := kv.K
	if k == "" || strings.ContainsAny(k[:1], lws) || strings.ContainsAny(k[len(k)-1:], lws) {
		return true
	}
	if len(k) != 3 || !strings.EqualFold(k, "tag") {
		return false
	}
	v := kv.V

	return k != "tag" || v != "" &&
		(strings.ContainsAny(v[:1], lws) || strings.ContainsAny(v[len(v)-1:], lws))
}
