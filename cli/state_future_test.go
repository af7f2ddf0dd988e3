package cli

import (
	"strings"
	"testing"
	"time"

	"github.com/tap-recurly/tap-recurly/recurlytest"
)

// TestStateWithinClockSkew: a bookmark a few hours ahead of the run's
// start is taken for clock skew: the run goes on, with one WARN line naming
// the file, stream and value. (More than a day ahead is refused: see the
// bad-input table.)
func TestStateWithinClockSkew(t *testing.T) {
	srv := newTestSite(t, recurlytest.Config{Seed: 3, Counts: smallCounts})
	dir := t.TempDir()
	cfgPath := writeFile(t, dir, "config.json", siteConfig(srv, ""))
	ahead := time.Now().UTC().Add(3 * time.Hour).Truncate(time.Second).Format(time.RFC3339)
	statePath := writeFile(t, dir, "state.json", map[string]any{"bookmarks": map[string]any{"plans": map[string]any{"updated_at": ahead}}})
	r := runInProcess(t, "clock skew", env{}, "--config", cfgPath, "--state", statePath)
	if r.code != ExitOK {
		t.Fatalf("exit %d; %q", r.code, r.errorLines())
	}
	var warns []string
	for _, l := range strings.Split(string(r.stderr), "\n") {
		if strings.Contains(l, "WARN") && strings.Contains(l, "bookmarks.plans.updated_at") {
			warns = append(warns, l)
		}
	}
	if len(warns) != 1 || !strings.Contains(warns[0], ahead) || !strings.Contains(warns[0], statePath) {
		t.Errorf("want one WARN naming %s and %s, got %q\nstderr:\n%s", statePath, ahead, warns, r.stderr)
	}
}
