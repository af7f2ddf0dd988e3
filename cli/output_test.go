package cli

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tap-recurly/tap-recurly/internal/testutil"
	"github.com/tap-recurly/tap-recurly/recurlytest"
)

// TestClosedReaderStopsTheRun is `tap-recurly | head -c 100` against a
// site whose plans come out of updated_at order, so that the tap holds
// their STATE back until the listing's end: once the reader is gone, the
// tap stops at its next page (SIGPIPE), not after all 21, because every
// page's records are pushed out as they are written.
func TestClosedReaderStopsTheRun(t *testing.T) {
	const pages = 21
	base := time.Now().UTC().AddDate(0, 0, -5).Truncate(time.Second)
	readerGone := make(chan struct{})
	srv, plansRequests := hostileServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n == 2 {
			select { // page 2 goes out once the reader is gone
			case <-readerGone:
			case <-time.After(30 * time.Second):
			}
		}
		var recs []string
		for j := range 5 { // newest first: out of order
			at := base.Add(time.Duration((pages-n)*5+(5-j)) * time.Minute).Format(time.RFC3339)
			recs = append(recs, plan(fmt.Sprintf("p%02d-%d", n, j), at))
		}
		next := ""
		if n < pages {
			next = fmt.Sprintf("/sites/subdomain-hostile/plans?cursor=c%d", n+1)
		}
		listJSON(w, n < pages, next, recs)
	}, nil)
	cfgPath := writeFile(t, t.TempDir(), "config.json", map[string]any{
		"api_key": testAPIKey, "subdomain": "hostile", "start_date": base.AddDate(0, 0, -1).Format(time.RFC3339), "base_url": srv.URL})
	catPath := writeFile(t, t.TempDir(), "catalog.json", map[string]any{"streams": []any{map[string]any{
		"tap_stream_id": "plans", "stream": "plans", "schema": map[string]any{},
		"metadata": []any{map[string]any{"breadcrumb": []any{}, "metadata": map[string]any{"selected": true}}}}}})
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(tapBinary(t), "--config", cfgPath, "--catalog", catPath)
	var stderr testutil.Buffer
	cmd.Stdout, cmd.Stderr = w, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close() // the child holds the write end now
	t.Cleanup(func() { cmd.Process.Kill() })
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	head := make([]byte, 100)
	if _, err := io.ReadFull(r, head); err != nil {
		t.Fatalf("reading the first 100 bytes: %v; stderr:\n%s", err, stderr.Bytes())
	}
	r.Close()
	close(readerGone)
	var waitErr error
	select {
	case waitErr = <-exited:
	case <-time.After(60 * time.Second):
		t.Fatalf("still running 60 s after its reader left; stderr:\n%s", stderr.Bytes())
	}
	t.Logf("exit %d after %d plans requests", exitCode(waitErr), plansRequests())
	if got := plansRequests(); got > 3 {
		t.Errorf("%d requests to plans after the reader left at page 2 of %d, want at most 3 (a page past it)", got, pages)
	}
	if code := exitCode(waitErr); code != 128+int(syscall.SIGPIPE) && code != ExitFailure {
		t.Errorf("exit %d, want SIGPIPE (%d) or %d; stderr:\n%s", code, 128+int(syscall.SIGPIPE), ExitFailure, stderr.Bytes())
	}
}

// TestFailedRunSaysStopped: the summary line of a run that failed says it
// stopped, not that it finished, and comes before the error line.
func TestFailedRunSaysStopped(t *testing.T) {
	srv := newTestSite(t, recurlytest.Config{Seed: 3, Counts: smallCounts})
	cfg := siteConfig(srv, "")
	cfg["api_key"] = "not-the-key"
	r := runInProcess(t, "failed run", env{}, "--config", writeFile(t, t.TempDir(), "config.json", cfg))
	if r.code != ExitFailure {
		t.Fatalf("exit %d, want %d; stderr:\n%s", r.code, ExitFailure, r.stderr)
	}
	stderr := string(r.stderr)
	stopped, failed := strings.Index(stderr, "INFO sync stopped: 0 records"), strings.Index(stderr, "tap-recurly: ")
	if strings.Contains(stderr, "sync finished") || stopped < 0 || failed < stopped {
		t.Errorf("want an INFO sync stopped line, no sync finished, then the error line; stderr:\n%s", stderr)
	}
}
