package markup

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Limits bounds what Parse accepts. The zero value of a field selects its
// default.
type Limits struct {
	MaxBytes    int // largest document in bytes (64 KiB)
	MaxDepth    int // deepest element nesting, <Response> being 1 (8)
	MaxElements int // most elements in one document (1000)
	// SpeechEngine enables Say and Gather input="speech". Leave it false
	// unless a text-to-speech and recognition engine is wired in (false).
	SpeechEngine bool
}

// The defaults of Limits.
const (
	DefaultMaxBytes    = 64 << 10
	DefaultMaxDepth    = 8
	DefaultMaxElements = 1000
)

func (l Limits) withDefaults() Limits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultMaxBytes
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultMaxDepth
	}
	if l.MaxElements <= 0 {
		l.MaxElements = DefaultMaxElements
	}

	return l
}

// node is one element of the document before it is typed.
type node struct {
	name     string
	line     int
	attrs    []xml.Attr
	text     strings.Builder
	children []*node
}

// Parse reads a document within lim and returns its verbs. Every failure is
// an *Error carrying a CPaaS-style code. Parse is safe for concurrent use.
func Parse(doc []byte, lim Limits) (*Response, error) {
	lim = lim.withDefaults()
	if len(doc) > lim.MaxBytes {
		return nil, &Error{
			Code: CodeTooLarge, Err: ErrTooLarge,
			Reason: fmt.Sprintf("%d bytes exceed the cap of %d", len(doc), lim.MaxBytes),
		}
	}
	root, err := readTree(doc, lim)
	if err != nil {
		return nil, err
	}

	b := builder{lim: lim}

	return b.response(root)
}

// readTree tokenizes doc into a tree of nodes, enforcing the limits.
func readTree(doc []byte, lim Limits) (*node, error) {
	dec := xml.NewDecoder(bytes.NewReader(doc))
	dec.Strict = true
	var (
		stack    []*node
		root     *node
		elements int
	)
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, docError("%s", strings.TrimPrefix(err.Error(), "XML syntax error "))
		}
		line, _ := dec.InputPos()
		switch t := tok.(type) {
		case xml.StartElement:
			elements++
			if elements > lim.MaxElements {
				return nil, docError("more than %d elements", lim.MaxElements)
			}
			if len(stack) >= lim.MaxDepth {
				return nil, docError("line %d: nesting deeper than %d", line, lim.MaxDepth)
			}
			n := &node{name: t.Name.Local, line: line, attrs: t.Attr}
			if len(stack) == 0 {
				if root != nil {
					return nil, docError("line %d: more than one root element", line)
				}
				root = n
			} else {
				parent := stack[len(stack)-1]
				parent.children = append(parent.children, n)
			}
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if err := addText(stack, t, line); err != nil {
				return nil, err
			}
		case xml.Directive:
			return nil, docError("line %d: document type declarations are not allowed", line)
		}
	}
	if root == nil {
		return nil, docError("no root element")
	}

	return root, nil
}

func addText(stack []*node, t xml.CharData, line int) error {
	if len(stack) == 0 {
		if len(bytes.TrimSpace(t)) > 0 {
			return docError("line %d: text outside the root element", line)
		}

		return nil
	}
	n := stack[len(stack)-1]
	if n.text.Len()+len(t) > maxTextLength {
		return docError("line %d: text of <%s> longer than %d bytes", line, n.name, maxTextLength)
	}
	n.text.Write(t)

	return nil
}

// content returns the node's text without surrounding white space.
func (n *node) content() string { return strings.TrimSpace(n.text.String()) }
