package main

import (
	"io"
	"log/slog"

	"github.com/patchbay/patchbay/conf"
)

// newLogger builds the process logger writing to w as set in c.
func newLogger(c conf.Log, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: c.SlogLevel()}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}

	return slog.New(slog.NewTextHandler(w, opts))
}
