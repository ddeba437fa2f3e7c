package main

import (
	"bytes"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestAdminToken(t *testing.T) {
	tests := []struct {
		name       string
		configured string
		file       *string // content of admin_token before the call; nil: absent
		folder     bool    // admin_token is a folder
		missingDir bool    // the data folder does not exist
		wantToken  string  // "" with wantNew: any fresh 32-hex token
		wantNew    bool    // generated, stored and announced
		wantErr    error
	}{
		{name: "configured wins", configured: "configured-token-123",
			wantToken: "configured-token-123"},
		{name: "generated on first start", wantNew: true},
		{name: "read from file", file: ptr("stored-token-0123456789\n"),
			wantToken: "stored-token-0123456789"},
		{name: "file too short", file: ptr("x9q2\n"), wantErr: errAdminToken},
		{name: "file with two tokens", file: ptr("aaaaaaaaaaaaaaaaaa bbbbbbbbbbbbbbbbbb"),
			wantErr: errAdminToken},
		{name: "file is a folder", folder: true, wantErr: errAdminToken},
		{name: "cannot store", missingDir: true, wantErr: errAdminToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if tt.missingDir {
				dir = filepath.Join(dir, "missing")
			}
			file := filepath.Join(dir, tokenFileName)
			if tt.file != nil {
				writeFile(t, file, *tt.file)
			}
			if tt.folder {
				if err := os.Mkdir(file, 0o700); err != nil {
					t.Fatal(err)
				}
			}
			var announce bytes.Buffer
			token, err := adminToken(dir, tt.configured, &announce)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("adminToken error %v, want %v", err, tt.wantErr)
				}
				content := strings.TrimSpace(deref(tt.file))
				if content != "" && strings.Contains(err.Error(), content) {
					t.Errorf("error quotes the file's content: %v", err)
				}

				return
			}
			if err != nil {
				t.Fatalf("adminToken: %v", err)
			}
			if !tt.wantNew {
				eq(t, token, tt.wantToken)
				eq(t, announce.String(), "")
				if _, err := os.Stat(file); tt.file == nil && err == nil {
					t.Error("a configured token was written to disk")
				}

				return
			}
			checkGenerated(t, file, token, announce.String())
		})
	}
}

// checkGenerated asserts a fresh token: 32 hex, stored 0600, announced once,
// and read back unchanged, silently, by the next start.
func checkGenerated(t *testing.T, file, token, announced string) {
	t.Helper()
	if b, err := hex.DecodeString(token); err != nil || len(b) != tokenBytes {
		t.Errorf("generated token %q is not 32 hex characters", token)
	}
	if !strings.Contains(announced, token) || !strings.Contains(announced, file) {
		t.Errorf("announcement %q lacks the token or the file", announced)
	}
	fi, err := os.Stat(file)
	if err != nil {
		t.Fatalf("token file: %v", err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("token file mode %v, want 0600", fi.Mode().Perm())
	}
	var again bytes.Buffer
	second, err := adminToken(filepath.Dir(file), "", &again)
	if err != nil || second != token {
		t.Errorf("second start read %q, %v; want %q", second, err, token)
	}
	if again.Len() != 0 {
		t.Errorf("second start announced the token again: %q", again.String())
	}
}

func TestPrepareDataDir(t *testing.T) {
	base := t.TempDir()
	file := filepath.Join(base, "plain-file")
	writeFile(t, file, "x")
	tests := []struct {
		name, dir string
		wantErr   bool
	}{
		{"existing", base, false},
		{"created with parents", filepath.Join(base, "a", "b"), false},
		{"under a file", filepath.Join(file, "data"), true},
		{"is a file", file, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := prepareDataDir(tt.dir)
			if tt.wantErr {
				if !errors.Is(err, errDataDir) || !strings.Contains(err.Error(), tt.dir) {
					t.Errorf("prepareDataDir(%s) = %v, want errDataDir naming the folder",
						tt.dir, err)
				}

				return
			}
			if err != nil {
				t.Fatalf("prepareDataDir: %v", err)
			}
			entries, err := os.ReadDir(tt.dir)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range entries {
				if strings.HasPrefix(e.Name(), ".probe-") {
					t.Errorf("probe file %s left behind", e.Name())
				}
			}
		})
	}
}

func writeFile(t *testing.T, name, content string) {
	t.Helper()
	if err := os.WriteFile(name, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func ptr[T any](v T) *T { return &v }

func deref(s *string) string {
	if s == nil {
		return ""
	}

	return *s
}

// eq fails the test when got differs from want.
func eq[T comparable](t *testing.T, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestOpenDBPrivate(t *testing.T) {
	dir := t.TempDir()
	db, err := openDB(t.Context(), dir)
	if err != nil {
		t.Fatalf("openDB: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.ExecContext(t.Context(), "CREATE TABLE t (x)"); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{dbFileName, dbFileName + "-wal"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatalf("stat %s: %v", name, err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", name, fi.Mode().Perm())
		}
	}
}

func TestTokenFileExposedWarning(t *testing.T) {
	tests := []struct {
		name string
		mode os.FileMode
		warn bool
	}{
		{"private", 0o600, false},
		{"group readable", 0o640, true},
		{"world readable", 0o644, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig(t, map[string]string{"PATCHBAY_ADMIN_TOKEN": ""})
			file := filepath.Join(cfg.DataDir, tokenFileName)
			writeFile(t, file, "stored-token-0123456789\n")
			if err := os.Chmod(file, tt.mode); err != nil {
				t.Fatal(err)
			}
			var logs bytes.Buffer
			s, err := openServer(t.Context(), cfg, slog.New(slog.NewTextHandler(&logs, nil)),
				io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			s.Close()
			eq(t, s.adminToken, "stored-token-0123456789")
			eq(t, strings.Contains(logs.String(), "admin token file is open"), tt.warn)
			if strings.Contains(logs.String(), "stored-token") {
				t.Error("the token was logged")
			}
		})
	}
}
