package cli

import (
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/tap-recurly/tap-recurly/recurlytest"
)

// requestLine matches the client's per-attempt debug line in text format.
var requestLine = regexp.MustCompile(`^DEBUG request method=(GET|HEAD) path=("(?:[^"\\]|\\.)*"|\S+) status=(\d+) `)

// debugRequests returns "METHOD path?query status" for every request line on
// stderr (text format).
func debugRequests(t *testing.T, stderr string) []string {
	t.Helper()
	var out []string
	for _, line := range strings.Split(stderr, "\n") {
		m := requestLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		path := m[2]
		if strings.HasPrefix(path, `"`) {
			var err error
			if path, err = strconv.Unquote(path); err != nil {
				t.Fatalf("bad quoting in %q: %v", line, err)
			}
		}
		out = append(out, m[1]+" "+path+" "+m[3])
	}
	return out
}

// siteRequests returns "METHOD path?query status" for every request the site
// served, in the same form as debugRequests.
func siteRequests(srv *recurlytest.Server) []string {
	var out []string
	for _, r := range srv.Site.Requests() {
		p := r.Path
		if r.RawQuery != "" {
			p += "?" + r.RawQuery
		}
		out = append(out, r.Method+" "+p+" "+strconv.Itoa(r.Status))
	}
	return out
}

func sameMultiset(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	n := map[string]int{}
	for _, s := range a {
		n[s]++
	}
	for _, s := range b {
		n[s]--
		if n[s] < 0 {
			return false
		}
	}
	return true
}

// TestLogLevel runs a sync at each level setting (flag, LOG_LEVEL, both)
// and checks that debug shows one request line per request the site saw,
// and that other levels hide what they should.
func TestLogLevel(t *testing.T) {
	// Invoices span several pages: a listing that fits one page costs one
	// request.
	counts := cliTinyCounts
	counts.Invoices = 450
	srv := startSim(t, recurlytest.Config{Seed: 2, Counts: counts})
	cfg := writeSimConfig(t, srv, nil)
	catalog := catalogSelecting(t, "accounts", "billing_info", "invoices", "transactions")
	tests := []struct {
		name      string
		env       string // LOG_LEVEL
		args      []string
		wantDebug bool
		wantInfo  bool
	}{
		{name: "default is info", wantInfo: true},
		{name: "flag debug", args: []string{"--log-level", "debug"}, wantDebug: true, wantInfo: true},
		{name: "LOG_LEVEL debug", env: "debug", wantDebug: true, wantInfo: true},
		{name: "LOG_LEVEL any case", env: "DEBUG", wantDebug: true, wantInfo: true},
		{name: "flag wins over LOG_LEVEL", env: "debug", args: []string{"--log-level", "info"}, wantInfo: true},
		{name: "warn hides info", args: []string{"--log-level", "warn"}},
		{name: "LOG_LEVEL error", env: "error"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("LOG_LEVEL", tc.env)
			srv.Site.ResetRequests()
			code, stdout, stderr := runCmd(t, append([]string{"--config", cfg, "--catalog", catalog}, tc.args...)...)
			if code != ExitOK {
				t.Fatalf("exit %d; stderr:\n%s", code, stderr)
			}
			if !strings.Contains(stdout, `"type":"STATE"`) {
				t.Fatalf("no STATE on stdout")
			}
			got, want := debugRequests(t, stderr), siteRequests(srv)
			if len(want) < 4 {
				t.Fatalf("only %d requests: the test needs several pages", len(want))
			}
			if tc.wantDebug {
				if !sameMultiset(got, want) {
					t.Errorf("debug request lines differ from the site's request log:\nlines %q\nsite  %q", got, want)
				}
			} else if strings.Contains(stderr, "DEBUG ") {
				t.Errorf("debug lines at a level above debug:\n%s", stderr)
			}
			hasInfo := strings.Contains(stderr, "INFO ")
			if hasInfo != tc.wantInfo {
				t.Errorf("INFO lines shown %v, want %v:\n%s", hasInfo, tc.wantInfo, stderr)
			}
			if tc.wantInfo && !strings.Contains(stderr, `INFO METRIC: {"type":"counter","metric":"record_count"`) {
				t.Errorf("no record_count METRIC line at info:\n%s", stderr)
			}
		})
	}
}

func TestLogSettingsRejected(t *testing.T) {
	tests := []struct {
		name, env string
		args      []string
		want      string
	}{
		{name: "flag level", args: []string{"--log-level", "verbose"}, want: `--log-level: unknown log level "verbose"`},
		{name: "LOG_LEVEL", env: "loud", want: `unknown log level "loud"`},
		{name: "format", args: []string{"--log-format", "xml"}, want: `--log-format: unknown log format "xml"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("LOG_LEVEL", tc.env)
			code, stdout, stderr := runCmd(t, append([]string{"--discover"}, tc.args...)...)
			if code != ExitBadInput || stdout != "" || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stdout %d bytes, stderr %q; want exit 2 and %q", code, len(stdout), stderr, tc.want)
			}
		})
	}
}

// TestLogFormatJSON checks that with --log-format json every stderr line is
// a JSON object with time, level and msg, for a sync (at debug, so request
// lines are included) and for a passing --test.
func TestLogFormatJSON(t *testing.T) {
	t.Setenv("LOG_LEVEL", "")
	srv := startSim(t, recurlytest.Config{Seed: 2, Counts: cliTinyCounts})
	cfg := writeSimConfig(t, srv, nil)
	runs := []struct {
		name string
		args []string
		want []string // msg prefixes that must occur
	}{
		{"sync", []string{"--config", cfg, "--log-format", "json", "--log-level", "debug"},
			[]string{"selected streams", "request", "METRIC: ", "sync finished"}},
		{"test", []string{"--config", cfg, "--test", "--log-format", "json"},
			[]string{"connection test"}},
	}
	for _, r := range runs {
		t.Run(r.name, func(t *testing.T) {
			code, _, stderr := runCmd(t, r.args...)
			if code != ExitOK {
				t.Fatalf("exit %d; stderr:\n%s", code, stderr)
			}
			seen := map[string]bool{}
			lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
			for _, line := range lines {
				var rec map[string]any
				if err := json.Unmarshal([]byte(line), &rec); err != nil {
					t.Fatalf("stderr line is not JSON: %v: %q", err, line)
				}
				msg, _ := rec["msg"].(string)
				if _, ok := rec["time"].(string); !ok || rec["level"] == nil || msg == "" {
					t.Errorf("line lacks time, level or msg: %q", line)
				}
				if rest, ok := strings.CutPrefix(msg, "METRIC: "); ok && !json.Valid([]byte(rest)) {
					t.Errorf("METRIC payload is not JSON: %q", msg)
				}
				for _, w := range r.want {
					if strings.HasPrefix(msg, w) {
						seen[w] = true
					}
				}
				if msg == "connection test" && (rec["stream"] == nil || rec["result"] != testOK) {
					t.Errorf("connection test line without stream or OK result: %q", line)
				}
			}
			for _, w := range r.want {
				if !seen[w] {
					t.Errorf("no line with msg %q... in %d lines", w, len(lines))
				}
			}
		})
	}
}

// TestLogFormatTextDefault checks the default stays readable text: every
// stderr line of a sync starts with a level word, METRIC lines are exactly
// singer-python's "INFO METRIC: {json}", and no line is a JSON object.
func TestLogFormatTextDefault(t *testing.T) {
	t.Setenv("LOG_LEVEL", "")
	srv := startSim(t, recurlytest.Config{Seed: 2, Counts: cliTinyCounts})
	code, _, stderr := runCmd(t, "--config", writeSimConfig(t, srv, nil))
	if code != ExitOK {
		t.Fatalf("exit %d; stderr:\n%s", code, stderr)
	}
	metrics := 0
	for _, line := range strings.Split(strings.TrimSuffix(stderr, "\n"), "\n") {
		level, msg, _ := strings.Cut(line, " ")
		switch level {
		case "INFO", "WARNING", "ERROR":
		default:
			t.Errorf("line does not start with a level: %q", line)
		}
		if strings.HasPrefix(line, "{") {
			t.Errorf("JSON line in text format: %q", line)
		}
		if rest, ok := strings.CutPrefix(msg, "METRIC: "); ok {
			metrics++
			if !json.Valid([]byte(rest)) {
				t.Errorf("METRIC payload is not JSON: %q", line)
			}
		}
	}
	if metrics == 0 {
		t.Errorf("no METRIC lines:\n%s", stderr)
	}
}
