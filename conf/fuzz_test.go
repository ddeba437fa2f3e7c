package conf

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// FuzzParse feeds arbitrary files to the loader. It must never panic or
// hang, must return either a config or an error, and an accepted config
// must validate and survive a round trip through YAML unchanged.
func FuzzParse(f *testing.F) {
	seeds, err := filepath.Glob(filepath.Join("testdata", "*.yaml"))
	if err != nil || len(seeds) == 0 {
		f.Fatalf("no seeds in testdata: %v", err)
	}
	for _, name := range seeds {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("sip: {listen: ':0'}\nmedia: {ports: 1024-1026}\n"))
	f.Add([]byte("a: &a [*a]\n"))

	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data, nil)
		if (c == nil) == (err == nil) {
			t.Fatalf("Parse returned config %v and error %v", c, err)
		}
		if err != nil {
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("accepted config does not validate: %v", err)
		}
		out, err := yaml.Marshal(c)
		if err != nil {
			t.Fatalf("marshal accepted config: %v", err)
		}
		back, err := Parse(out, nil)
		if err != nil {
			t.Fatalf("re-parse of\n%s\nfailed: %v", out, err)
		}
		if !reflect.DeepEqual(c, back) {
			t.Fatalf("round trip changed the config:\n%+v\n%+v", c, back)
		}
	})
}

// FuzzEnv sets one variable to an arbitrary value. The loader must refuse
// it with an error naming the variable or the key, or accept a config that
// validates.
func FuzzEnv(f *testing.F) {
	keys := Keys()
	f.Add(uint8(0), "./data")
	f.Add(uint8(6), "[::1]:5060")
	f.Add(uint8(15), "10.0.0.0/8, 192.0.2.1")
	f.Add(uint8(19), "20000-10000")
	f.Add(uint8(3), "redis://u:p@h:1/0")

	f.Fuzz(func(t *testing.T, i uint8, value string) {
		key := keys[int(i)%len(keys)]
		name := EnvName(key)
		env := func(k string) (string, bool) { return value, k == name }
		c, err := Parse(nil, env)
		if err != nil {
			if msg := err.Error(); !strings.Contains(msg, name) && !strings.Contains(msg, key) {
				t.Fatalf("error for %s names neither it nor %s: %v", name, key, err)
			}

			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("accepted %s=%q does not validate: %v", name, value, err)
		}
	})
}
