package cli

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/tap-recurly/tap-recurly/recurlytest"
)

// TestStateFileContract runs the tap as the README's cron script does,
// with a state file of each shape a user may have: the run succeeds, and
// its last stdout line is a STATE holding the plans bookmark, so the
// script's mv always has a file to move.
func TestStateFileContract(t *testing.T) {
	ahead := time.Now().UTC().Add(3 * time.Hour).Truncate(time.Second).Format(time.RFC3339)
	for _, tt := range []struct{ name, state, atLeast string }{
		{"a leading UTF-8 byte-order mark", "\uFEFF" + `{"bookmarks":{"plans":{"updated_at":"2020-01-01T00:00:00Z"}}}`, "2020-01-01T00:00:00Z"},
		{"a bookmark a few hours ahead (nothing to read)", `{"bookmarks":{"plans":{"updated_at":"` + ahead + `"}}}`, ahead},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := newTestSite(t, recurlytest.Config{Seed: 3, Counts: smallCounts})
			dir := t.TempDir()
			cfg := writeFile(t, dir, "config.json", siteConfig(srv, ""))
			st := writeFile(t, dir, "state.json", tt.state)
			cat := writeFile(t, dir, "catalog.json", map[string]any{"streams": []any{map[string]any{
				"tap_stream_id": "plans", "stream": "plans", "schema": map[string]any{},
				"metadata": []any{map[string]any{"breadcrumb": []any{}, "metadata": map[string]any{"selected": true}}}}}})
			r := runInProcess(t, tt.name, env{}, "--config", cfg, "--state", st, "--catalog", cat)
			if r.code != ExitOK {
				t.Fatalf("exit %d; stderr:\n%s", r.code, r.stderr)
			}
			lines := strings.Split(strings.TrimSuffix(string(r.stdout), "\n"), "\n")
			var last struct {
				Type  string `json:"type"`
				Value struct {
					Bookmarks map[string]map[string]string `json:"bookmarks"`
				} `json:"value"`
			}
			if err := json.Unmarshal([]byte(lines[len(lines)-1]), &last); err != nil || last.Type != "STATE" {
				t.Fatalf("the last stdout line is not a STATE (%v): %q", err, lines[len(lines)-1])
			}
			// RFC 3339 in UTC with whole seconds: text order is time order.
			if got := last.Value.Bookmarks["plans"]["updated_at"]; got < tt.atLeast {
				t.Errorf("last STATE plans bookmark %q, want at least %q", got, tt.atLeast)
			}
		})
	}
}
