package cli

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/tap-recurly/tap-recurly/recurlytest"
)

// TestQuotaSummaryLine: the run ends with a client-level line on stderr counting the requests, retries,
// failed attempts, 429s and quota waits, as the site saw them.
func TestQuotaSummaryLine(t *testing.T) {
	srv := newTestSite(t, recurlytest.Config{Seed: 43})
	var n atomic.Int64
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch n.Add(1) {
		case 2: // one 429 asking for a second: every request waits for it once
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
		case 4:
			w.WriteHeader(http.StatusInternalServerError)
		default:
			srv.Site.ServeHTTP(w, r)
		}
	}))
	defer front.Close()
	cfg := siteConfig(srv, front.URL)
	cfg["max_workers"] = 1
	r := runInProcess(t, "quota summary", env{clientOptions: fastRetries}, "--config", writeFile(t, t.TempDir(), "config.json", cfg))
	if r.code != ExitOK {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	var line string
	for _, l := range strings.Split(string(r.stderr), "\n") {
		if strings.Contains(l, "quota: ") && strings.Contains(l, " throttled (429)") {
			line = l
		}
	}
	var requests, retries, failed, throttled, waits int
	_, after, _ := strings.Cut(line, "quota: ")
	if _, err := fmt.Sscanf(after, "%d requests (%d retries, %d failed attempts), %d throttled (429), %d waits totalling",
		&requests, &retries, &failed, &throttled, &waits); err != nil {
		t.Fatalf("no summary line (%v):\n%s", err, r.stderr)
	}
	if requests != int(n.Load()) || retries != 2 || failed != 2 || throttled != 1 || waits < 1 {
		t.Errorf("%q; the site saw %d requests, 1 answered 429 and 1 answered 500", line, n.Load())
	}
}
