package conf

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestEnvName(t *testing.T) {
	tests := map[string]string{
		"data_dir":                     "PATCHBAY_DATA_DIR",
		"sip.listen":                   "PATCHBAY_SIP_LISTEN",
		"api.listen":                   "PATCHBAY_API_LISTEN",
		"media.ports":                  "PATCHBAY_MEDIA_PORTS",
		"public_addr":                  "PATCHBAY_PUBLIC_ADDR",
		"admin_token":                  "PATCHBAY_ADMIN_TOKEN",
		"redis_url":                    "PATCHBAY_REDIS_URL",
		"log.level":                    "PATCHBAY_LOG_LEVEL",
		"log.format":                   "PATCHBAY_LOG_FORMAT",
		"sip.registration_min_expires": "PATCHBAY_SIP_REGISTRATION_MIN_EXPIRES",
	}
	keys := Keys()
	for key, want := range tests {
		t.Run(key, func(t *testing.T) {
			eq(t, EnvName(key), want)
			if !slices.Contains(keys, key) {
				t.Errorf("Keys() lacks %s", key)
			}
		})
	}
}

func TestKeysAreUnique(t *testing.T) {
	seen := map[string]bool{}
	for _, key := range Keys() {
		name := EnvName(key)
		if seen[name] {
			t.Errorf("two keys share the variable %s", name)
		}
		seen[name] = true
	}
	if len(seen) < 30 {
		t.Errorf("only %d keys; a section lost its tags?", len(seen))
	}
}

func TestUnknownEnv(t *testing.T) {
	environ := []string{
		"PATH=/bin", "PATCHBAY_SIP_LISTEN=1.2.3.4:5060", "PATCHBAY_SIP_LISTNE=x",
		"PATCHBAY_CONFIG=/etc/p.yaml", "PATCHBAY_ZZ", "PATCHBAY_SIP_LISTNE=y",
	}
	got := UnknownEnv(environ, "PATCHBAY_CONFIG")
	eq(t, got, []string{"PATCHBAY_SIP_LISTNE", "PATCHBAY_ZZ"})
	eq(t, len(UnknownEnv([]string{"HOME=/root"})), 0)
}

// TestDocumented keeps the configuration reference complete: every key and
// its variable must appear in docs/configuration.md, or in README.md once
// that page is merged into it.
func TestDocumented(t *testing.T) {
	var doc []byte
	for _, name := range []string{"docs/configuration.md", "README.md"} {
		b, err := os.ReadFile(filepath.Join("..", filepath.FromSlash(name)))
		if err == nil {
			doc = append(doc, b...)
		}
	}
	if len(doc) == 0 {
		t.Fatal("neither docs/configuration.md nor README.md is readable")
	}
	for _, key := range Keys() {
		if !strings.Contains(string(doc), "`"+key+"`") {
			t.Errorf("the configuration reference does not document `%s`", key)
		}
		if !strings.Contains(string(doc), EnvName(key)) {
			t.Errorf("the configuration reference does not name %s", EnvName(key))
		}
	}
}
