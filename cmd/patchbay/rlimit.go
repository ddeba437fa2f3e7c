package main

import (
	"log/slog"
	"syscall"
)

// fileMargin is the open files kept for everything but media sockets:
// SIP connections, HTTP clients and servers, the database, logs.
const fileMargin = 4096

// raiseFileLimit makes room for one open file per media port plus a
// margin. Go lifts the soft limit to the hard one at start; a hard limit
// below the need is raised too where the process may (as root, up to the
// kernel's nr_open), and otherwise reported once, naming the number, since
// calls beyond it would fail for want of sockets.
func raiseFileLimit(mediaPorts int, log *slog.Logger) {
	need := uint64(mediaPorts + fileMargin)
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		log.Warn("cannot read the open files limit", "error", err)

		return
	}
	if lim.Cur >= need {
		return
	}
	want := syscall.Rlimit{Cur: need, Max: max(lim.Max, need)}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want); err == nil {
		log.Info("open files limit raised for the media ports", "limit", need)

		return
	}
	if lim.Cur < lim.Max {
		want = syscall.Rlimit{Cur: lim.Max, Max: lim.Max}
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want); err == nil {
			lim.Cur = lim.Max
		}
	}
	log.Warn("open files limit below what the media ports need; raise it (ulimit -n)",
		"limit", lim.Cur, "needed", need)
}
