package sip

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestConfigValidate(t *testing.T) {
	cases := []struct {
		name string
		cfg  Config
		want []string // substrings of the error; none: valid
	}{
		{name: "minimal", cfg: Config{Listen: "127.0.0.1:5060"}},
		{name: "no listener", cfg: Config{}, want: []string{"listen: no listener"}},
		{name: "bad listen", cfg: Config{Listen: "5060"}, want: []string{"listen: \"5060\""}},
		{name: "tls without cert", cfg: Config{TLSListen: ":5061"},
			want: []string{"tls_cert_file, tls_key_file"}},
		{name: "expires inverted", cfg: Config{Listen: ":5060", MinExpires: time.Hour,
			MaxExpires: time.Minute}, want: []string{"min_expires, max_expires"}},
		{name: "tiny messages", cfg: Config{Listen: ":5060", MaxMessageBytes: 10},
			want: []string{"max_message_bytes"}},
		{name: "several problems", cfg: Config{WSListen: "x", MaxMessageBytes: 10},
			want: []string{"ws_listen", "max_message_bytes"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.withDefaults().validate()
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			if !errors.Is(err, ErrConfig) {
				t.Fatalf("error %v is not ErrConfig", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Fatalf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestNewServerNeedsStores(t *testing.T) {
	if _, err := NewServer(Config{Listen: "127.0.0.1:0"}, nil, nil); !errors.Is(err, ErrConfig) {
		t.Fatalf("got %v, want ErrConfig", err)
	}
}

func TestServerLifecycle(t *testing.T) {
	e := newEnv(t)
	if err := e.srv.Start(t.Context()); !errors.Is(err, ErrStarted) {
		t.Fatalf("second Start: %v", err)
	}
	if e.srv.Addr("tcp").String() != e.addr {
		t.Fatalf("udp %s and tcp %s differ", e.addr, e.srv.Addr("tcp"))
	}
	if e.srv.Addr("tls") != nil {
		t.Fatal("tls address without tls listener")
	}
	if err := e.srv.Close(); err != nil {
		t.Fatal(err)
	}
	if err := e.srv.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := e.srv.Start(t.Context()); !errors.Is(err, ErrClosed) {
		t.Fatalf("Start after Close: %v", err)
	}
}

func TestPublicAddrRequiredOnWildcard(t *testing.T) {
	e := newEnv(t)
	s, err := NewServer(Config{Listen: "0.0.0.0:0", Logger: testLogger()}, e.dir, e.loc)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Start(t.Context()); !errors.Is(err, ErrConfig) ||
		!strings.Contains(err.Error(), "public_addr") {
		t.Fatalf("got %v, want a public_addr error", err)
	}
}
