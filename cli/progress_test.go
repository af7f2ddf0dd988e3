package cli

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tap-recurly/tap-recurly/recurlytest"
)

// TestProgressLines: with stderr not a terminal, a long run logs per
// listing its records so far of the total the count expects, percent, rate
// and ETA, at INFO, in text and JSON formats, at any max_workers (one
// worker splits no listing, and its listings are counted all the same); no
// terminal escapes. A line without a total shows no percent and no ETA.
func TestProgressLines(t *testing.T) {
	srv := newTestSite(t, recurlytest.Config{Seed: 5, Counts: recurlytest.ScaledCounts(6000), Latency: 20 * time.Millisecond})
	dir := t.TempDir()
	cfg := siteConfig(srv, "")
	cfg["start_date"] = "2019-01-01T00:00:00Z"
	counted := regexp.MustCompile(`progress: (\S+): (\d+) of (\d+) records \((\d+\.\d)%\), \d+ records/s, ETA \S+`)
	uncounted := regexp.MustCompile(`progress: (\S+): (\d+) records so far, \d+ records/s( |$)`)
	for _, tt := range []struct {
		format  string
		workers int // 0: the default
	}{{"text", 0}, {"json", 0}, {"text", 1}} {
		format := tt.format
		t.Run(fmt.Sprintf("%s workers %d", format, tt.workers), func(t *testing.T) {
			if tt.workers > 0 {
				cfg["max_workers"] = tt.workers
			}
			cfgPath := writeFile(t, dir, "config.json", cfg)
			r := runInProcess(t, "progress "+format, env{progressEvery: 50 * time.Millisecond}, "--config", cfgPath, "--log-format", format)
			if r.code != ExitOK {
				t.Fatalf("exit %d; %q", r.code, r.errorLines())
			}
			if strings.Contains(string(r.stderr), "\x1b[") {
				t.Error("terminal escape codes on a stderr that is not a terminal")
			}
			lines, withTotal := 0, 0
			for _, l := range strings.Split(string(r.stderr), "\n") {
				msg := l
				if format == "json" && strings.HasPrefix(l, "{") {
					var rec map[string]any
					if err := json.Unmarshal([]byte(l), &rec); err != nil {
						t.Fatalf("not JSON: %s", l)
					}
					msg, _ = rec["msg"].(string)
					if strings.HasPrefix(msg, "progress: ") && rec["level"] != "INFO" {
						t.Errorf("progress at %v, want INFO", rec["level"])
					}
					if m := counted.FindStringSubmatch(msg); m != nil && (rec["total"] == nil || rec["eta_s"] == nil && !strings.Contains(msg, "ETA unknown")) {
						t.Errorf("JSON progress line without its figures: %s", l)
					}
				} else if strings.Contains(l, "progress: ") && !strings.HasPrefix(l, "INFO progress: ") {
					t.Errorf("progress line not at INFO: %s", l)
				}
				if !strings.HasPrefix(msg, "progress: ") && !strings.HasPrefix(msg, "INFO progress: ") {
					continue
				}
				lines++
				if counted.MatchString(msg) {
					withTotal++
				} else if !uncounted.MatchString(msg) || strings.Contains(msg, "%") || strings.Contains(msg, "ETA") || strings.Contains(msg, "eta_s") {
					t.Errorf("progress line neither counted nor plainly uncounted: %s", msg)
				}
			}
			t.Logf("%d progress lines, %d with totals", lines, withTotal)
			if lines == 0 || withTotal == 0 {
				t.Errorf("%d progress lines, %d with an expected total; stderr:\n%s", lines, withTotal, r.stderr)
			}
		})
	}
}
