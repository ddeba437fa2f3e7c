package conf

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// envOf is an Env reading only the given variables.
func envOf(vars map[string]string) Env {
	return func(key string) (string, bool) {
		v, ok := vars[key]

		return v, ok
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		name  string
		yaml  string
		env   map[string]string
		check func(t *testing.T, c *Config)
	}{
		{
			name: "defaults",
			check: func(t *testing.T, c *Config) {
				want := Default()
				eq(t, want.Validate(), nil)
				eq(t, want.PublicAddr, "127.0.0.1")
				eq(t, want.Media.BindAddr, netip.MustParseAddr("0.0.0.0"))
				eq(t, want.Media.PublicAddr, netip.MustParseAddr("127.0.0.1"))
				if !reflect.DeepEqual(c, want) {
					t.Errorf("got %+v, want %+v", c, want)
				}
			},
		},
		{
			name: "file sets nested keys",
			yaml: "sip:\n  listen: 10.1.2.3:5080\n  nonce_ttl: 45s\nmedia:\n  ports: 2000-3000\n",
			check: func(t *testing.T, c *Config) {
				eq(t, c.SIP.Listen, "10.1.2.3:5080")
				eq(t, c.SIP.NonceTTL, 45*time.Second)
				eq(t, c.Media.Ports, PortRange{Min: 2000, Max: 3000})
				eq(t, c.PublicAddr, "10.1.2.3") // derived from sip.listen
				eq(t, c.Media.BindAddr, netip.MustParseAddr("10.1.2.3"))
				eq(t, c.Media.PublicAddr, netip.MustParseAddr("10.1.2.3"))
			},
		},
		{
			name: "env overrides file",
			yaml: "api:\n  listen: 127.0.0.1:9000\nlog:\n  level: warn\n",
			env: map[string]string{
				"PATCHBAY_API_LISTEN":          "127.0.0.1:0",
				"PATCHBAY_MEDIA_PORTS":         "40000-40100",
				"PATCHBAY_CALLS_DRAIN_TIMEOUT": "1s",
			},
			check: func(t *testing.T, c *Config) {
				eq(t, c.API.Listen, "127.0.0.1:0")
				eq(t, c.Log.Level, "warn")
				eq(t, c.Media.Ports, PortRange{Min: 40000, Max: 40100})
				eq(t, c.Calls.DrainTimeout, time.Second)
			},
		},
		{
			name: "redis url with client options",
			env: map[string]string{
				"PATCHBAY_REDIS_URL": "redis://10.0.0.7:6379/3?dial_timeout=2s&pool_size=20",
			},
			check: func(t *testing.T, c *Config) {
				eq(t, c.RedisURL, "redis://10.0.0.7:6379/3?dial_timeout=2s&pool_size=20")
			},
		},
		{
			name: "every required variable name",
			env: map[string]string{
				"PATCHBAY_DATA_DIR":          "/srv/pb",
				"PATCHBAY_SIP_LISTEN":        "[::1]:5062",
				"PATCHBAY_PUBLIC_ADDR":       "pbx.example.net",
				"PATCHBAY_MEDIA_PUBLIC_ADDR": "[2001:db8::9]",
				"PATCHBAY_ADMIN_TOKEN":       "abcdefabcdefabcdef",
				"PATCHBAY_REDIS_URL":         "rediss://user:secret@redis.example.net:6380/1",
				"PATCHBAY_LOG_LEVEL":         "error",
				"PATCHBAY_LOG_FORMAT":        "json",
			},
			check: func(t *testing.T, c *Config) {
				eq(t, c.DataDir, "/srv/pb")
				eq(t, c.SIP.Listen, "[::1]:5062")
				eq(t, c.PublicAddr, "pbx.example.net")
				eq(t, c.AdminToken, "abcdefabcdefabcdef")
				eq(t, c.RedisURL, "rediss://user:secret@redis.example.net:6380/1")
				eq(t, c.Log.Level, "error")
				eq(t, c.Log.Format, "json")
			},
		},
		{
			name: "media addresses set apart from sip",
			yaml: "public_addr: sip.example.com\nmedia:\n  bind_addr: 10.0.0.5\n" +
				"  public_addr: 203.0.113.5\n",
			check: func(t *testing.T, c *Config) {
				eq(t, c.Media.BindAddr, netip.MustParseAddr("10.0.0.5"))
				eq(t, c.Media.PublicAddr, netip.MustParseAddr("203.0.113.5"))
			},
		},
		{
			name: "sip extras and guard",
			yaml: "sip:\n  nonce_secret: shared-cluster-secret\n  ring_timeout: 1m\n" +
				"  guard:\n    requests_per_second: 2.5\n    burst: 5\n",
			env: map[string]string{"PATCHBAY_SIP_GUARD_BAN_DURATION": "10m",
				"PATCHBAY_SIP_GUARD_AUTH_FAILURES": "0", "PATCHBAY_SIP_CACHE_TTL": "0s",
				"PATCHBAY_SIP_AUTH_EXEMPT_SOURCES": "192.0.2.0/24"},
			check: func(t *testing.T, c *Config) {
				eq(t, c.SIP.NonceSecret, "shared-cluster-secret")
				eq(t, c.SIP.RingTimeout, time.Minute)
				eq(t, c.SIP.TrunkTimeout, 4*time.Second)
				eq(t, c.SIP.Guard.RequestsPerSecond, 2.5)
				eq(t, c.SIP.Guard.Burst, 5)
				eq(t, c.SIP.Guard.BanDuration, 10*time.Minute)
				eq(t, c.SIP.Guard.MaxSources, 100000)
				eq(t, c.SIP.Guard.AuthFailures, 0)
				eq(t, c.SIP.CacheTTL, time.Duration(0))
				eq(t, c.SIP.AuthExemptSources,
					[]netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")})
			},
		},
		{
			name: "same port on different hosts",
			yaml: "sip:\n  listen: 10.0.0.1:5060\n  ws_listen: 10.0.0.2:5060\n" +
				"api:\n  listen: 127.0.0.1:0\nmedia:\n  ports: 5062-6000\n",
			check: func(t *testing.T, c *Config) {
				eq(t, c.SIP.WSListen, "10.0.0.2:5060")
			},
		},
		{
			name: "websocket only",
			yaml: "sip:\n  listen: \"\"\n  ws_listen: 127.0.0.1:8088\n",
			check: func(t *testing.T, c *Config) {
				eq(t, c.SIP.Listen, "")
				eq(t, c.PublicAddr, "127.0.0.1")
			},
		},
		{
			name: "public addr from ipv6 listen host",
			env:  map[string]string{"PATCHBAY_SIP_LISTEN": "[2001:db8::5]:5060"},
			check: func(t *testing.T, c *Config) {
				eq(t, c.PublicAddr, "2001:db8::5")
			},
		},
		{
			name: "public addr fallback for unspecified ipv6",
			env:  map[string]string{"PATCHBAY_SIP_LISTEN": "[::]:5060"},
			check: func(t *testing.T, c *Config) {
				eq(t, c.PublicAddr, "127.0.0.1")
			},
		},
		{
			name: "trusted sources as list and as comma text",
			yaml: "sip:\n  trusted_sources: [10.0.0.0/8, 192.0.2.1]\n",
			check: func(t *testing.T, c *Config) {
				eq(t, c.SIP.TrustedSources, []netip.Prefix{
					netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.1/32"),
				})
			},
		},
		{
			name: "trusted sources from env masks host bits",
			env:  map[string]string{"PATCHBAY_SIP_TRUSTED_SOURCES": "10.9.8.7/16, 2001:db8::1"},
			check: func(t *testing.T, c *Config) {
				eq(t, c.SIP.TrustedSources, []netip.Prefix{
					netip.MustParsePrefix("10.9.0.0/16"), netip.MustParsePrefix("2001:db8::1/128"),
				})
			},
		},
		{
			name: "webhook deny list defaults to link-local, env replaces it",
			env:  map[string]string{"PATCHBAY_WEBHOOKS_DENY_NETWORKS": "127.0.0.0/8,10.0.0.0/8"},
			check: func(t *testing.T, c *Config) {
				eq(t, c.Webhooks.DenyNetworks, []netip.Prefix{
					netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("10.0.0.0/8"),
				})
				eq(t, len(Default().Webhooks.DenyNetworks), 2)
			},
		},
		{
			name: "digest algorithms MD5 first from env",
			env:  map[string]string{"PATCHBAY_SIP_DIGEST_ALGORITHMS": "MD5,SHA-256"},
			check: func(t *testing.T, c *Config) {
				eq(t, c.SIP.DigestAlgorithms, []string{"MD5", "SHA-256"})
				eq(t, Default().SIP.DigestAlgorithms, []string{"SHA-256", "MD5"})
			},
		},
		{
			name: "empty env list clears file list",
			yaml: "sip:\n  trusted_sources: [10.0.0.0/8]\n",
			env:  map[string]string{"PATCHBAY_SIP_TRUSTED_SOURCES": ""},
			check: func(t *testing.T, c *Config) {
				eq(t, len(c.SIP.TrustedSources), 0)
			},
		},
		{
			name: "null value resets a string",
			yaml: "sip:\n  ws_listen: \"127.0.0.1:8088\"\nredis_url:\n",
			check: func(t *testing.T, c *Config) {
				eq(t, c.SIP.WSListen, "127.0.0.1:8088")
				eq(t, c.RedisURL, "")
			},
		},
		{
			name: "aliases resolve",
			yaml: "sip:\n  nonce_ttl: &d 40s\nmedia:\n  timeout: *d\n",
			check: func(t *testing.T, c *Config) {
				eq(t, c.Media.Timeout, 40*time.Second)
			},
		},
		{
			name: "empty section keeps defaults",
			yaml: "webhooks:\naccounting: {}\n",
			check: func(t *testing.T, c *Config) {
				eq(t, c.Webhooks, Default().Webhooks)
				eq(t, c.Accounting.Heartbeat, 5*time.Second)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(tt.yaml), envOf(tt.env))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			tt.check(t, c)
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		env  map[string]string
		want []string // substrings of the error, all required
		kind error
	}{
		{"reversed ports", "media:\n  ports: 20000-10000\n", nil,
			[]string{`conf: media.ports: "20000-10000": start must be below end (line 2)`},
			ErrInvalid},
		{"odd ports", "media:\n  ports: 10001-20000\n", nil,
			[]string{`media.ports: "10001-20000": start and end must be even`}, ErrInvalid},
		{"privileged ports", "media:\n  ports: 100-2000\n", nil,
			[]string{"within 1024-65534"}, ErrInvalid},
		{"ports syntax", "media:\n  ports: ten\n", nil,
			[]string{`media.ports: "ten": not a range`}, ErrInvalid},
		{"ports too big", "", map[string]string{"PATCHBAY_MEDIA_PORTS": "10000-70000"},
			[]string{`media.ports (PATCHBAY_MEDIA_PORTS): "10000-70000": end: above 65535`},
			ErrInvalid},
		{"unknown digest algorithm", "sip:\n  digest_algorithms: [MD5, SHA-512]\n", nil,
			[]string{`sip.digest_algorithms: "MD5,SHA-512": must be one of SHA-256, MD5`},
			ErrInvalid},
		{"digest algorithm twice", "", map[string]string{"PATCHBAY_SIP_DIGEST_ALGORITHMS": "MD5,MD5"},
			[]string{`sip.digest_algorithms (PATCHBAY_SIP_DIGEST_ALGORITHMS): "MD5,MD5": ` +
				"MD5 is listed twice"}, ErrInvalid},
		{"unknown top key", "colour: blue\n", nil,
			[]string{"conf: colour: unknown key (line 1)"}, ErrUnknownKey},
		{"unknown nested key", "sip:\n  listne: 1.2.3.4:5060\n", nil,
			[]string{"conf: sip.listne: unknown key (line 2)"}, ErrUnknownKey},
		{"duplicate key", "log:\n  level: info\n  level: debug\n", nil,
			[]string{"conf: log.level: set twice, first on line 2 (line 3)"}, ErrDuplicateKey},
		{"duration without unit", "sip:\n  nonce_ttl: 30\n", nil,
			[]string{`sip.nonce_ttl: "30": not a duration`}, ErrInvalid},
		{"negative duration", "media:\n  quarantine: -1s\n", nil,
			[]string{`media.quarantine: "-1s": must not be negative`}, ErrInvalid},
		{"zero timeout", "", map[string]string{"PATCHBAY_MEDIA_TIMEOUT": "0s"},
			[]string{`media.timeout (PATCHBAY_MEDIA_TIMEOUT): "0s": must be above zero`},
			ErrInvalid},
		{"env not a number", "", map[string]string{"PATCHBAY_WEBHOOKS_RETRY_MAX": "many"},
			[]string{`conf: webhooks.retry_max (PATCHBAY_WEBHOOKS_RETRY_MAX): "many": ` +
				"not a whole number"}, ErrInvalid},
		{"env not a duration", "", map[string]string{"PATCHBAY_SIP_NONCE_TTL": "soon"},
			[]string{`sip.nonce_ttl (PATCHBAY_SIP_NONCE_TTL): "soon": not a duration`}, ErrInvalid},
		{"bad level", "log:\n  level: loud\n", nil,
			[]string{`log.level: "loud": must be one of debug, info, warn, error`}, ErrInvalid},
		{"bad format", "", map[string]string{"PATCHBAY_LOG_FORMAT": "xml"},
			[]string{`log.format (PATCHBAY_LOG_FORMAT): "xml": must be one of text, json`},
			ErrInvalid},
		{"no sip listener", "sip:\n  listen: \"\"\n", nil,
			[]string{`sip.listen: "": must be set unless sip.tls_listen or sip.ws_listen is`},
			ErrInvalid},
		{"tls on the sip port", "sip:\n  listen: 0.0.0.0:5060\n  ws_listen: 10.0.0.1:5060\n", nil,
			[]string{`sip.ws_listen: "10.0.0.1:5060": uses the same TCP port as sip.listen`},
			ErrInvalid},
		{"api on the websocket port", "", map[string]string{
			"PATCHBAY_SIP_WS_LISTEN": "127.0.0.1:8080", "PATCHBAY_API_LISTEN": "127.0.0.1:8080"},
			[]string{"api.listen (PATCHBAY_API_LISTEN)", "same TCP port as sip.ws_listen"},
			ErrInvalid},
		{"media range holds sip port", "media:\n  ports: 5000-6000\n", nil,
			[]string{`media.ports: "5000-6000": holds the SIP port 5060 of sip.listen (line 2)`},
			ErrInvalid},
		{"listen without port", "sip:\n  listen: 10.0.0.1\n", nil,
			[]string{`sip.listen: "10.0.0.1": not a host:port`}, ErrInvalid},
		{"listen bad port", "api:\n  listen: 127.0.0.1:99999\n", nil,
			[]string{`api.listen: "127.0.0.1:99999": port must be a number`}, ErrInvalid},
		{"listen bad host", "sip:\n  ws_listen: bad_host!:80\n", nil,
			[]string{`sip.ws_listen: "bad_host!:80": must be an IP address or a host name`},
			ErrInvalid},
		{"tls without files", "sip:\n  tls_listen: 0.0.0.0:5061\n", nil,
			[]string{"sip.tls_cert_file", "sip.tls_key_file",
				"required when sip.tls_listen is set"},
			ErrInvalid},
		{"tls unreadable", "sip:\n  tls_listen: 0.0.0.0:5061\n" +
			"  tls_cert_file: /nonexistent/c.pem\n  tls_key_file: /nonexistent/k.pem\n", nil,
			[]string{`sip.tls_cert_file: "/nonexistent/c.pem": cannot be read: no such file`},
			ErrInvalid},
		{"message size", "sip:\n  max_message_bytes: 100\n", nil,
			[]string{`sip.max_message_bytes: "100": must be within 1024-1048576`}, ErrInvalid},
		{"expires order",
			"sip:\n  registration_min_expires: 600s\n  registration_max_expires: 300s\n", nil,
			[]string{"must not be below sip.registration_min_expires"}, ErrInvalid},
		{"expires fraction", "sip:\n  registration_min_expires: 1500ms\n", nil,
			[]string{"must be whole seconds"}, ErrInvalid},
		{"trusted source bad", "sip:\n  trusted_sources: [10.0.0.0/8, 10.0.0.0/33]\n", nil,
			[]string{"sip.trusted_sources", "item 2: not a CIDR"}, ErrInvalid},
		{"trusted source mapping", "sip:\n  trusted_sources: {a: b}\n", nil,
			[]string{"sip.trusted_sources", "must be a list"}, ErrInvalid},
		{"section not a mapping", "sip: 5\n", nil,
			[]string{`conf: sip: "5": must be a mapping of keys`}, ErrInvalid},
		{"leaf not a scalar", "data_dir: [a, b]\n", nil,
			[]string{`data_dir: "(a list)": must be a single value`}, ErrInvalid},
		{"public addr with port", "public_addr: 1.2.3.4:5060\n", nil,
			[]string{"public_addr", "without a port"}, ErrInvalid},
		{"public addr unspecified", "", map[string]string{"PATCHBAY_PUBLIC_ADDR": "0.0.0.0"},
			[]string{"must not be an unspecified address"}, ErrInvalid},
		{"numeric host name", "public_addr: 999.1.1.1\n", nil,
			[]string{"public_addr"}, ErrInvalid},
		{"short admin token hidden", "admin_token: shortsecret\n", nil,
			[]string{"conf: admin_token: (hidden): must be at least 16 characters"}, ErrInvalid},
		{"admin token with space", "",
			map[string]string{"PATCHBAY_ADMIN_TOKEN": "0123456789 abcdef"},
			[]string{"admin_token (PATCHBAY_ADMIN_TOKEN): (hidden): must not contain spaces"},
			ErrInvalid},
		{"redis scheme, password redacted", "redis_url: http://u:hunter2@h:1\n", nil,
			[]string{`redis_url: "http://u:xxxxx@h:1": must be a redis:// or rediss:// URL`},
			ErrInvalid},
		{"redis db", "redis_url: redis://h:6379/x\n", nil,
			[]string{"path must be a database number"}, ErrInvalid},
		{"redis unknown option", "redis_url: redis://h:6379/0?colour=blue\n", nil,
			[]string{`redis_url: "redis://h:6379/0?...": unexpected option: colour`},
			ErrInvalid},
		{"redis no host", "redis_url: redis:///0\n", nil, []string{"must name a host"}, ErrInvalid},
		{"webhook timeouts", "webhooks:\n  connect_timeout: 20s\n  timeout: 10s\n", nil,
			[]string{"webhooks.timeout", "must not be below webhooks.connect_timeout"}, ErrInvalid},
		{"redirects", "webhooks:\n  max_redirects: -1\n", nil,
			[]string{`webhooks.max_redirects: "-1": must be within 0-20`}, ErrInvalid},
		{"overload status", "calls:\n  overload_status: 500\n", nil,
			[]string{`calls.overload_status: "500": must be one of 503, 486`}, ErrInvalid},
		{"node id", "accounting:\n  node_id: a b\n", nil,
			[]string{`accounting.node_id: "a b": may hold only letters`}, ErrInvalid},
		{"empty data dir", "data_dir: \"\"\n", nil,
			[]string{`data_dir: "": must not be empty`}, ErrInvalid},
		{"not yaml", "sip: [\n", nil, []string{"conf: syntax: yaml:"}, ErrSyntax},
		{"top level list", "- a\n- b\n", nil, []string{"top level must be a mapping"}, ErrSyntax},
		{"two documents", "log: {level: info}\n---\nlog: {level: warn}\n", nil,
			[]string{"one YAML document"}, ErrSyntax},
		{"media public addr needed", "public_addr: sip.example.com\n", nil,
			[]string{`conf: media.public_addr: "": must be set to an IP address`}, ErrInvalid},
		{"media public addr family",
			"media:\n  bind_addr: 10.0.0.1\n  public_addr: \"2001:db8::1\"\n", nil,
			[]string{"media.public_addr", "IP family of media.bind_addr 10.0.0.1"}, ErrInvalid},
		{"media public addr unspecified", "",
			map[string]string{"PATCHBAY_MEDIA_PUBLIC_ADDR": "::"},
			[]string{"media.public_addr (PATCHBAY_MEDIA_PUBLIC_ADDR)", "unspecified"}, ErrInvalid},
		{"media bind addr not ip", "media:\n  bind_addr: eth0\n", nil,
			[]string{`media.bind_addr: "eth0": not an IP address`}, ErrInvalid},
		{"nonce secret short, hidden", "sip:\n  nonce_secret: abc\n", nil,
			[]string{"conf: sip.nonce_secret: (hidden): must be at least 16 characters"},
			ErrInvalid},
		{"guard rate", "", map[string]string{"PATCHBAY_SIP_GUARD_REQUESTS_PER_SECOND": "-1"},
			[]string{"sip.guard.requests_per_second (PATCHBAY_SIP_GUARD_REQUESTS_PER_SECOND)",
				`"-1": must not be negative`},
			ErrInvalid},
		{"guard rate not a number", "sip:\n  guard:\n    requests_per_second: NaN\n", nil,
			[]string{`sip.guard.requests_per_second: "NaN": not a number`}, ErrInvalid},
		{"guard unknown key", "sip:\n  guard:\n    bursts: 5\n", nil,
			[]string{"conf: sip.guard.bursts: unknown key (line 3)"}, ErrUnknownKey},
		{"int overflow", "api:\n  max_body_bytes: 99999999999999999999\n", nil,
			[]string{`api.max_body_bytes: "99999999999999999999": not a whole number`}, ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(tt.yaml), envOf(tt.env))
			if err == nil {
				t.Fatalf("Parse succeeded with %+v", c)
			}
			if c != nil {
				t.Errorf("Parse returned a config with its error")
			}
			for _, want := range tt.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q\nlacks %q", err, want)
				}
			}
			if !errors.Is(err, tt.kind) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.kind)
			}
		})
	}
}

func TestParseReportsEveryProblem(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "bad.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = Parse(data, envOf(map[string]string{"PATCHBAY_API_LISTEN": "nowhere"}))
	if err == nil {
		t.Fatal("Parse accepted testdata/bad.yaml")
	}
	wantKeys := []string{
		"data_dir", "log.level", "sip.listen", "sip.nonce_ttl", "sip.trusted_sources",
		"media.ports", "calls.overload_status", "colour", "api.listen (PATCHBAY_API_LISTEN)",
	}
	for _, key := range wantKeys {
		if !strings.Contains(err.Error(), "conf: "+key+":") &&
			!strings.Contains(err.Error(), "conf: "+key+" ") {
			t.Errorf("error lacks key %s:\n%v", key, err)
		}
	}
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Key == "" || fe.Reason == "" {
		t.Errorf("errors.As found no usable *FieldError in %v", err)
	}
	if n := strings.Count(err.Error(), "\n") + 1; n != len(wantKeys) {
		t.Errorf("got %d problems, want %d:\n%v", n, len(wantKeys), err)
	}
}

func TestSecretsNeverInErrors(t *testing.T) {
	const secret = "hunter2hunter2"
	yaml := "admin_token: \"" + secret + " x\"\nredis_url: redis://u:" + secret + "@h:1/z\n"
	_, err := Parse([]byte(yaml), envOf(map[string]string{"PATCHBAY_REDIS_URL": "%zz" + secret}))
	if err == nil {
		t.Fatal("Parse accepted bad secrets")
	}
	if strings.Contains(err.Error(), secret) {
		t.Errorf("error leaks a secret: %v", err)
	}
}

func TestLoad(t *testing.T) {
	c, err := Load(filepath.Join("testdata", "full.yaml"), nil)
	if err != nil {
		t.Fatalf("Load full.yaml: %v", err)
	}
	eq(t, c.DataDir, "/var/lib/patchbay")
	eq(t, c.PublicAddr, "sip.example.com")
	eq(t, c.SIP.RegistrationMaxExpires, 2*time.Hour)
	eq(t, len(c.SIP.TrustedSources), 3)
	eq(t, c.API.RequestsPerSecond, 20)
	eq(t, c.Media.Quarantine, 500*time.Millisecond)
	eq(t, c.Webhooks.MaxRedirects, 0)
	eq(t, c.Calls.OverloadStatus, 486)
	eq(t, c.Accounting.NodeID, "edge-1.example")
	eq(t, c.Log.SlogLevel().String(), "DEBUG")

	if _, err := Load(filepath.Join(t.TempDir(), "missing.yaml"), nil); err == nil ||
		!strings.Contains(err.Error(), "conf: read config file") {
		t.Errorf("Load of a missing file: %v", err)
	}
	c, err = Load("", nil)
	if err != nil || c.SIP.Listen != DefaultSIPListen {
		t.Errorf("Load with no file: %+v, %v", c, err)
	}
}

// eq fails the test when got differs from want.
func eq[T any](t *testing.T, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestRedacted(t *testing.T) {
	c, err := Parse(nil, envOf(map[string]string{
		"PATCHBAY_ADMIN_TOKEN":         "admin-secret-0123456789",
		"PATCHBAY_SIP_NONCE_SECRET":    "nonce-secret-0123456789",
		"PATCHBAY_REDIS_URL":           "redis://user:pw-secret@10.0.0.1:6379/0?dial_timeout=3s",
		"PATCHBAY_SIP_TRUSTED_SOURCES": "10.0.0.0/8",
	}))
	if err != nil {
		t.Fatal(err)
	}
	r := c.Redacted()
	eq(t, r.AdminToken, "(hidden)")
	eq(t, r.SIP.NonceSecret, "(hidden)")
	eq(t, r.RedisURL, "redis://user:xxxxx@10.0.0.1:6379/0?...")
	eq(t, c.AdminToken, "admin-secret-0123456789") // the original is untouched
	r.SIP.TrustedSources[0] = netip.Prefix{}
	eq(t, c.SIP.TrustedSources[0], netip.MustParsePrefix("10.0.0.0/8"))
	eq(t, Default().Redacted().AdminToken, "") // unset stays unset
}
