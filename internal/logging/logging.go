// Package logging builds the tap's stderr logger: readable text lines in
// the singer-python style ("INFO message key=value") by default, or one JSON
// object per line (slog's JSON handler: time, level, msg, attributes) for
// log collectors. Either way one log record is exactly one line.
package logging

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"unicode"
)

// Formats accepted by New.
const (
	FormatText = "text"
	FormatJSON = "json"
)

// ParseLevel reads debug, info, warn/warning or error (any case, surrounding
// space ignored); "" means info.
func ParseLevel(s string) (slog.Level, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "debug":
		return slog.LevelDebug, nil
	case "", "info":
		return slog.LevelInfo, nil
	case "warn", "warning":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return 0, fmt.Errorf("unknown log level %q (want debug, info, warn or error)", s)
}

// New returns a logger writing to w at level in format FormatText (also "")
// or FormatJSON. The logger is safe for concurrent use; each record is
// written with a single Write call.
func New(w io.Writer, level slog.Level, format string) (*slog.Logger, error) {
	switch format {
	case "", FormatText:
		return slog.New(&textHandler{w: w, level: level, mu: &sync.Mutex{}}), nil
	case FormatJSON:
		return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level})), nil
	}
	return nil, fmt.Errorf("unknown log format %q (want text or json)", format)
}

// metricPrefix starts singer-python metric messages, which are written
// exactly as singer-python writes them: "INFO METRIC: {...}".
const metricPrefix = "METRIC: "

// textHandler writes "LEVEL message key=value ..." lines. Values with
// spaces, quotes, '=' or control characters are quoted Go-style; newlines in
// the message are escaped so a record never spans lines. Groups qualify keys
// with dots ("group.key").
type textHandler struct {
	w      io.Writer
	level  slog.Level
	attrs  string // preformatted " key=value" pairs from WithAttrs
	prefix string // group prefix from WithGroup, "" or "a.b."
	mu     *sync.Mutex
}

// Enabled implements slog.Handler.
func (h *textHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level }

// Handle implements slog.Handler.
func (h *textHandler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(levelName(r.Level))
	b.WriteByte(' ')
	b.WriteString(oneLine(r.Message))
	if !strings.HasPrefix(r.Message, metricPrefix) {
		b.WriteString(h.attrs)
		r.Attrs(func(a slog.Attr) bool {
			appendAttr(&b, h.prefix, a)
			return true
		})
	}
	b.WriteByte('\n')
	h.mu.Lock()
	defer h.mu.Unlock()
	_, err := io.WriteString(h.w, b.String())
	return err
}

// WithAttrs implements slog.Handler.
func (h *textHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	n := *h
	var b strings.Builder
	b.WriteString(h.attrs)
	for _, a := range attrs {
		appendAttr(&b, h.prefix, a)
	}
	n.attrs = b.String()
	return &n
}

// WithGroup implements slog.Handler.
func (h *textHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	n := *h
	n.prefix = h.prefix + name + "."
	return &n
}

// levelName is singer-python's level word (WARNING, not WARN).
func levelName(l slog.Level) string {
	if l == slog.LevelWarn {
		return "WARNING"
	}
	return l.String()
}

// appendAttr writes " key=value", flattening groups; empty attrs are dropped
// as slog requires.
func appendAttr(b *strings.Builder, prefix string, a slog.Attr) {
	a.Value = a.Value.Resolve()
	if a.Equal(slog.Attr{}) {
		return
	}
	if a.Value.Kind() == slog.KindGroup {
		p := prefix
		if a.Key != "" {
			p += a.Key + "."
		}
		for _, g := range a.Value.Group() {
			appendAttr(b, p, g)
		}
		return
	}
	b.WriteByte(' ')
	b.WriteString(prefix + a.Key)
	b.WriteByte('=')
	b.WriteString(quoteIfNeeded(a.Value.String()))
}

// quoteIfNeeded quotes v when it would not read back as one value.
func quoteIfNeeded(v string) string {
	for _, r := range v {
		if r == ' ' || r == '"' || r == '=' || unicode.IsControl(r) || !unicode.IsPrint(r) {
			return strconv.Quote(v)
		}
	}
	return v
}

// oneLine escapes line breaks so a message stays on its line.
func oneLine(s string) string {
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	return strings.NewReplacer("\r", `\r`, "\n", `\n`).Replace(s)
}
