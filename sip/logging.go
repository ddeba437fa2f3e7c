package sip

import (
	"context"
	"log/slog"
)

// libraryHandler wraps the handler given to sipgo. sipgo logs whole raw
// messages under the key "data" when a message fails to parse, and logs
// routine per-message events at info and error level. Raw messages may hold
// Authorization headers and SDP keys, and per-packet logging at info is
// against house rules, so this handler replaces "data" values and lowers
// every record to debug; the edge logs what matters itself.
type libraryHandler struct {
	next slog.Handler
}

func newLibraryLogger(l *slog.Logger) *slog.Logger {
	return slog.New(libraryHandler{next: l.Handler()}).With("component", "sipgo")
}

// Enabled reports whether debug records are wanted, whatever the level.
func (h libraryHandler) Enabled(ctx context.Context, _ slog.Level) bool {
	return h.next.Enabled(ctx, slog.LevelDebug)
}

// Handle lowers r to debug and redacts raw message attributes.
func (h libraryHandler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, slog.LevelDebug, r.Message, r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(redactAttr(a))
		return true
	})

	return h.next.Handle(ctx, out)
}

// WithAttrs implements slog.Handler.
func (h libraryHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	clean := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		clean[i] = redactAttr(a)
	}

	return libraryHandler{next: h.next.WithAttrs(clean)}
}

// WithGroup implements slog.Handler.
func (h libraryHandler) WithGroup(name string) slog.Handler {
	return libraryHandler{next: h.next.WithGroup(name)}
}

// redactAttr hides raw SIP text.
func redactAttr(a slog.Attr) slog.Attr {
	switch a.Key {
	case "data", "msg", "res", "req", "invite_request", "invite_response":
		return slog.String(a.Key, "[redacted]")
	}

	return a
}
