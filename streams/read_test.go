package streams_test

import (
	"context"
	"iter"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tap-recurly/tap-recurly/client"
	"github.com/tap-recurly/tap-recurly/recurlytest"
	"github.com/tap-recurly/tap-recurly/state"
	"github.com/tap-recurly/tap-recurly/streams"
)

// tally is what one listing cost, from the site's request log.
type tally struct{ heads, gets, chains int }

func tallies(srv *recurlytest.Server, since int) map[string]*tally {
	bySource := map[string]*tally{}
	prefix := "/sites/" + srv.Site.SiteID() + "/"
	for _, r := range srv.Site.Requests()[since:] {
		src := strings.TrimPrefix(r.Path, prefix)
		if bySource[src] == nil {
			bySource[src] = &tally{}
		}
		switch {
		case r.Method == http.MethodHead:
			bySource[src].heads++
		case !strings.Contains(r.RawQuery, "cursor="):
			bySource[src].chains++ // a chain's first page
			bySource[src].gets++
		default:
			bySource[src].gets++
		}
	}
	return bySource
}

// TestListingSizing: each listing's first page is read first; only a
// listing whose first page says more is left is counted (one HEAD on its
// range), and one over a range long enough to split is split only as far
// as each window holds MinWindowPages pages of the records after the first
// page. A listing that fits one page costs one
// request; an empty one costs one request and still announces its SCHEMA.
func TestListingSizing(t *testing.T) {
	counts := recurlytest.Counts{Accounts: 150, LineItems: 3200, Coupons: 0, Invoices: 20, Plans: 3, AddOns: 5, Subscriptions: 410, Transactions: 30}
	srv := newSite(t, recurlytest.Config{Seed: 5, Counts: counts})
	out, _, err := runSync(t, context.Background(), srv, everything(t), runOpts{opts: streams.Options{Windows: 4, MinWindow: 24 * time.Hour}})
	if err != nil {
		t.Fatal(err)
	}
	bySource := tallies(srv, 0)
	tests := []struct {
		source              string
		records             int
		wantHeads, wantRuns int
		wantGetsAtMostMore  int // partial pages the split may add
	}{
		{"accounts", 150, 0, 1, 0},
		{"line_items", 3200, 1, 3, 2}, // the rest (3,000 records after the first page) fills 15 pages: 3 windows of at least 4
		{"coupons", 0, 0, 1, 0},       // read once, found empty
		{"invoices", 20, 0, 1, 0},
		{"plans", 3, 0, 1, 0},
		{"add_ons", 5, 0, 1, 0},
		{"subscriptions", 410, 1, 1, 0}, // 2 pages after the first: too few to split
		{"transactions", 30, 0, 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.source, func(t *testing.T) {
			got := bySource[tt.source]
			if got == nil {
				t.Fatal("never requested")
			}
			if got.heads != tt.wantHeads {
				t.Errorf("%d HEAD requests, want %d", got.heads, tt.wantHeads)
			}
			if got.chains != tt.wantRuns {
				t.Errorf("%d cursor chains, want %d", got.chains, tt.wantRuns)
			}
			if lo, hi := max(1, pagesNeeded(tt.records)), max(1, pagesNeeded(tt.records))+tt.wantGetsAtMostMore; got.gets < lo || got.gets > hi {
				t.Errorf("%d pages fetched, want %d..%d", got.gets, lo, hi)
			}
		})
	}
	var couponSchema bool
	for _, m := range out.lines {
		if string(m["type"]) == `"SCHEMA"` && string(m["stream"]) == `"coupons"` {
			couponSchema = true
		}
	}
	if !couponSchema {
		t.Error("no SCHEMA for coupons, which is empty")
	}
	for _, st := range classic() {
		if got, want := len(out.ids(st.Name, st.KeyProperty)), len(siteIDs(srv, st.Name)); got != want {
			t.Errorf("%s: %d distinct records emitted, the site has %d", st.Name, got, want)
		}
	}
}

// noCount is an API whose counts come back without a usable header.
type noCount struct{ streams.API }

func (noCount) Count(context.Context, string, client.ListParams) (int, *client.Response, error) {
	return 0, nil, client.ErrNoCount
}

// TestListingSizingWithoutCount: when the API gives no count, a listing
// whose first page says more is left is split by time alone, the head chain
// reading on as the first window (transactions, which carry no updated_at,
// tell where to stop by collected_at, which is never later). Every record
// still arrives.
func TestListingSizingWithoutCount(t *testing.T) {
	srv := newSite(t, recurlytest.Config{Seed: 5})
	out, _, err := runSync(t, context.Background(), srv, everything(t),
		runOpts{api: noCount{newClient(t, srv)}, opts: streams.Options{Windows: 4, MinWindow: 24 * time.Hour}})
	if err != nil {
		t.Fatal(err)
	}
	bySource := tallies(srv, 0)
	if len(bySource) != 8 {
		t.Fatalf("%d listings read, want 8", len(bySource))
	}
	for source, got := range bySource {
		want := 4
		if len(srv.Site.Keys(source)) <= streams.PageSize {
			want = 1
		}
		if got.chains != want {
			t.Errorf("%s: %d cursor chains, want %d", source, got.chains, want)
		}
	}
	for _, st := range classic() {
		if got, want := len(out.ids(st.Name, st.KeyProperty)), len(siteIDs(srv, st.Name)); got != want {
			t.Errorf("%s: %d distinct records emitted, the site has %d", st.Name, got, want)
		}
	}
}

// TestIncrementalRequestFloor: an incremental run costs one request per
// listing when little has changed (a listing answered in one page is not
// counted), and exactly the pages of what changed when much has, plus one
// count (HEAD) for each listing longer than a page: no split, no second
// look.
func TestIncrementalRequestFloor(t *testing.T) {
	signpost := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return signpost }
	tests := []struct {
		name  string
		touch map[string]int // records changed per resource between the runs
		// backlog, when set, replaces every bookmark: the second run reads
		// everything since.
		backlog time.Time
	}{
		{name: "no changes"},
		{name: "a few changes", touch: map[string]int{"accounts": 5, "line_items": 3, "transactions": 7, "plans": 1}},
		{name: "large backlog", backlog: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newSite(t, recurlytest.Config{Seed: 53, Now: func() time.Time { return signpost.Add(-time.Hour) }})
			opts := streams.Options{Windows: 4, MinWindow: 24 * time.Hour, Now: clock}
			first, _, err := runSync(t, context.Background(), srv, everything(t), runOpts{opts: opts})
			if err != nil {
				t.Fatal(err)
			}
			initial := first.lastState()
			if !tt.backlog.IsZero() {
				initial = backlogState(tt.backlog)
				opts.Windows = 1 // exact pages, no split
			}
			for resource, n := range tt.touch {
				srv.Site.Touch(resource, n)
			}
			before := len(srv.Site.Requests())
			if _, _, err := runSync(t, context.Background(), srv, everything(t), runOpts{initial: initial, opts: opts}); err != nil {
				t.Fatal(err)
			}
			want := 0
			for _, source := range listingSources() {
				n := recordsSince(srv, source, listingBegin(initial, source))
				want += max(1, pagesNeeded(n))
				if n > streams.PageSize {
					want++ // the count, for progress and the completeness check
				}
			}
			if got := len(srv.Site.Requests()) - before; got != want {
				t.Errorf("%d requests, want %d (one per listing, plus the pages of what changed and a count per listing longer than a page)", got, want)
			}
			if tt.backlog.IsZero() && want != len(listingSources()) {
				t.Errorf("want %d, not one request per listing: the test's changes span more than a page", want)
			}
		})
	}
}

// listingSources is the site-level lists the streams read, once each.
func listingSources() []string {
	var out []string
	seen := map[string]bool{}
	for _, st := range classic() {
		if !seen[st.Source] {
			seen[st.Source] = true
			out = append(out, st.Source)
		}
	}
	return out
}

// listingBegin is where a listing's range begins under st: the earliest
// bookmark of the streams reading it.
func listingBegin(st *state.State, source string) time.Time {
	var begin time.Time
	for _, s := range classic() {
		if s.Source != source {
			continue
		}
		bm, ok := st.Bookmark(s.Name, s.ReplicationKey)
		if !ok {
			bm = startDate
		}
		if begin.IsZero() || bm.Before(begin) {
			begin = bm
		}
	}
	return begin
}

// recordsSince counts the site's records of source at or after begin, in
// the order the list sorts and filters by (begin_time is sent in whole
// seconds).
func recordsSince(srv *recurlytest.Server, source string, begin time.Time) int {
	n := 0
	for _, k := range srv.Site.Keys(source) {
		if !k.Sort.Before(begin.Truncate(time.Second)) {
			n++
		}
	}
	return n
}

// backlogState bookmarks every stream at t.
func backlogState(t time.Time) *state.State {
	st := &state.State{Bookmarks: map[string]map[string]string{}}
	for _, s := range classic() {
		st.Bookmarks[s.Name] = map[string]string{s.ReplicationKey: state.Format(t)}
	}
	return st
}

// noPosition is an API whose plans carry neither updated_at nor any other
// sign of where they are in the listing.
type noPosition struct{ streams.API }

var updatedAt = regexp.MustCompile(`"updated_at":"[^"]*",?`)

func (n noPosition) List(ctx context.Context, path string, p client.ListParams) iter.Seq2[*client.Page, error] {
	return func(yield func(*client.Page, error) bool) {
		for page, err := range n.API.List(ctx, path, p) {
			if err == nil {
				for i, r := range page.Records {
					page.Records[i] = updatedAt.ReplaceAll(r, nil)
				}
				page.Fields = nil
			}
			if !yield(page, err) {
				return
			}
		}
	}
}

// TestListingSizingWithoutPositions: a listing whose records do not say
// where they are cannot have its head chain stop at a window bound: the
// split reads the whole range afresh, and every record still arrives.
func TestListingSizingWithoutPositions(t *testing.T) {
	srv := newSite(t, recurlytest.Config{Seed: 59, Counts: recurlytest.Counts{Accounts: 1, LineItems: 1, Coupons: 1, Invoices: 1, Plans: 1800, AddOns: 1, Subscriptions: 1, Transactions: 1}})
	out, _, err := runSync(t, context.Background(), srv, everything(t, "plans"),
		runOpts{api: noPosition{newClient(t, srv)}, opts: streams.Options{Windows: 4, MinWindow: 24 * time.Hour, MinWindowPages: 1}})
	if err != nil {
		t.Fatal(err)
	}
	got := tallies(srv, 0)["plans"]
	if got == nil || got.heads != 1 || got.chains != 5 {
		t.Fatalf("plans: %+v, want 1 HEAD and 5 cursor chains (the first page, then 4 windows from the start)", got)
	}
	if n, want := len(out.ids("plans", "id")), len(siteIDs(srv, "plans")); n != want {
		t.Errorf("%d distinct plans emitted, the site has %d", n, want)
	}
}
