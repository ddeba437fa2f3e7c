package main

import (
	"bytes"
	"context"
	"net/http"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/patchbay/patchbay/conf"
)

// runCmd runs the command line in-process with environ and returns the
// exit status, stdout and stderr.
func runCmd(t *testing.T, environ []string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(t.Context(), args, stdio{out: &out, err: &errOut}, environ)

	return code, out.String(), errOut.String()
}

func TestRunCommands(t *testing.T) {
	dataEnv := func(t *testing.T) []string { return []string{"PATCHBAY_DATA_DIR=" + t.TempDir()} }
	tests := []struct {
		name     string
		args     []string
		env      []string
		wantCode int
		wantOut  []string
		wantErr  []string
	}{
		{"version", []string{"version"}, nil, exitOK, []string{"patchbay dev", " go1."}, nil},
		{"version with argument", []string{"version", "x"}, nil, exitUsage, nil,
			[]string{"version takes no arguments", "patchbay help"}},
		{"help", []string{"help"}, nil, exitOK, []string{"usage: patchbay", "accounts"}, nil},
		{"--help", []string{"--help"}, nil, exitOK, []string{"usage: patchbay", "migrate"}, nil},
		{"--version", []string{"--version"}, nil, exitOK, []string{"patchbay dev"}, nil},
		{"serve flag first", []string{"--config"}, nil, exitUsage, nil,
			[]string{"patchbay: serve: flag needs an argument: -config"}},
		{"unknown command", []string{"frobnicate"}, nil, exitUsage, nil,
			[]string{`patchbay: unknown command "frobnicate"`}},
		{"unknown flag", []string{"serve", "--nope"}, nil, exitUsage, nil,
			[]string{"patchbay: serve: flag provided but not defined: -nope"}},
		{"stray argument", []string{"config", "extra"}, nil, exitUsage, nil,
			[]string{`unexpected argument "extra"`}},
		{"flag help", []string{"serve", "-h"}, nil, exitOK, []string{"-config file"}, nil},
		{"accounts without subcommand", []string{"accounts"}, nil, exitUsage, nil,
			[]string{"accounts needs a subcommand"}},
		{"accounts unknown subcommand", []string{"accounts", "drop"}, nil, exitUsage, nil,
			[]string{`unknown subcommand "drop"`}},
		{"accounts create without name", []string{"accounts", "create"}, nil, exitUsage, nil,
			[]string{"--name is required"}},
		{"bad config, every problem", []string{"serve"},
			[]string{"PATCHBAY_MEDIA_PORTS=20000-10000", "PATCHBAY_LOG_LEVEL=loud"}, exitError, nil,
			[]string{
				`patchbay: conf: log.level (PATCHBAY_LOG_LEVEL): "loud": must be one of`,
				`patchbay: conf: media.ports (PATCHBAY_MEDIA_PORTS): "20000-10000": ` +
					"start must be below end",
			}},
		{"missing config file", []string{"config", "--config", "/nonexistent/p.yaml"}, nil,
			exitError, nil, []string{"patchbay: conf: read config file: open /nonexistent/p.yaml"}},
		{"config hides secrets", []string{"config"}, []string{
			"PATCHBAY_ADMIN_TOKEN=sup3r-s3cret-t0ken-value",
			"PATCHBAY_REDIS_URL=redis://u:hunter2@127.0.0.1:6379/0",
			"PATCHBAY_SIP_NONCE_SECRET=n0nce-s3cret-value-xyz",
		}, exitOK, []string{"admin_token: (hidden)", "redis_url: redis://u:xxxxx@127.0.0.1:6379/0",
			"ports: 10000-20000", "drain_timeout: 30s", "nonce_secret: (hidden)"}, nil},
		{"migrate", []string{"migrate"}, nil, exitOK,
			[]string{"patchbay.db is up to date"}, nil},
		{"accounts list empty", []string{"accounts", "list"}, nil, exitOK,
			[]string{"SID", "STATUS", "NAME"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := append(dataEnv(t), tt.env...)
			code, out, errOut := runCmd(t, env, tt.args...)
			if code != tt.wantCode {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.wantCode, out, errOut)
			}
			for _, want := range tt.wantOut {
				if !strings.Contains(out, want) {
					t.Errorf("stdout lacks %q:\n%s", want, out)
				}
			}
			for _, want := range tt.wantErr {
				if !strings.Contains(errOut, want) {
					t.Errorf("stderr lacks %q:\n%s", want, errOut)
				}
			}
			for _, secret := range []string{"sup3r-s3cret", "hunter2", "n0nce-s3cret"} {
				if strings.Contains(out+errOut, secret) {
					t.Errorf("output leaks %q", secret)
				}
			}
		})
	}
}

var sidPattern = regexp.MustCompile(`(?m)^sid\s+(AC[0-9a-f]{32})$`)

func TestAccountsCreateAndList(t *testing.T) {
	env := []string{"PATCHBAY_DATA_DIR=" + t.TempDir()}
	code, out, errOut := runCmd(t, env, "accounts", "create", "--name", "Acme Corp")
	if code != exitOK {
		t.Fatalf("create: exit %d: %s", code, errOut)
	}
	m := sidPattern.FindStringSubmatch(out)
	if m == nil || !regexp.MustCompile(`(?m)^auth_token\s+[0-9a-f]{32}$`).MatchString(out) {
		t.Fatalf("create printed no SID and token:\n%s", out)
	}
	parent := m[1]

	code, out, errOut = runCmd(t, env, "accounts", "create", "--name", "Acme EU",
		"--parent", parent)
	if code != exitOK {
		t.Fatalf("create sub-account: exit %d: %s", code, errOut)
	}
	child := sidPattern.FindStringSubmatch(out)[1]

	code, out, errOut = runCmd(t, env, "accounts", "list")
	if code != exitOK {
		t.Fatalf("list: exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 {
		t.Fatalf("list printed %d lines, want header and 2 accounts:\n%s", len(lines), out)
	}
	if !strings.HasPrefix(lines[1], parent) || !strings.Contains(lines[1], "Acme Corp") ||
		!strings.Contains(lines[1], "active") {
		t.Errorf("first row %q is not the parent account", lines[1])
	}
	if !strings.HasPrefix(lines[2], child) || !strings.Contains(lines[2], parent) {
		t.Errorf("second row %q is not the sub-account under its parent", lines[2])
	}

	code, _, errOut = runCmd(t, env, "accounts", "create", "--name", "x", "--parent", "ACnope")
	if code != exitError || !strings.HasPrefix(errOut, "patchbay: ") {
		t.Errorf("create under a missing parent: exit %d, stderr %q", code, errOut)
	}
}

func TestPrintable(t *testing.T) {
	tests := map[string]string{
		"Acme Corp":          "Acme Corp",
		"Zürich AG":          "Zürich AG",
		"evil\x1b[2Jname":    "evil?[2Jname",
		"tab\there\nnewline": "tab?here?newline",
	}
	for in, want := range tests {
		if got := printable(in); got != want {
			t.Errorf("printable(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestConfigOutputReloads checks that `patchbay config` prints a settings
// file that loads back to the same settings.
func TestConfigOutputReloads(t *testing.T) {
	env := []string{"PATCHBAY_DATA_DIR=/srv/pb", "PATCHBAY_MEDIA_PORTS=40000-40100",
		"PATCHBAY_SIP_TRUSTED_SOURCES=10.0.0.0/8", "PATCHBAY_LOG_FORMAT=json"}
	code, out, errOut := runCmd(t, env, "config")
	if code != exitOK {
		t.Fatalf("config: exit %d: %s", code, errOut)
	}
	want, err := loadConfig("", env)
	if err != nil {
		t.Fatal(err)
	}
	got, err := conf.Parse([]byte(out), nil)
	if err != nil {
		t.Fatalf("reload of\n%s\nfailed: %v", out, err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("reloaded %+v\nwant %+v", got, want)
	}
}

// syncBuffer is a bytes.Buffer safe for one writer and concurrent readers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()

	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()

	return b.buf.String()
}

// TestRunServe runs the serve command in-process until its context ends.
func TestRunServe(t *testing.T) {
	env := []string{"PATCHBAY_DATA_DIR=" + t.TempDir(), "PATCHBAY_API_LISTEN=127.0.0.1:0",
		"PATCHBAY_SIP_LISTEN=127.0.0.1:0", "PATCHBAY_ADMIN_TOKEN=" + testToken,
		"PATCHBAY_LOG_FORMAT=json", "PATCHBAY_SIP_LISTNE=typo"}
	var out, errOut syncBuffer
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	code := make(chan int, 1)
	go func() { code <- run(ctx, []string{"serve"}, stdio{out: &out, err: &errOut}, env) }()

	serving := regexp.MustCompile(`"msg":"patchbay serving","api_addr":"([^"]+)"`)
	addr := waitForLog(t, &errOut, serving)
	checkGet(t, "http://"+addr+"/readyz", "", http.StatusOK)
	cancel()
	select {
	case c := <-code:
		eq(t, c, exitOK)
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop after its context ended")
	}
	logs := errOut.String()
	for _, want := range []string{`"name":"PATCHBAY_SIP_LISTNE"`, `"msg":"patchbay stopped"`} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %s:\n%s", want, logs)
		}
	}
	if strings.Contains(logs, testToken) {
		t.Error("the configured admin token was logged")
	}
}

// waitForLog polls buf until re matches and returns its first group.
func waitForLog(t *testing.T, buf *syncBuffer, re *regexp.Regexp) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if m := re.FindStringSubmatch(buf.String()); m != nil {
			return m[1]
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no %v in logs:\n%s", re, buf.String())

	return ""
}
