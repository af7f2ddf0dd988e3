package streams_test

import (
	"context"
	"iter"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tap-recurly/tap-recurly/client"
	"github.com/tap-recurly/tap-recurly/internal/testutil"
	"github.com/tap-recurly/tap-recurly/recurlytest"
	"github.com/tap-recurly/tap-recurly/streams"
)

// busy is an API in front of the simulated site that updates touch
// accounts after every page of the accounts listing: each moves past the
// run's end, out of the listing's range.
type busy struct {
	streams.API
	site  *recurlytest.Site
	touch int
}

func (b busy) List(ctx context.Context, path string, p client.ListParams) iter.Seq2[*client.Page, error] {
	return func(yield func(*client.Page, error) bool) {
		for page, err := range b.API.List(ctx, path, p) {
			if !yield(page, err) {
				return
			}
			if err == nil && path == "accounts" {
				b.site.Touch("accounts", b.touch)
			}
		}
	}
}

// TestCompletenessCheck: a listing longer than a page is counted once its
// first page says more is left, and checked against the site's count once
// read: when the site counts more than the listing read, one WARN line names
// both numbers and the range, and the stream's result says so. A complete
// listing costs that one count, also when split into windows that read
// boundary records twice; a listing that read fewer than the early count is
// counted again, so records that moved out of the range during the run (a
// busy site) raise no warning; a listing answered in one page is not
// counted at all.
func TestCompletenessCheck(t *testing.T) {
	signpost := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		accounts int
		skip     int // records the site's listing leaves out
		touch    int // accounts updated after each page (busy site)
		windows  int
		// want
		heads   int
		counted int64  // -1: the accounts the site holds in the range after the run
		warn    string // "" means no warning
	}{
		{name: "complete", accounts: 450, heads: 1, counted: 450},
		{name: "three skipped", accounts: 450, skip: 3, heads: 2, counted: 450,
			warn: "accounts+billing_info: the site counts 450 records from 2019-01-01T00:00:00Z to 2026-11-01T00:00:00Z, the listing read 447: 3 missing"},
		{name: "busy site", accounts: 450, touch: 40, heads: 2, counted: -1},
		{name: "windows, complete", accounts: 1400, windows: 4, heads: 1, counted: 1400},
		{name: "windows, three skipped", accounts: 1400, skip: 3, windows: 4, heads: 2, counted: 1400,
			warn: "the site counts 1400 records from 2019-01-01T00:00:00Z to 2026-11-01T00:00:00Z, the listing read 1397: 3 missing"},
		{name: "one page", accounts: 150, skip: 3, heads: 0, counted: 147},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newSite(t, recurlytest.Config{Seed: 83, Counts: recurlytest.Counts{Accounts: tt.accounts}, SkipRecords: tt.skip,
				Now: func() time.Time { return signpost.Add(time.Hour) }})
			var api streams.API = newClient(t, srv)
			if tt.touch > 0 {
				api = busy{api, srv.Site, tt.touch}
			}
			var logs testutil.Buffer
			_, results, err := runSync(t, context.Background(), srv, everything(t, "accounts", "billing_info"), runOpts{api: api,
				opts: streams.Options{MaxWorkers: 1, Windows: tt.windows, MinWindow: 24 * time.Hour, MinWindowPages: 1,
					Now: func() time.Time { return signpost }, Logger: logTo(&logs)}})
			if err != nil {
				t.Fatal(err)
			}
			got := tallies(srv, 0)["accounts"]
			if got.heads != tt.heads {
				t.Errorf("%d HEAD requests, want %d", got.heads, tt.heads)
			}
			if tt.windows > 1 && got.chains < 3 {
				t.Errorf("%d cursor chains: the listing was not split", got.chains)
			}
			warns := logs.Lines("missing")
			switch {
			case tt.warn == "" && len(warns) > 0:
				t.Errorf("warned: %q", warns)
			case tt.warn != "" && (len(warns) != 1 || !strings.Contains(warns[0], "level=WARN") || !strings.Contains(warns[0], tt.warn)):
				t.Errorf("want one WARN line with %q, got %q", tt.warn, warns)
			}
			if tt.counted < 0 {
				for _, k := range srv.Site.Keys("accounts") {
					if !k.Sort.After(signpost) {
						tt.counted++
					}
				}
				tt.counted++
				if tt.counted >= int64(tt.accounts) {
					t.Fatalf("%d of %d accounts still in range: the site was not busy", tt.counted, tt.accounts)
				}
			}
			wantWarnings := 0
			if tt.warn != "" {
				wantWarnings = 1
			}
			for _, r := range results {
				if r.Listing != "accounts" || r.Counted != tt.counted || r.Warnings.Completeness != wantWarnings {
					t.Errorf("%s: listing %q, counted %d, %d completeness warnings; want accounts, %d, %d",
						r.Stream, r.Listing, r.Counted, r.Warnings.Completeness, tt.counted, wantWarnings)
				}
			}
		})
	}
}

// recorder is a Progress that keeps what it was told.
type recorder struct {
	mu       sync.Mutex
	total    map[string]int // Expect
	added    map[string]int
	atExpect map[string]int // records added when the total came
	finished map[string]bool
}

func newRecorder() *recorder {
	return &recorder{total: map[string]int{}, added: map[string]int{}, atExpect: map[string]int{}, finished: map[string]bool{}}
}

func (r *recorder) Start(string) {}
func (r *recorder) Expect(l string, n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.total[l], r.atExpect[l] = n, r.added[l]
}
func (r *recorder) Add(l string, n int) { r.mu.Lock(); r.added[l] += n; r.mu.Unlock() }
func (r *recorder) Finish(l string)     { r.mu.Lock(); r.finished[l] = true; r.mu.Unlock() }

// TestCompletenessSplit: where windows meet, records are read twice and
// still count once, also where records do not say exactly where they are:
// transactions (no updated_at; windows stop by collected_at, a lower bound)
// and plans stripped of updated_at (the first page is read again by the
// first window). 3 skipped of 1400 are still found.
func TestCompletenessSplit(t *testing.T) {
	for _, tt := range []struct {
		stream, source string
		counts         recurlytest.Counts
		hidden         bool
	}{
		{"transactions", "transactions", recurlytest.Counts{Accounts: 20, Invoices: 700, Transactions: 1400}, false},
		{"plans", "plans", recurlytest.Counts{Plans: 1400}, true},
	} {
		for _, skip := range []int{0, 3} {
			srv := newSite(t, recurlytest.Config{Seed: 101, Counts: tt.counts, SkipRecords: skip})
			var api streams.API = newClient(t, srv)
			if tt.hidden {
				api = noPosition{api}
			}
			var logs testutil.Buffer
			_, results, err := runSync(t, context.Background(), srv, everything(t, tt.stream), runOpts{api: api,
				opts: streams.Options{MaxWorkers: 4, Windows: 4, MinWindow: 24 * time.Hour, MinWindowPages: 1, Logger: logTo(&logs)}})
			if err != nil {
				t.Fatal(err)
			}
			if got := tallies(srv, 0)[tt.source]; got.chains < 4 || got.heads != min(skip, 1)+1 {
				t.Errorf("%s, skip %d: %d cursor chains, %d HEADs; want a split, and a second count only when short", tt.stream, skip, got.chains, got.heads)
			}
			warns := logs.Lines("missing")
			if skip == 0 && len(warns) > 0 || skip > 0 && (len(warns) != 1 || !strings.Contains(warns[0], tt.stream+": the site counts 1400 records from ") ||
				!strings.Contains(warns[0], "the listing read 1397: 3 missing")) {
				t.Errorf("%s, skip %d: warnings %q", tt.stream, skip, warns)
			}
			if len(results) != 1 || results[0].Counted != 1400 {
				t.Errorf("%s, skip %d: results %+v, want counted 1400", tt.stream, skip, results)
			}
		}
	}
}

// TestProgressTotals: at any worker count, every listing longer than a page
// gets its total (the count of its whole range) after its first page, and
// reads exactly that many records when nothing changes (no "4000 of 4001");
// a listing answered in one page gets none.
func TestProgressTotals(t *testing.T) {
	for _, workers := range []int{1, 4} {
		srv := newSite(t, recurlytest.Config{Seed: 89})
		p := newRecorder()
		if _, _, err := runSync(t, context.Background(), srv, everything(t), runOpts{
			opts: streams.Options{MaxWorkers: workers, Windows: workers, MinWindow: 24 * time.Hour, MinWindowPages: 1, Progress: p}}); err != nil {
			t.Fatal(err)
		}
		for _, source := range listingSources() {
			name := source
			if source == "accounts" {
				name = "accounts+billing_info"
			} else if st := streamOf(source); st != "" {
				name = st
			}
			n := len(srv.Site.Keys(source))
			total, counted := p.total[name]
			switch {
			case !p.finished[name]:
				t.Errorf("workers %d: %s never finished", workers, name)
			case n <= streams.PageSize && counted:
				t.Errorf("workers %d: %s (%d records, one page) was given a total", workers, name, n)
			case n > streams.PageSize && (!counted || total != n || p.atExpect[name] != streams.PageSize):
				t.Errorf("workers %d: %s: total %d (given: %v) after %d records, want %d after the first page", workers, name, total, counted, p.atExpect[name], n)
			case n > streams.PageSize && workers == 1 && p.added[name] != total:
				t.Errorf("workers %d: %s: read %d of %d", workers, name, p.added[name], total)
			}
		}
	}
}

// streamOf is the classic stream read from source (for a listing's name).
func streamOf(source string) string {
	for _, st := range classic() {
		if st.Source == source {
			return st.Name
		}
	}
	return ""
}
