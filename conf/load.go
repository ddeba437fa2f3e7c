package conf

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"

	"gopkg.in/yaml.v3"
)

// Env looks up one environment variable; os.LookupEnv fits. A nil Env
// reads no environment.
type Env func(key string) (value string, ok bool)

// Load reads the YAML file (no file when file is empty), applies the
// environment over it and both over the defaults, derives what was left
// empty and validates the result. On failure it returns nil and every
// problem found, joined; see FieldError.
func Load(file string, env Env) (*Config, error) {
	var data []byte
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("conf: read config file: %w", err)
		}
		data = b
	}

	return Parse(data, env)
}

// Parse is Load with the file's contents given; empty data means no file.
func Parse(data []byte, env Env) (*Config, error) {
	cfg := defaults()
	origin := map[string]origin{}

	errs := decodeYAML(data, cfg, origin)
	errs = append(errs, applyEnv(env, cfg, origin)...)
	cfg.derive()
	for _, err := range cfg.validate() {
		if fe, ok := err.(*FieldError); ok {
			if origin[fe.Key].failed {
				continue // already reported as unparsable
			}
			origin[fe.Key].annotate(fe)
		}
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}

	return cfg, nil
}

// origin says where a setting's value came from, to point validation
// errors at it: a line of the file or an environment variable.
type origin struct {
	line   int
	env    string
	failed bool // the value did not parse; the error is reported already
}

func (o origin) annotate(fe *FieldError) {
	if o.env != "" {
		fe.Env = o.env
	} else {
		fe.Line = o.line
	}
}

// decoder sets the fields of a Config from a YAML node tree, collecting
// every problem instead of stopping at the first.
type decoder struct {
	origin map[string]origin // by dotted key
	errs   []error
}

func decodeYAML(data []byte, cfg *Config, origin map[string]origin) []error {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil
		}

		return []error{fmt.Errorf("%w: %w", ErrSyntax, err)}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return []error{fmt.Errorf("%w: the file must hold one YAML document", ErrSyntax)}
	}

	root := resolve(&doc)
	if root.Kind == yaml.DocumentNode && len(root.Content) > 0 {
		root = resolve(root.Content[0])
	}
	if isNull(root) {
		return nil
	}
	if root.Kind != yaml.MappingNode {
		return []error{fmt.Errorf("%w: the top level must be a mapping of keys (line %d)",
			ErrSyntax, root.Line)}
	}
	d := &decoder{origin: origin}
	d.mapping(root, reflect.ValueOf(cfg).Elem(), "")

	return d.errs
}

// mapping sets the fields of the section v from the mapping node n.
func (d *decoder) mapping(n *yaml.Node, v reflect.Value, prefix string) {
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := resolve(n.Content[i]), n.Content[i+1]
		key := joinKey(prefix, k.Value)
		if k.Kind != yaml.ScalarNode || k.Value == "" {
			d.fail(&FieldError{Key: joinKey(prefix, "?"), Line: k.Line, Kind: ErrUnknownKey,
				Reason: "keys must be plain names"})

			continue
		}
		if first, dup := seen[k.Value]; dup {
			d.fail(&FieldError{Key: key, Line: k.Line, Kind: ErrDuplicateKey,
				Reason: fmt.Sprintf("set twice, first on line %d", first)})

			continue
		}
		seen[k.Value] = k.Line
		f, ok := fieldByKey(v, k.Value)
		if !ok {
			d.fail(&FieldError{Key: key, Line: k.Line, Kind: ErrUnknownKey,
				Reason: "unknown key"})

			continue
		}
		d.value(resolve(val), f, key)
	}
}

// value sets the field v, named key, from the node n.
func (d *decoder) value(n *yaml.Node, v reflect.Value, key string) {
	d.origin[key] = origin{line: n.Line}
	switch {
	case !isLeaf(v.Type()):
		if isNull(n) {
			return
		}
		if n.Kind != yaml.MappingNode {
			d.fail(d.bad(n, key, "must be a mapping of keys"))

			return
		}
		d.mapping(n, v, key)
	case v.Kind() == reflect.Slice:
		d.list(n, v, key)
	case n.Kind != yaml.ScalarNode:
		d.fail(d.bad(n, key, "must be a single value"))
	case isNull(n):
		v.SetZero()
	default:
		if reason := setText(v, n.Value); reason != "" {
			d.fail(d.bad(n, key, reason))
		}
	}
}

// list sets the slice field v from a sequence of scalars, or from one
// scalar holding a comma-separated list.
func (d *decoder) list(n *yaml.Node, v reflect.Value, key string) {
	var items []string
	switch {
	case isNull(n):
	case n.Kind == yaml.ScalarNode:
		items = splitList(n.Value)
	case n.Kind == yaml.SequenceNode:
		for _, item := range n.Content {
			item = resolve(item)
			if item.Kind != yaml.ScalarNode {
				d.fail(d.bad(item, key, "list items must be single values"))

				return
			}
			items = append(items, item.Value)
		}
	default:
		d.fail(d.bad(n, key, "must be a list"))

		return
	}
	if reason := setList(v, items); reason != "" {
		d.fail(d.bad(n, key, reason))
	}
}

// bad builds the error of node n refused for key.
func (d *decoder) bad(n *yaml.Node, key, reason string) *FieldError {
	value := n.Value
	if n.Kind != yaml.ScalarNode {
		value = "(" + kindName(n.Kind) + ")"
	}
	fe := invalid(key, shown(key, value), reason)
	fe.Line = n.Line
	d.origin[key] = origin{line: n.Line, failed: true}

	return fe
}

func (d *decoder) fail(err error) { d.errs = append(d.errs, err) }

// resolve follows an alias to the node it names.
func resolve(n *yaml.Node) *yaml.Node {
	for range 8 {
		if n.Kind != yaml.AliasNode || n.Alias == nil {
			break
		}
		n = n.Alias
	}

	return n
}

func isNull(n *yaml.Node) bool {
	return n.Kind == 0 || (n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null")
}

func kindName(k yaml.Kind) string {
	switch k {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}

	return "a document"
}
