// Package logging builds the tap's stderr logger: readable text lines in
// the singer-python style ("INFO message key=value") by default, or one JSON
// object per line for log collectors.
package logging

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
)

// ParseLevel reads debug, info, warn/warning or error (any case).
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

// New returns a logger writing to w at level in format "text" or "json".
func New(w io.Writer, level slog.Level, format string) (*slog.Logger, error) {
	switch format {
	case "", "text":
		return slog.New(&textHandler{w: w, level: level, mu: &sync.Mutex{}}), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level})), nil
	}
	return nil, fmt.Errorf("unknown log format %q (want text or json)", format)
}

// textHandler writes "LEVEL message key=value ..." lines. Metric lines
// therefore come out exactly as singer-python writes them:
// "INFO METRIC: {...}".
type textHandler struct {
	w     io.Writer
	level slog.Level
	attrs []slog.Attr
	mu    *sync.Mutex
}

func (h *textHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level }

func (h *textHandler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	lvl := r.Level.String()
	if r.Level == slog.LevelWarn {
		lvl = "WARNING"
	}
	b.WriteString(lvl)
	b.WriteByte(' ')
	b.WriteString(r.Message)
	if !strings.HasPrefix(r.Message, "METRIC: ") {
		write := func(a slog.Attr) bool {
			v := a.Value.Resolve().String()
			if strings.ContainsAny(v, " \"=") {
				v = fmt.Sprintf("%q", v)
			}
			b.WriteString(" " + a.Key + "=" + v)
			return true
		}
		for _, a := range h.attrs {
			write(a)
		}
		r.Attrs(write)
	}
	b.WriteByte('\n')
	h.mu.Lock()
	defer h.mu.Unlock()
	_, err := io.WriteString(h.w, b.String())
	return err
}

func (h *textHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	n := *h
	n.attrs = append(append([]slog.Attr{}, h.attrs...), attrs...)
	return &n
}

func (h *textHandler) WithGroup(string) slog.Handler { return h }
