package conf

import (
	"reflect"
	"slices"
	"strings"
)

// EnvPrefix starts the name of every Patchbay environment variable.
const EnvPrefix = "PATCHBAY_"

// EnvName is the environment variable of the dotted key:
// "sip.listen" is PATCHBAY_SIP_LISTEN.
func EnvName(key string) string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

// Keys lists the dotted key of every setting, in the order of Config.
func Keys() []string {
	var keys []string
	walkLeaves(reflect.ValueOf(defaults()).Elem(), "", func(key string, _ reflect.Value) {
		keys = append(keys, key)
	})

	return keys
}

// UnknownEnv returns the names of variables in environ ("NAME=value", as
// from os.Environ) that start with EnvPrefix but name no setting, sorted;
// they are usually typing errors. Names in allowed are not reported.
func UnknownEnv(environ []string, allowed ...string) []string {
	known := map[string]bool{}
	for _, key := range Keys() {
		known[EnvName(key)] = true
	}
	var out []string
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, EnvPrefix) && !known[name] && !slices.Contains(allowed, name) {
			out = append(out, name)
		}
	}
	slices.Sort(out)

	return slices.Compact(out)
}

// applyEnv sets every setting whose variable env defines, recording the
// variable as the setting's origin.
func applyEnv(env Env, cfg *Config, origins map[string]origin) []error {
	if env == nil {
		return nil
	}
	var errs []error
	walkLeaves(reflect.ValueOf(cfg).Elem(), "", func(key string, v reflect.Value) {
		name := EnvName(key)
		s, ok := env(name)
		if !ok {
			return
		}
		origins[key] = origin{env: name}
		var reason string
		if v.Kind() == reflect.Slice {
			reason = setList(v, splitList(s))
		} else {
			reason = setText(v, s)
		}
		if reason != "" {
			origins[key] = origin{env: name, failed: true}
			fe := invalid(key, shown(key, s), reason)
			fe.Env = name
			errs = append(errs, fe)
		}
	})

	return errs
}

// walkLeaves calls fn with the dotted key and value of every leaf setting
// of the section v, depth first in field order.
func walkLeaves(v reflect.Value, prefix string, fn func(key string, v reflect.Value)) {
	t := v.Type()
	for i := range t.NumField() {
		name := yamlName(t.Field(i))
		if name == "" {
			continue
		}
		key := joinKey(prefix, name)
		if f := v.Field(i); isLeaf(f.Type()) {
			fn(key, f)
		} else {
			walkLeaves(f, key, fn)
		}
	}
}

// fieldByKey finds the field of the section v whose YAML key is name.
func fieldByKey(v reflect.Value, name string) (reflect.Value, bool) {
	t := v.Type()
	for i := range t.NumField() {
		if yamlName(t.Field(i)) == name {
			return v.Field(i), true
		}
	}

	return reflect.Value{}, false
}

// yamlName is the YAML key of a field, or "" for an untagged field.
func yamlName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	if name == "-" || !f.IsExported() {
		return ""
	}

	return name
}

func joinKey(prefix, name string) string {
	if prefix == "" {
		return name
	}

	return prefix + "." + name
}
