package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// testVersion is linked into the test binary to check -ldflags.
const testVersion = "9.9.9-test"

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// binary builds the patchbay command once per test run and returns its
// path; the folder is removed by TestMain.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		goTool, err := exec.LookPath("go")
		if err != nil {
			buildErr = err
			return
		}
		dir, err := os.MkdirTemp("", "patchbay-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "patchbay")
		cmd := exec.Command(goTool, "build", "-ldflags", "-X main.version="+testVersion,
			"-o", binPath, ".")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatalf("cannot build the binary: %v", buildErr)
	}

	return binPath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

// process is a running patchbay binary whose stderr is read line by line.
type process struct {
	cmd   *exec.Cmd
	lines chan string // stderr lines; closed at EOF
	mu    sync.Mutex
	all   []string // every stderr line so far, guarded by mu
}

func startBinary(t *testing.T, env []string, args ...string) *process {
	t.Helper()
	cmd := exec.Command(binary(t), args...)
	cmd.Env = env
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &process{cmd: cmd, lines: make(chan string, 100)}
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			p.mu.Lock()
			p.all = append(p.all, sc.Text())
			p.mu.Unlock()
			p.lines <- sc.Text()
		}
		close(p.lines)
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})

	return p
}

// waitFor returns the first stderr line matching re, failing after 20s.
func (p *process) waitFor(t *testing.T, re *regexp.Regexp) []string {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case line, ok := <-p.lines:
			if !ok {
				t.Fatalf("stderr ended without %v:\n%s", re, p.stderr())
			}
			if m := re.FindStringSubmatch(line); m != nil {
				return m
			}
		case <-timeout:
			t.Fatalf("no %v on stderr within 20s:\n%s", re, p.stderr())
		}
	}
}

// stop sends sig and returns the exit code, failing after 15s.
func (p *process) stop(t *testing.T, sig os.Signal) int {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		for range p.lines {
		}
		p.cmd.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		t.Fatalf("no exit within 15s of %v:\n%s", sig, p.stderr())
	}

	return p.cmd.ProcessState.ExitCode()
}

func (p *process) stderr() string {
	p.mu.Lock()
	defer p.mu.Unlock()

	return strings.Join(p.all, "\n")
}

var (
	servingLine = regexp.MustCompile(`msg="patchbay serving" api_addr=(\S+)`)
	tokenLine   = regexp.MustCompile(`^([0-9a-f]{32})$`)
)

func TestBinaryServe(t *testing.T) {
	dataDir := t.TempDir()
	env := []string{"PATCHBAY_DATA_DIR=" + dataDir, "PATCHBAY_API_LISTEN=127.0.0.1:0",
		"PATCHBAY_SIP_LISTEN=127.0.0.1:0", "PATCHBAY_LOG_LEVEL=debug"}

	p := startBinary(t, env, "serve")
	token := p.waitFor(t, tokenLine)[1]
	addr := p.waitFor(t, servingLine)[1]
	stored, err := os.ReadFile(filepath.Join(dataDir, tokenFileName))
	if err != nil || strings.TrimSpace(string(stored)) != token {
		t.Errorf("printed token %s, stored %q (%v)", token, stored, err)
	}
	checkGet(t, "http://"+addr+"/healthz", "", http.StatusOK)
	checkGet(t, "http://"+addr+"/2010-04-01/Accounts.json", token, http.StatusOK)
	if code := p.stop(t, syscall.SIGTERM); code != 0 {
		t.Errorf("exit %d after SIGTERM, want 0:\n%s", code, p.stderr())
	}
	if !strings.Contains(p.stderr(), `msg="patchbay drained"`) {
		t.Errorf("no drain logged after SIGTERM:\n%s", p.stderr())
	}
	if n := strings.Count(p.stderr(), token); n != 1 {
		t.Errorf("the token appears %d times on stderr, want once (its announcement)", n)
	}

	p = startBinary(t, env, "serve")
	p.waitFor(t, servingLine)
	if code := p.stop(t, syscall.SIGINT); code != 0 {
		t.Errorf("exit %d after SIGINT, want 0", code)
	}
	if strings.Contains(p.stderr(), token) || strings.Contains(p.stderr(), "generated") {
		t.Errorf("second start printed the token again:\n%s", p.stderr())
	}
}

func checkGet(t *testing.T, url, token string, want int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.SetBasicAuth("admin", token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	resp.Body.Close()
	if resp.StatusCode != want {
		t.Errorf("GET %s = %d, want %d", url, resp.StatusCode, want)
	}
}

func TestBinaryExitCodes(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { busy.Close() })
	file := filepath.Join(t.TempDir(), "file")
	writeFile(t, file, "x")
	badYAML := filepath.Join(t.TempDir(), "bad.yaml")
	writeFile(t, badYAML, "log:\n  level: loud\nsip:\n  listne: 1.2.3.4:5060\n")

	tests := []struct {
		name      string
		args      []string
		env       []string
		wantCode  int
		wantLines []string // every stderr line must contain the matching entry
	}{
		{"version", []string{"version"}, nil, 0, nil},
		{"port in use", nil, []string{"PATCHBAY_API_LISTEN=" + busy.Addr().String()}, 1,
			[]string{"patchbay: cannot listen: api.listen " + busy.Addr().String() +
				": bind: address already in use"}},
		{"bad configuration", []string{"serve"},
			[]string{"PATCHBAY_MEDIA_PORTS=20000-10000", "PATCHBAY_API_LISTEN=nowhere"}, 1,
			[]string{"patchbay: conf: api.listen (PATCHBAY_API_LISTEN)",
				"patchbay: conf: media.ports (PATCHBAY_MEDIA_PORTS)"}},
		{"bad configuration file", []string{"serve", "--config", badYAML}, nil, 1,
			[]string{`patchbay: conf: sip.listne: unknown key (line 4)`,
				`patchbay: conf: log.level: "loud": must be one of debug, info, warn, error` +
					" (line 2)"}},
		{"unwritable data dir", []string{"serve"},
			[]string{"PATCHBAY_DATA_DIR=" + filepath.Join(file, "data")}, 1,
			[]string{"patchbay: data folder unusable: data_dir"}},
		{"usage", []string{"serve", "--bogus"}, nil, 2,
			[]string{"patchbay: serve: flag provided but not defined", "patchbay help"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := append([]string{"PATCHBAY_DATA_DIR=" + t.TempDir(),
				"PATCHBAY_SIP_LISTEN=127.0.0.1:0", "PATCHBAY_API_LISTEN=127.0.0.1:0"}, tt.env...)
			cmd := exec.Command(binary(t), tt.args...)
			cmd.Env = env
			var stdout, stderr strings.Builder
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			runErr := cmd.Run()
			if code := cmd.ProcessState.ExitCode(); code != tt.wantCode {
				t.Fatalf("exit %d (%v), want %d\nstderr: %s",
					code, runErr, tt.wantCode, stderr.String())
			}
			if tt.wantCode == 0 {
				if !strings.HasPrefix(stdout.String(), "patchbay "+testVersion+" ") {
					t.Errorf("version printed %q", stdout.String())
				}

				return
			}
			lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
			if len(lines) != len(tt.wantLines) {
				t.Fatalf("stderr has %d lines, want %d:\n%s",
					len(lines), len(tt.wantLines), stderr.String())
			}
			for i, want := range tt.wantLines {
				if !strings.Contains(lines[i], want) {
					t.Errorf("stderr line %d %q lacks %q", i+1, lines[i], want)
				}
			}
		})
	}
}
