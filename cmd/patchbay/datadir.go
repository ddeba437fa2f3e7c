package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/patchbay/patchbay/tenancy"
)

// Files in the data folder.
const (
	dbFileName    = "patchbay.db"
	tokenFileName = "admin_token"
	tokenBytes    = 16 // 32 hex characters
	minTokenLen   = 16
)

// prepareDataDir creates dir when missing and proves it writable by
// creating and removing a file in it.
func prepareDataDir(dir string) error {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("%w: data_dir %q: %w", errDataDir, dir, unwrapPath(err))
	}
	probe, err := os.CreateTemp(dir, ".probe-*")
	if err != nil {
		return fmt.Errorf("%w: data_dir %q: not writable: %w", errDataDir, dir, unwrapPath(err))
	}
	name := probe.Name()
	probe.Close()
	if err := os.Remove(name); err != nil {
		return fmt.Errorf("%w: data_dir %q: %w", errDataDir, dir, unwrapPath(err))
	}

	return nil
}

// openDB opens <dir>/patchbay.db with tenancy.OpenDB. A new database file
// is created with mode 0600 first, since it holds auth tokens and digest
// hashes, and SQLite gives its WAL and shared-memory files the same mode.
func openDB(ctx context.Context, dir string) (*sql.DB, error) {
	file := filepath.Join(dir, dbFileName)
	f, err := os.OpenFile(file, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("%w: database %s: %w", errDataDir, file, unwrapPath(err))
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("%w: database %s: %w", errDataDir, file, err)
	}

	return tenancy.OpenDB(ctx, file)
}

// adminToken returns the operator's credential. A configured token wins;
// otherwise the token stored in <dir>/admin_token is read, or, on first
// start, a random one is generated, stored with mode 0600 and printed once
// to announce.
func adminToken(dir, configured string, announce io.Writer) (token string, err error) {
	if configured != "" {
		return configured, nil
	}
	file := filepath.Join(dir, tokenFileName)
	token, err = readToken(file)
	if !errors.Is(err, fs.ErrNotExist) {
		return token, err
	}
	token, err = newToken()
	if err != nil {
		return "", err
	}
	if err := writeToken(file, token); err != nil {
		if errors.Is(err, fs.ErrExist) { // another process wrote it first
			return readToken(file)
		}

		return "", err
	}
	fmt.Fprintf(announce, "patchbay: generated the admin token, stored in %s;"+
		" it is shown only this once:\n%s\n", file, token)

	return token, nil
}

// tokenFileExposed reports the mode of <dir>/admin_token when users other
// than its owner may read or write it.
func tokenFileExposed(dir string) (os.FileMode, bool) {
	fi, err := os.Stat(filepath.Join(dir, tokenFileName))
	if err != nil || fi.Mode().Perm()&0o077 == 0 {
		return 0, false
	}

	return fi.Mode().Perm(), true
}

func readToken(file string) (string, error) {
	b, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	if err != nil {
		return "", fmt.Errorf("%w: read %s: %w", errAdminToken, file, unwrapPath(err))
	}
	token := strings.TrimSpace(string(b))
	if len(token) < minTokenLen || strings.ContainsAny(token, " \t\r\n") {
		return "", fmt.Errorf("%w: %s must hold one token of at least %d characters",
			errAdminToken, file, minTokenLen)
	}

	return token, nil
}

func newToken() (string, error) {
	b := make([]byte, tokenBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("%w: generate: %w", errAdminToken, err)
	}

	return hex.EncodeToString(b), nil
}

// writeToken creates file with the token, failing with fs.ErrExist when
// it already exists, and syncs it to disk.
func writeToken(file, token string) error {
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return err
		}

		return fmt.Errorf("%w: create %s: %w", errAdminToken, file, unwrapPath(err))
	}
	_, err = f.WriteString(token + "\n")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(file)

		return fmt.Errorf("%w: write %s: %w", errAdminToken, file, err)
	}

	return nil
}

// unwrapPath drops the operation and path an *fs.PathError repeats, since
// the caller's message names them already.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}

	return err
}
