package main

import "errors"

// Exit statuses of the binary.
const (
	exitOK    = 0
	exitError = 1 // start-up or runtime failure
	exitUsage = 2 // bad command line
)

var (
	// errUsage marks a bad command line; run prints the usage and exits 2.
	errUsage = errors.New("usage")

	// errDataDir reports a data folder that cannot be created or written.
	errDataDir = errors.New("data folder unusable")

	// errAdminToken reports an admin token file that cannot be read,
	// written or trusted.
	errAdminToken = errors.New("admin token")

	// errListen reports a listen address that cannot be bound.
	errListen = errors.New("cannot listen")
)
