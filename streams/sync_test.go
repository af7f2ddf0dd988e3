package streams_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tap-recurly/tap-recurly/internal/testutil"

	"github.com/santhosh-tekuri/jsonschema/v5"

	"github.com/tap-recurly/tap-recurly/client"
	"github.com/tap-recurly/tap-recurly/internal/jsonscan"
	"github.com/tap-recurly/tap-recurly/recurlytest"
	"github.com/tap-recurly/tap-recurly/schemas"
	"github.com/tap-recurly/tap-recurly/singer"
	"github.com/tap-recurly/tap-recurly/state"
	"github.com/tap-recurly/tap-recurly/streams"
)

var startDate = time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC)

// smallCounts keeps the end-to-end tests quick while still spanning
// several pages per stream.
var smallCounts = recurlytest.Counts{Accounts: 450, LineItems: 700, Coupons: 30, Invoices: 500, Plans: 12, AddOns: 40, Subscriptions: 420, Transactions: 650}

func newSite(t testing.TB, cfg recurlytest.Config) *recurlytest.Server {
	t.Helper()
	if cfg.Counts == (recurlytest.Counts{}) {
		cfg.Counts = smallCounts
	}
	if cfg.RateLimit == 0 {
		cfg.RateLimit = 1_000_000
	}
	return testutil.StartSite(t, cfg)
}

func newClient(t testing.TB, srv *recurlytest.Server) *client.Client {
	t.Helper()
	c, err := client.New(srv.Site.APIKey(), srv.Site.SiteID(),
		client.WithBaseURL(srv.URL), client.WithRetries(6, time.Millisecond, 20*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// classic is the nine streams of the first release, each read from a
// site-level list: the tests in this file run on them (parent_test.go
// covers the six added after).
func classic() []streams.Stream {
	var out []streams.Stream
	for _, st := range streams.All() {
		if !slices.Contains(added, st.Name) {
			out = append(out, st)
		}
	}
	return out
}

// everything selects the named streams (none: the classic nine) with every
// field.
func everything(t testing.TB, names ...string) []streams.Selected {
	t.Helper()
	var out []streams.Selected
	for _, st := range streams.All() {
		if len(names) == 0 && slices.Contains(added, st.Name) || len(names) > 0 && !slices.Contains(names, st.Name) {
			continue
		}
		schema, err := schemas.Get(st.Name)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, streams.Selected{Stream: st, Schema: schema})
	}
	return out
}

// output is a parsed run.
type output struct {
	lines   []map[string]json.RawMessage
	records map[string][]json.RawMessage
	states  []state.State
}

func (o *output) ids(stream, key string) map[string]int {
	ids := map[string]int{}
	for _, r := range o.records[stream] {
		var f [1][]byte
		_ = jsonscan.Fields(r, []string{key}, f[:])
		id, _ := jsonscan.String(f[0])
		ids[id]++
	}
	return ids
}

func (o *output) lastState() *state.State {
	if len(o.states) == 0 {
		return nil
	}
	s := o.states[len(o.states)-1]
	return &s
}

func parseOutput(t testing.TB, b []byte) *output {
	t.Helper()
	o := &output{records: map[string][]json.RawMessage{}}
	seenSchema := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("stdout line is not JSON: %v: %.200s", err, sc.Bytes())
		}
		o.lines = append(o.lines, m)
		var typ, stream string
		_ = json.Unmarshal(m["type"], &typ)
		_ = json.Unmarshal(m["stream"], &stream)
		switch typ {
		case "SCHEMA":
			seenSchema[stream] = true
		case "RECORD":
			if !seenSchema[stream] {
				t.Fatalf("RECORD of %s before its SCHEMA", stream)
			}
			o.records[stream] = append(o.records[stream], m["record"])
		case "STATE":
			var st state.State
			if err := json.Unmarshal(m["value"], &st); err != nil {
				t.Fatalf("STATE value: %v", err)
			}
			o.states = append(o.states, st)
		default:
			t.Fatalf("unknown message type %q", typ)
		}
	}
	return o
}

type runOpts struct {
	initial *state.State
	opts    streams.Options
	api     streams.API
}

func runSync(t testing.TB, ctx context.Context, srv *recurlytest.Server, sel []streams.Selected, ro runOpts) (*output, []streams.Result, error) {
	t.Helper()
	var buf bytes.Buffer
	w := singer.NewWriter(&buf)
	api := ro.api
	if api == nil {
		api = newClient(t, srv)
	}
	if ro.opts.StartDate.IsZero() {
		ro.opts.StartDate = startDate
	}
	if ro.opts.MaxWorkers == 0 {
		ro.opts.MaxWorkers = 4
	}
	s := &streams.Syncer{API: api, Out: w, State: state.NewTracker(ro.initial), Options: ro.opts}
	res, err := s.Run(ctx, sel)
	if ferr := w.Flush(); ferr != nil {
		t.Fatal(ferr)
	}
	return parseOutput(t, buf.Bytes()), res, err
}

// siteIDs is the set of ids the site holds for a stream.
func siteIDs(srv *recurlytest.Server, stream string) map[string]bool {
	out := map[string]bool{}
	var keys []recurlytest.Key
	if stream == "billing_info" {
		keys = srv.Site.BillingInfoKeys()
	} else {
		st, _ := streams.ByName(stream)
		keys = srv.Site.Keys(st.Source)
	}
	for _, k := range keys {
		out[k.ID] = true
	}
	return out
}

func pagesNeeded(n int) int { return (n + streams.PageSize - 1) / streams.PageSize }

func TestFullSyncEmitsEveryRecord(t *testing.T) {
	tests := []struct {
		name    string
		windows int
	}{
		{"one window per stream", 1},
		{"split into windows", 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newSite(t, recurlytest.Config{Seed: 7})
			out, results, err := runSync(t, context.Background(), srv, everything(t), runOpts{opts: streams.Options{Windows: tt.windows, MinWindow: 24 * time.Hour, MinWindowPages: 1}})
			if err != nil {
				t.Fatal(err)
			}
			if len(results) != 9 {
				t.Fatalf("%d results", len(results))
			}
			for _, st := range classic() {
				want := siteIDs(srv, st.Name)
				got := out.ids(st.Name, st.KeyProperty)
				if len(want) == 0 {
					t.Fatalf("%s: the site has no records", st.Name)
				}
				for id := range want {
					if got[id] == 0 {
						t.Errorf("%s: record %s not emitted", st.Name, id)
					}
				}
				for id := range got {
					if !want[id] {
						t.Errorf("%s: emitted %s, which the site does not have", st.Name, id)
					}
				}
				if tt.windows == 1 {
					for id, n := range got {
						if n > 1 {
							t.Errorf("%s: %s emitted %d times in a single-window full sync", st.Name, id, n)
						}
					}
				}
			}
			// Requests: one page per 200 records of each listing (accounts
			// once for both accounts and billing_info), plus the count
			// (HEAD) of a listing longer than a page; split, plus one
			// partial page per extra window.
			listings := map[string]int{}
			for _, st := range classic() {
				listings[st.Source] = len(srv.Site.Keys(st.Source))
			}
			budget := 0
			for _, n := range listings {
				budget += pagesNeeded(n) + tt.windows
			}
			if tt.windows == 1 {
				budget = 0
				for _, n := range listings {
					budget += pagesNeeded(n)
					if n > streams.PageSize {
						budget++
					}
				}
			}
			if got := len(srv.Site.Requests()); got > budget {
				t.Errorf("%d requests, want at most %d", got, budget)
			}
			// The last STATE holds every stream's bookmark, at the largest
			// replication value the site has.
			last := out.lastState()
			for _, st := range classic() {
				if _, ok := last.Bookmark(st.Name, st.ReplicationKey); !ok {
					t.Errorf("%s: no bookmark in final state", st.Name)
				}
			}
		})
	}
}

// siteMaxReplication is the largest replication value of a stream on the site.
func siteMaxReplication(srv *recurlytest.Server, stream string) time.Time {
	st, _ := streams.ByName(stream)
	keys := srv.Site.Keys(st.Source)
	if stream == "billing_info" {
		keys = srv.Site.BillingInfoKeys()
	}
	var best time.Time
	for _, k := range keys {
		if k.Replication != nil && k.Replication.After(best) {
			best = *k.Replication
		}
	}
	return best
}

func TestBookmarksAndSecondRun(t *testing.T) {
	srv := newSite(t, recurlytest.Config{Seed: 11})
	first, _, err := runSync(t, context.Background(), srv, everything(t), runOpts{})
	if err != nil {
		t.Fatal(err)
	}
	final := first.lastState()
	for _, st := range classic() {
		bm, _ := final.Bookmark(st.Name, st.ReplicationKey)
		if want := siteMaxReplication(srv, st.Name); !bm.Equal(want) {
			t.Errorf("%s: bookmark %v, want the largest %s on the site %v", st.Name, bm, st.ReplicationKey, want)
		}
	}
	srv.Site.ResetRequests()
	second, _, err := runSync(t, context.Background(), srv, everything(t), runOpts{initial: final})
	if err != nil {
		t.Fatal(err)
	}
	// Only boundary records repeat: those positioned at or after the
	// bookmark in their listing's sort order.
	for _, st := range classic() {
		bm, _ := final.Bookmark(st.Name, st.ReplicationKey)
		pos := map[string]time.Time{}
		for _, k := range srv.Site.Keys(st.Source) {
			pos[k.ID] = k.Sort
		}
		for _, r := range second.records[st.Name] {
			var f [2][]byte
			_ = jsonscan.Fields(r, []string{st.KeyProperty, st.ReplicationKey}, f[:])
			id, _ := jsonscan.String(f[0])
			p := pos[id] // billing_info: keyed by account id, positioned by its account
			if p.Before(bm) {
				t.Errorf("%s: second run re-emitted %s positioned at %v, before bookmark %v", st.Name, id, p, bm)
			}
		}
		if n, total := len(second.records[st.Name]), len(first.records[st.Name]); n > total/10+5 {
			t.Errorf("%s: second run emitted %d of %d records", st.Name, n, total)
		}
	}
	if got, want := len(srv.Site.Requests()), 8; got != want {
		t.Errorf("second run made %d requests, want one per listing (%d)", got, want)
	}
}

func TestStartAndEndDate(t *testing.T) {
	srv := newSite(t, recurlytest.Config{Seed: 3})
	begin := time.Date(2021, 3, 1, 0, 0, 0, 0, time.UTC)
	end := time.Date(2023, 6, 30, 12, 0, 0, 0, time.UTC)
	out, _, err := runSync(t, context.Background(), srv, everything(t, "accounts", "invoices", "transactions"),
		runOpts{opts: streams.Options{StartDate: begin, EndDate: end}})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"accounts", "invoices", "transactions"} {
		st, _ := streams.ByName(name)
		got := out.ids(name, "id")
		for _, k := range srv.Site.Keys(st.Source) {
			in := !k.Sort.Before(begin) && !k.Sort.After(end)
			if in != (got[k.ID] > 0) {
				t.Errorf("%s %s positioned %v: emitted=%v, in range=%v", name, k.ID, k.Sort, got[k.ID] > 0, in)
			}
		}
	}
	for _, r := range srv.Site.Requests() {
		q, _ := url.ParseQuery(r.RawQuery)
		if q.Get("cursor") == "" && (q.Get("begin_time") != "2021-03-01T00:00:00Z" || q.Get("end_time") != "2023-06-30T12:00:00Z" ||
			q.Get("sort") != "updated_at" || q.Get("order") != "asc" || q.Get("limit") != "200") {
			t.Errorf("first-page request %s?%s", r.Path, r.RawQuery)
		}
	}
}

func TestTransactionsNullCollectedAt(t *testing.T) {
	srv := newSite(t, recurlytest.Config{Seed: 5})
	out, _, err := runSync(t, context.Background(), srv, everything(t, "transactions"), runOpts{})
	if err != nil {
		t.Fatal(err)
	}
	nulls := 0
	for _, k := range srv.Site.Keys("transactions") {
		if k.Replication == nil {
			nulls++
		}
	}
	if nulls == 0 {
		t.Fatal("the site has no transaction with a null collected_at")
	}
	emittedNull := 0
	for _, r := range out.records["transactions"] {
		var f [1][]byte
		_ = jsonscan.Fields(r, []string{"collected_at"}, f[:])
		if jsonscan.IsNull(f[0]) {
			emittedNull++
		}
	}
	if emittedNull != nulls {
		t.Errorf("emitted %d transactions with null collected_at, the site has %d", emittedNull, nulls)
	}
	// Every STATE's bookmark is a real collected_at (never reset, never null).
	var prev time.Time
	for _, st := range out.states {
		bm, ok := st.Bookmark("transactions", "collected_at")
		if !ok {
			continue
		}
		if bm.Before(prev) {
			t.Fatalf("bookmark went back from %v to %v", prev, bm)
		}
		prev = bm
	}
	if want := siteMaxReplication(srv, "transactions"); !prev.Equal(want) {
		t.Errorf("final bookmark %v, want %v", prev, want)
	}
}

// cancelAfter is an API that cancels the run after n pages, as a kill would
// stop it: the pages already answered are kept, nothing after.
type cancelAfter struct {
	streams.API
	n      int64
	pages  atomic.Int64
	cancel context.CancelFunc
}

func (c *cancelAfter) List(ctx context.Context, p string, lp client.ListParams) iter.Seq2[*client.Page, error] {
	return func(yield func(*client.Page, error) bool) {
		for page, err := range c.API.List(ctx, p, lp) {
			if err == nil && c.pages.Add(1) > c.n {
				c.cancel()
				yield(nil, context.Canceled)
				return
			}
			if !yield(page, err) {
				return
			}
		}
	}
}

func TestInterruptedRunResumesWithoutLoss(t *testing.T) {
	for _, tt := range []struct {
		name    string
		windows int
		workers int
		after   []int64
		only    []string
		counts  recurlytest.Counts
		ties    float64 // the site's TieDensity (0: its default)
	}{
		{"all streams, one window", 1, 3, []int64{1, 3, 6, 10}, nil, recurlytest.Counts{}, 0},
		{"all streams, four windows", 4, 3, []int64{2, 5, 9, 13}, nil, recurlytest.Counts{}, 0},
		// Later windows finish before earlier ones: the bookmark must stay
		// within the contiguous prefix of finished windows.
		{"one big stream, windows in parallel", 4, 4, []int64{6, 9, 7}, []string{"adjustments"},
			recurlytest.Counts{Accounts: 20, LineItems: 3200, Coupons: 1, Invoices: 20, Plans: 1, AddOns: 1, Subscriptions: 1, Transactions: 1}, 0},
		// Ties on one second across page boundaries, and tie groups larger
		// than a page: an interruption inside a group must not lose the
		// rest of it (bookmarks are inclusive).
		{"dense ties", 1, 3, []int64{2, 4, 7, 11}, nil, recurlytest.Counts{}, 60},
		{"tie groups larger than a page", 1, 3, []int64{2, 4, 7}, []string{"adjustments", "invoices"}, recurlytest.ScaledCounts(20000), 450},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := newSite(t, recurlytest.Config{Seed: 13, Counts: tt.counts, TieDensity: tt.ties})
			if tt.ties > streams.PageSize {
				if n := largestTie(srv, "line_items"); n <= streams.PageSize {
					t.Fatalf("largest tie group of line items %d: not larger than a page", n)
				}
			}
			seen := map[string]map[string]bool{}
			var st *state.State
			for run := 0; ; run++ {
				ctx, cancel := context.WithCancel(context.Background())
				ro := runOpts{initial: st, opts: streams.Options{Windows: tt.windows, MinWindow: 24 * time.Hour, MinWindowPages: 1, MaxWorkers: tt.workers}}
				if run < len(tt.after) {
					ro.api = &cancelAfter{API: newClient(t, srv), n: tt.after[run], cancel: cancel}
				}
				out, _, err := runSync(t, ctx, srv, everything(t, tt.only...), ro)
				cancel()
				for _, s := range classic() {
					if seen[s.Name] == nil {
						seen[s.Name] = map[string]bool{}
					}
					for id := range out.ids(s.Name, s.KeyProperty) {
						seen[s.Name][id] = true
					}
				}
				if last := out.lastState(); last != nil {
					st = last
				}
				if run >= len(tt.after) {
					if err != nil {
						t.Fatal(err)
					}
					break
				}
				if err == nil {
					t.Logf("run %d finished before its interruption point", run)
				}
			}
			for _, s := range classic() {
				if tt.only != nil && !slices.Contains(tt.only, s.Name) {
					continue
				}
				for id := range siteIDs(srv, s.Name) {
					if !seen[s.Name][id] {
						t.Errorf("%s: %s lost across interrupted runs", s.Name, id)
					}
				}
			}
		})
	}
}

func TestRecordsChangedDuringRunArePickedUpNext(t *testing.T) {
	srv := newSite(t, recurlytest.Config{Seed: 17, Latency: 2 * time.Millisecond})
	ctx, stop := context.WithCancel(context.Background())
	var touchedMu sync.Mutex
	touched := map[string][]string{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; ; i++ {
			select {
			case <-ctx.Done():
				return
			case <-time.After(3 * time.Millisecond):
			}
			r := []string{"accounts", "invoices", "transactions", "line_items"}[i%4]
			ids := srv.Site.Touch(r, 2)
			touchedMu.Lock()
			touched[r] = append(touched[r], ids...)
			touchedMu.Unlock()
		}
	}()
	first, _, err := runSync(t, context.Background(), srv, everything(t), runOpts{})
	stop()
	<-done
	if err != nil {
		t.Fatal(err)
	}
	second, _, err := runSync(t, context.Background(), srv, everything(t), runOpts{initial: first.lastState()})
	if err != nil {
		t.Fatal(err)
	}
	// Every record's final version must be in one of the runs: compare
	// (id, updated position) for the touched resources.
	for resource, ids := range touched {
		var stream streams.Stream
		for _, s := range classic() {
			if s.Source == resource && s.Embedded == "" {
				stream = s
			}
		}
		got := map[string]bool{}
		for _, out := range []*output{first, second} {
			for _, r := range out.records[stream.Name] {
				got[string(r)] = true
			}
		}
		for _, id := range ids {
			rec, ok := srv.Site.Record(resource, id)
			if !ok {
				t.Fatalf("%s %s vanished", resource, id)
			}
			if !got[string(rec)] {
				t.Errorf("%s: the latest version of %s was not emitted by either run", stream.Name, id)
			}
		}
	}
	if len(touched) == 0 {
		t.Fatal("nothing was touched during the run")
	}
}

func TestUnselectedStreamsMakeNoRequests(t *testing.T) {
	srv := newSite(t, recurlytest.Config{Seed: 19})
	_, _, err := runSync(t, context.Background(), srv, everything(t, "billing_info", "plans"), runOpts{})
	if err != nil {
		t.Fatal(err)
	}
	paths := map[string]bool{}
	for _, r := range srv.Site.Requests() {
		paths[r.Path[strings.LastIndex(r.Path, "/")+1:]] = true
	}
	var got []string
	for p := range paths {
		got = append(got, p)
	}
	sort.Strings(got)
	if strings.Join(got, ",") != "accounts,plans" {
		t.Errorf("requested %v, want only the accounts (for billing_info) and plans listings", got)
	}
}

func TestFieldSelectionDropsFields(t *testing.T) {
	srv := newSite(t, recurlytest.Config{Seed: 23})
	schema, _ := schemas.Get("plans")
	entry, err := singer.NewCatalogEntry("plans", schema, []string{"id"}, "updated_at")
	if err != nil {
		t.Fatal(err)
	}
	entry.SetSelected(true)
	entry.Metadata.Set([]string{"properties", "name"}, "selected", false)
	entry.Metadata.Set([]string{"properties", "currencies"}, "selected", false)
	sel, err := entry.Selection()
	if err != nil {
		t.Fatal(err)
	}
	st, _ := streams.ByName("plans")
	out, _, err := runSync(t, context.Background(), srv, []streams.Selected{{Stream: st, Schema: sel.Schema, Project: sel.Project}}, runOpts{})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.records["plans"]) == 0 {
		t.Fatal("no plans")
	}
	for _, r := range out.records["plans"] {
		var m map[string]json.RawMessage
		_ = json.Unmarshal(r, &m)
		if _, ok := m["name"]; ok {
			t.Fatalf("deselected field name emitted: %s", r)
		}
		if _, ok := m["currencies"]; ok {
			t.Fatalf("deselected field currencies emitted")
		}
		if _, ok := m["id"]; !ok || m["updated_at"] == nil || m["code"] == nil {
			t.Fatalf("selected fields missing: %s", r)
		}
	}
	for _, line := range out.lines {
		if string(line["type"]) == `"SCHEMA"` && strings.Contains(string(line["schema"]), `"currencies"`) {
			t.Fatal("SCHEMA still declares a deselected field")
		}
	}
}

// TestEveryRecordValidatesAgainstItsSchema checks the whole data set of the
// simulated site against the SCHEMA messages the tap emitted.
func TestEveryRecordValidatesAgainstItsSchema(t *testing.T) {
	srv := newSite(t, recurlytest.Config{Seed: 29, Counts: recurlytest.DefaultCounts()})
	var all []string
	for _, st := range streams.All() {
		all = append(all, st.Name)
	}
	out, _, err := runSync(t, context.Background(), srv, everything(t, all...), runOpts{})
	if err != nil {
		t.Fatal(err)
	}
	compiled := map[string]*jsonschema.Schema{}
	for _, line := range out.lines {
		if string(line["type"]) != `"SCHEMA"` {
			continue
		}
		var stream string
		_ = json.Unmarshal(line["stream"], &stream)
		c := jsonschema.NewCompiler()
		c.Draft = jsonschema.Draft7
		c.AssertFormat = true
		if err := c.AddResource(stream+".json", bytes.NewReader(line["schema"])); err != nil {
			t.Fatal(err)
		}
		s, err := c.Compile(stream + ".json")
		if err != nil {
			t.Fatalf("%s: %v", stream, err)
		}
		compiled[stream] = s
	}
	for _, name := range all {
		if len(out.records[name]) == 0 {
			t.Errorf("%s: no records", name)
		}
	}
	for stream, recs := range out.records {
		for _, r := range recs {
			var v any
			if err := json.Unmarshal(r, &v); err != nil {
				t.Fatal(err)
			}
			if err := compiled[stream].Validate(v); err != nil {
				t.Fatalf("%s record does not validate: %v\n%s", stream, err, r)
			}
		}
	}
}

// rewrite is an API that corrupts one record of the first page.
type rewrite struct {
	streams.API
	fn func([]json.RawMessage)
}

func (r rewrite) List(ctx context.Context, p string, lp client.ListParams) iter.Seq2[*client.Page, error] {
	return func(yield func(*client.Page, error) bool) {
		for page, err := range r.API.List(ctx, p, lp) {
			if err == nil && len(page.Records) > 3 {
				r.fn(page.Records)
				page.Fields = nil // the records changed: the loop must read their keys itself
			}
			if !yield(page, err) {
				return
			}
		}
	}
}

func TestBadRecordsStopTheStream(t *testing.T) {
	tests := []struct {
		name string
		fn   func([]json.RawMessage)
		want string
	}{
		{"missing primary key", func(r []json.RawMessage) {
			r[2] = json.RawMessage(`{"object":"plan","updated_at":"2020-01-01T00:00:00Z"}`)
		},
			`plans: record 2 of its page: missing primary key "id"`},
		{"unparsable replication key", func(r []json.RawMessage) { r[1] = json.RawMessage(`{"id":"abc","updated_at":"yesterday"}`) },
			`plans: record "abc": updated_at "yesterday" is not an RFC 3339 timestamp`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newSite(t, recurlytest.Config{Seed: 31})
			_, _, err := runSync(t, context.Background(), srv, everything(t, "plans"), runOpts{api: rewrite{newClient(t, srv), tt.fn}})
			if err == nil || err.Error() != tt.want {
				t.Fatalf("err = %v, want %s", err, tt.want)
			}
		})
	}
}

var _ io.Writer = (*bytes.Buffer)(nil)

func TestRefusedFirstRequestWritesNothing(t *testing.T) {
	srv := newSite(t, recurlytest.Config{Seed: 37})
	api, err := client.New("wrong-key", srv.Site.SiteID(), client.WithBaseURL(srv.URL), client.WithRetries(1, time.Millisecond, time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	out, _, err := runSync(t, context.Background(), srv, everything(t), runOpts{api: api})
	if !errors.Is(err, client.ErrUnauthorized) {
		t.Fatalf("err = %v, want unauthorized", err)
	}
	if len(out.lines) != 0 {
		t.Fatalf("%d messages written for a refused run, want none", len(out.lines))
	}
}

// TestStateLinesMonotonic: with many windows of one listing read at once,
// no STATE line shows a bookmark older than an earlier STATE line did.
func TestStateLinesMonotonic(t *testing.T) {
	counts := recurlytest.Counts{Accounts: 900, LineItems: 2400, Coupons: 1, Invoices: 1200, Plans: 1, AddOns: 1, Subscriptions: 1, Transactions: 1400}
	for _, seed := range []int64{41, 43, 47} {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			srv := newSite(t, recurlytest.Config{Seed: seed, Counts: counts})
			out, _, err := runSync(t, context.Background(), srv, everything(t), runOpts{opts: streams.Options{
				Windows: 8, MinWindow: time.Hour, MinWindowPages: 1, MaxWorkers: 8}})
			if err != nil {
				t.Fatal(err)
			}
			if len(out.states) < 20 {
				t.Fatalf("only %d STATE lines", len(out.states))
			}
			last := map[string]time.Time{}
			for i, st := range out.states {
				for stream, keys := range st.Bookmarks {
					for key := range keys {
						v, _ := st.Bookmark(stream, key)
						if prev := last[stream+"."+key]; v.Before(prev) {
							t.Fatalf("STATE %d: %s.%s went back from %s to %s", i, stream, key, state.Format(prev), state.Format(v))
						}
						last[stream+"."+key] = v
					}
				}
			}
			for _, name := range []string{"accounts", "adjustments", "invoices", "transactions"} {
				st, _ := streams.ByName(name)
				if got, want := last[name+"."+st.ReplicationKey], siteMaxReplication(srv, name); !got.Equal(want) {
					t.Errorf("%s: final bookmark %s, want %s", name, state.Format(got), state.Format(want))
				}
			}
		})
	}
}

// largestTie is the most records of a resource sharing one position.
func largestTie(srv *recurlytest.Server, resource string) int {
	n := map[time.Time]int{}
	best := 0
	for _, k := range srv.Site.Keys(resource) {
		n[k.Sort]++
		best = max(best, n[k.Sort])
	}
	return best
}

// TestSchemaValidatorRefusesStopsAtFirstRecord: a SCHEMA jsonschema/v5
// refuses (a catalog's "type": "strin") stops its stream at the stream's
// first record, before any RECORD, with an error naming the stream; a
// stream with the same schema and no record in its range runs clean.
func TestSchemaValidatorRefusesStopsAtFirstRecord(t *testing.T) {
	srv := newSite(t, recurlytest.Config{Seed: 31, Counts: recurlytest.Counts{Plans: 3, Coupons: 2}})
	st, _ := streams.ByName("plans")
	sel := []streams.Selected{{Stream: st, Schema: json.RawMessage(`{"type":"object","properties":{"id":{"type":"strin"}}}`)}}
	tests := []struct {
		name    string
		start   time.Time
		wantErr bool
	}{
		{"records in range", startDate, true},
		{"no record in range", time.Now().Add(time.Hour), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, _, err := runSync(t, context.Background(), srv, sel, runOpts{opts: streams.Options{StartDate: tt.start}})
			if !tt.wantErr {
				if err != nil {
					t.Fatalf("err = %v, want none: no record was read", err)
				}
				return
			}
			if err == nil || !strings.HasPrefix(err.Error(), "plans: conform: schema") {
				t.Fatalf("err = %v, want the plans stream stopped on its schema", err)
			}
			if n := len(out.records["plans"]); n != 0 {
				t.Fatalf("%d plans emitted under a schema the validator refuses", n)
			}
		})
	}
}

// TestOneStreamSampledPerRun: the first SampleSize records of one stream per
// run are validated in full with jsonschema/v5, the stream
// Options.SampleStream names or one picked at random; no other stream's
// records are (none converts here).
func TestOneStreamSampledPerRun(t *testing.T) {
	srv := newSite(t, recurlytest.Config{Seed: 29, Counts: recurlytest.DefaultCounts()})
	names := []string{"accounts", "invoices", "plans", "transactions"}
	for _, pick := range []string{"invoices", "plans", ""} {
		t.Run("pick="+pick, func(t *testing.T) {
			_, res, err := runSync(t, context.Background(), srv, everything(t, names...), runOpts{opts: streams.Options{SampleStream: pick}})
			if err != nil {
				t.Fatal(err)
			}
			sampled := map[string]int64{}
			for _, r := range res {
				if r.Schema.Converted > 0 {
					t.Fatalf("%s: %d values converted", r.Stream, r.Schema.Converted)
				}
				if r.Schema.Validated > 0 {
					sampled[r.Stream] = r.Schema.Validated
					if want := min(r.Records, streams.SampleSize); r.Schema.Validated != want {
						t.Errorf("%s: %d records validated, want %d of its %d", r.Stream, r.Schema.Validated, want, r.Records)
					}
				}
			}
			if len(sampled) != 1 || pick != "" && sampled[pick] == 0 {
				t.Errorf("streams validated in full: %v, want %q alone", sampled, pick)
			}
		})
	}
}
