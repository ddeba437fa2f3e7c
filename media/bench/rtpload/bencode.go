package main

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
)

// errBencode wraps malformed bencode in control messages.
var errBencode = errors.New("rtpload: malformed bencode")

// encodeBencode encodes strings, ints, []any and map[string]any, the
// subset the ng control protocol uses.
func encodeBencode(b []byte, v any) []byte {
	switch x := v.(type) {
	case string:
		b = strconv.AppendInt(b, int64(len(x)), 10)
		b = append(b, ':')

		return append(b, x...)
	case int:
		b = append(b, 'i')
		b = strconv.AppendInt(b, int64(x), 10)

		return append(b, 'e')
	case []any:
		b = append(b, 'l')
		for _, e := range x {
			b = encodeBencode(b, e)
		}

		return append(b, 'e')
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b = append(b, 'd')
		for _, k := range keys {
			b = encodeBencode(b, k)
			b = encodeBencode(b, x[k])
		}

		return append(b, 'e')
	}

	return encodeBencode(b, fmt.Sprint(v))
}

// decodeBencode decodes one value and returns the rest of b.
func decodeBencode(b []byte) (any, []byte, error) {
	if len(b) == 0 {
		return nil, nil, fmt.Errorf("%w: unexpected end", errBencode)
	}
	switch c := b[0]; {
	case c == 'i':
		end := indexByte(b, 'e')
		if end < 0 {
			return nil, nil, fmt.Errorf("%w: unterminated int", errBencode)
		}
		n, err := strconv.Atoi(string(b[1:end]))
		if err != nil {
			return nil, nil, fmt.Errorf("%w: %w", errBencode, err)
		}

		return n, b[end+1:], nil
	case c == 'l':
		var out []any
		rest := b[1:]
		for len(rest) > 0 && rest[0] != 'e' {
			var v any
			var err error
			if v, rest, err = decodeBencode(rest); err != nil {
				return nil, nil, err
			}
			out = append(out, v)
		}
		if len(rest) == 0 {
			return nil, nil, fmt.Errorf("%w: unterminated list", errBencode)
		}

		return out, rest[1:], nil
	case c == 'd':
		return decodeDict(b[1:])
	case c >= '0' && c <= '9':
		colon := indexByte(b, ':')
		if colon < 0 {
			return nil, nil, fmt.Errorf("%w: string without colon", errBencode)
		}
		n, err := strconv.Atoi(string(b[:colon]))
		if err != nil || n < 0 || colon+1+n > len(b) {
			return nil, nil, fmt.Errorf("%w: bad string length", errBencode)
		}

		return string(b[colon+1 : colon+1+n]), b[colon+1+n:], nil
	default:
		return nil, nil, fmt.Errorf("%w: unexpected %q", errBencode, c)
	}
}

func decodeDict(rest []byte) (any, []byte, error) {
	out := map[string]any{}
	for len(rest) > 0 && rest[0] != 'e' {
		k, r, err := decodeBencode(rest)
		if err != nil {
			return nil, nil, err
		}
		key, ok := k.(string)
		if !ok {
			return nil, nil, fmt.Errorf("%w: dict key not a string", errBencode)
		}
		var v any
		if v, rest, err = decodeBencode(r); err != nil {
			return nil, nil, err
		}
		out[key] = v
	}
	if len(rest) == 0 {
		return nil, nil, fmt.Errorf("%w: unterminated dict", errBencode)
	}

	return out, rest[1:], nil
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}

	return -1
}
