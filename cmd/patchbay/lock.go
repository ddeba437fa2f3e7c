package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// lockFileName is the lock that keeps two serve processes off one folder.
const lockFileName = "serve.lock"

// lockDataDir takes an exclusive advisory lock (flock) on
// <dir>/serve.lock, so that two serve processes never share a data folder
// and with it one node's open calls and CDRs. The file holds the holder's
// process ID. The lock ends when the returned func closes the file, or
// when the process dies; the file itself stays. Only Unix systems are
// supported.
func lockDataDir(dir string) (unlock func() error, err error) {
	name := filepath.Join(dir, lockFileName)
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("%w: lock %s: %w", errDataDir, name, unwrapPath(err))
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder, _ := os.ReadFile(name)
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w: data_dir %q is in use by another patchbay serve (pid %s)",
				errDataDir, dir, pidText(holder))
		}

		return nil, fmt.Errorf("%w: lock %s: %w", errDataDir, name, err)
	}
	// The process ID only informs the operator; failing to record it is
	// harmless, so its errors are ignored.
	if f.Truncate(0) == nil {
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}

	return f.Close, nil
}

// pidText is the process ID read from a lock file, or "unknown".
func pidText(b []byte) string {
	s := strings.TrimSpace(string(b))
	if _, err := strconv.Atoi(s); err != nil {
		return "unknown"
	}

	return s
}
