package logging

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestParseLevel(t *testing.T) {
	tests := []struct {
		in      string
		want    slog.Level
		wantErr bool
	}{
		{"", slog.LevelInfo, false},
		{"debug", slog.LevelDebug, false},
		{"DEBUG", slog.LevelDebug, false},
		{" info ", slog.LevelInfo, false},
		{"warn", slog.LevelWarn, false},
		{"Warning", slog.LevelWarn, false},
		{"error", slog.LevelError, false},
		{"verbose", 0, true},
		{"10", 0, true},
	}
	for _, tc := range tests {
		got, err := ParseLevel(tc.in)
		if (err != nil) != tc.wantErr || (err == nil && got != tc.want) {
			t.Errorf("ParseLevel(%q) = %v, %v; want %v, error %v", tc.in, got, err, tc.want, tc.wantErr)
		}
		if err != nil && !strings.Contains(err.Error(), "want debug, info, warn or error") {
			t.Errorf("ParseLevel(%q) error %q does not list the levels", tc.in, err)
		}
	}
}

func TestNewRejectsUnknownFormat(t *testing.T) {
	for _, f := range []string{"xml", "JSON", "logfmt"} {
		if _, err := New(&bytes.Buffer{}, slog.LevelInfo, f); err == nil || !strings.Contains(err.Error(), "want text or json") {
			t.Errorf("New(%q) error %v", f, err)
		}
	}
}

func TestTextFormat(t *testing.T) {
	tests := []struct {
		name string
		log  func(*slog.Logger)
		want string
	}{
		{"plain", func(l *slog.Logger) { l.Info("stream accounts: done") }, "INFO stream accounts: done\n"},
		{"warning word", func(l *slog.Logger) { l.Warn("config.json: foo: unknown key, ignored") },
			"WARNING config.json: foo: unknown key, ignored\n"},
		{"error", func(l *slog.Logger) { l.Error("boom") }, "ERROR boom\n"},
		{"debug", func(l *slog.Logger) { l.Debug("request", "status", 200) }, "DEBUG request status=200\n"},
		{"attrs quoted when needed", func(l *slog.Logger) {
			l.Info("request", "path", "/sites/s/accounts?limit=200&order=asc", "reason", "status 503", "ok", "plain", "q", `a"b`)
		}, `INFO request path="/sites/s/accounts?limit=200&order=asc" reason="status 503" ok=plain q="a\"b"` + "\n"},
		{"newline in a value", func(l *slog.Logger) { l.Info("x", "err", "line1\nline2") }, `INFO x err="line1\nline2"` + "\n"},
		{"newline in the message", func(l *slog.Logger) { l.Info("first\nsecond") }, `INFO first\nsecond` + "\n"},
		{"durations and times", func(l *slog.Logger) {
			l.Info("quota", "wait", 1500*time.Millisecond, "reset", time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
		}, `INFO quota wait=1.5s reset="2026-01-02 03:04:05 +0000 UTC"` + "\n"},
		{"metric lines are exactly singer-python's", func(l *slog.Logger) {
			l.Info(`METRIC: {"type":"counter","metric":"record_count","value":3,"tags":{"endpoint":"accounts"}}`, "stream", "accounts")
		}, `INFO METRIC: {"type":"counter","metric":"record_count","value":3,"tags":{"endpoint":"accounts"}}` + "\n"},
		{"WithAttrs", func(l *slog.Logger) { l.With("stream", "plans").Info("page", "records", 200) },
			"INFO page stream=plans records=200\n"},
		{"groups qualify keys", func(l *slog.Logger) {
			l.WithGroup("http").Info("r", "status", 429, slog.Group("rate", "limit", 2000, "remaining", 0))
		}, "INFO r http.status=429 http.rate.limit=2000 http.rate.remaining=0\n"},
		{"empty attrs dropped", func(l *slog.Logger) { l.Info("m", slog.Attr{}, "k", "v") }, "INFO m k=v\n"},
		{"below the level", func(l *slog.Logger) { l.Debug("hidden") }, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			level := slog.LevelInfo
			if strings.HasPrefix(tc.want, "DEBUG") {
				level = slog.LevelDebug
			}
			l, err := New(&buf, level, "")
			if err != nil {
				t.Fatal(err)
			}
			tc.log(l)
			if buf.String() != tc.want {
				t.Errorf("got  %q\nwant %q", buf.String(), tc.want)
			}
		})
	}
}

func TestLevels(t *testing.T) {
	for _, format := range []string{FormatText, FormatJSON} {
		for _, tc := range []struct {
			level slog.Level
			want  int // lines out of debug, info, warn, error
		}{{slog.LevelDebug, 4}, {slog.LevelInfo, 3}, {slog.LevelWarn, 2}, {slog.LevelError, 1}} {
			var buf bytes.Buffer
			l, err := New(&buf, tc.level, format)
			if err != nil {
				t.Fatal(err)
			}
			l.Debug("d")
			l.Info("i")
			l.Warn("w")
			l.Error("e")
			if got := strings.Count(buf.String(), "\n"); got != tc.want {
				t.Errorf("%s at %v: %d lines, want %d:\n%s", format, tc.level, got, tc.want, buf.String())
			}
		}
	}
}

func TestJSONFormat(t *testing.T) {
	var buf bytes.Buffer
	l, err := New(&buf, slog.LevelDebug, FormatJSON)
	if err != nil {
		t.Fatal(err)
	}
	l.Debug("request", "method", "GET", "path", "/sites/s/accounts?limit=200", "status", 200)
	l.Warn("multi\nline", "err", errors.New("x\ny"))
	l.Info(`METRIC: {"type":"timer","metric":"http_request_duration","value":0.1}`)
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines, want 3:\n%s", len(lines), buf.String())
	}
	want := []map[string]any{
		{"level": "DEBUG", "msg": "request", "method": "GET", "path": "/sites/s/accounts?limit=200", "status": float64(200)},
		{"level": "WARN", "msg": "multi\nline", "err": "x\ny"},
		{"level": "INFO", "msg": `METRIC: {"type":"timer","metric":"http_request_duration","value":0.1}`},
	}
	for i, line := range lines {
		var got map[string]any
		if err := json.Unmarshal([]byte(line), &got); err != nil {
			t.Fatalf("line %d is not JSON: %v: %q", i, err, line)
		}
		if _, err := time.Parse(time.RFC3339Nano, got["time"].(string)); err != nil {
			t.Errorf("line %d: time %v: %v", i, got["time"], err)
		}
		for k, v := range want[i] {
			if got[k] != v {
				t.Errorf("line %d: %s = %#v, want %#v", i, k, got[k], v)
			}
		}
	}
}

// TestConcurrentLinesStayWhole logs from many goroutines and checks that
// no two records are interleaved within a line.
func TestConcurrentLinesStayWhole(t *testing.T) {
	for _, format := range []string{FormatText, FormatJSON} {
		var buf bytes.Buffer
		l, err := New(&syncWriter{w: &buf}, slog.LevelInfo, format)
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for g := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range 200 {
					l.Info("page written", "goroutine", g, "page", i, "payload", strings.Repeat("x", 100))
				}
			}()
		}
		wg.Wait()
		lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
		if len(lines) != 8*200 {
			t.Fatalf("%s: %d lines, want %d", format, len(lines), 8*200)
		}
		for _, line := range lines {
			ok := strings.HasPrefix(line, "INFO page written goroutine=") && strings.HasSuffix(line, strings.Repeat("x", 100))
			if format == FormatJSON {
				ok = json.Valid([]byte(line))
			}
			if !ok {
				t.Fatalf("%s: torn line %q", format, line)
			}
		}
	}
}

// syncWriter serializes Writes, as an *os.File does for whole writes.
type syncWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}
