package streams_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/tap-recurly/tap-recurly/client"
	"github.com/tap-recurly/tap-recurly/internal/testutil"
	"github.com/tap-recurly/tap-recurly/recurlytest"
	"github.com/tap-recurly/tap-recurly/state"
	"github.com/tap-recurly/tap-recurly/streams"
)

// front is a misbehaving proxy in front of the simulated site: rewrite
// may change a list answer's body (the resource, e.g. "plans", and how many
// pages of it were answered before); head may answer a HEAD itself.
type front struct {
	*httptest.Server
	mu      sync.Mutex
	pages   map[string]int
	paths   []string // every request's escaped path and query
	rewrite func(resource string, page int, body []byte) []byte
	head    func(w http.ResponseWriter, resource string) bool
}

func newFront(t *testing.T, srv *recurlytest.Server) *front {
	t.Helper()
	target, _ := url.Parse(srv.URL)
	f := &front{pages: map[string]int{}}
	proxy := httputil.NewSingleHostReverseProxy(target)
	director := proxy.Director
	proxy.Director = func(r *http.Request) {
		director(r)
		r.Header.Del("Accept-Encoding") // plain bodies, to rewrite
	}
	proxy.ModifyResponse = func(resp *http.Response) error {
		resource := resourceOf(resp.Request.URL.Path)
		if f.rewrite == nil || resp.Request.Method != http.MethodGet || resp.StatusCode != http.StatusOK {
			return nil
		}
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			return err
		}
		f.mu.Lock()
		n := f.pages[resource]
		f.pages[resource]++
		f.mu.Unlock()
		body = f.rewrite(resource, n, body)
		resp.Body = io.NopCloser(bytes.NewReader(body))
		resp.ContentLength = int64(len(body))
		resp.Header.Set("Content-Length", fmt.Sprint(len(body)))
		return nil
	}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.paths = append(f.paths, r.URL.EscapedPath())
		f.mu.Unlock()
		if r.Method == http.MethodHead && f.head != nil && f.head(w, resourceOf(r.URL.Path)) {
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(f.Close)
	return f
}

func resourceOf(path string) string { return path[strings.LastIndex(path, "/")+1:] }

func (f *front) client(t *testing.T, srv *recurlytest.Server) *client.Client {
	t.Helper()
	c, err := client.New(srv.Site.APIKey(), srv.Site.SiteID(),
		client.WithBaseURL(f.URL), client.WithRetries(2, time.Millisecond, 5*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// logTo returns a logger writing text lines to buf.
func logTo(buf *testutil.Buffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

var lastUpdatedAt = regexp.MustCompile(`"updated_at":"[^"]*"`)

// setLastUpdatedAt gives the last record of a page the updated_at v.
func setLastUpdatedAt(body []byte, v string) []byte {
	locs := lastUpdatedAt.FindAllIndex(body, -1)
	if len(locs) == 0 {
		return body
	}
	l := locs[len(locs)-1]
	return append(append(append([]byte{}, body[:l[0]]...), `"updated_at":"`+v+`"`...), body[l[1]:]...)
}

// TestBookmarkNeverPassesTheRunsEnd: a record whose replication value is
// after the run's end is emitted, but the bookmark stops at the end, with
// one WARN line naming the record; a value with an offset and fractional
// seconds is compared as an instant and bookmarked in UTC.
func TestBookmarkNeverPassesTheRunsEnd(t *testing.T) {
	signpost := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name, value  string
		wantBookmark string
		wantWarn     bool
	}{
		{"far future", "9999-12-31T23:59:59Z", "2026-11-01T00:00:00Z", true},
		{"just after the end, with an offset", "2026-11-01T01:00:00.5+01:00", "2026-11-01T00:00:00Z", true},
		{"before the end, with an offset", "2026-11-01T01:30:00.250+02:00", "2026-10-31T23:30:00.25Z", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newSite(t, recurlytest.Config{Seed: 61})
			f := newFront(t, srv)
			f.rewrite = func(resource string, _ int, body []byte) []byte {
				if resource != "plans" {
					return body
				}
				return setLastUpdatedAt(body, tt.value)
			}
			var logs testutil.Buffer
			out, _, err := runSync(t, context.Background(), srv, everything(t, "plans"), runOpts{api: f.client(t, srv),
				opts: streams.Options{Now: func() time.Time { return signpost }, Logger: logTo(&logs)}})
			if err != nil {
				t.Fatal(err)
			}
			if got := out.lastState().Bookmarks["plans"]["updated_at"]; got != tt.wantBookmark {
				t.Errorf("bookmark %s, want %s", got, tt.wantBookmark)
			}
			if n := len(out.records["plans"]); n != len(siteIDs(srv, "plans")) {
				t.Errorf("%d plans emitted, the site has %d", n, len(siteIDs(srv, "plans")))
			}
			warns := logs.Lines("after this run's end")
			if tt.wantWarn && (len(warns) != 1 || !strings.Contains(warns[0], `record \"`) || !strings.Contains(warns[0], "level=WARN")) {
				t.Errorf("want one WARN line naming the record, got %q", warns)
			}
			if !tt.wantWarn && len(warns) != 0 {
				t.Errorf("unexpected warning %q", warns)
			}
		})
	}
}

// TestOutOfOrderRecordsHoldTheBookmark: a listing answering its newest
// records first moves no bookmark until it is read to its end (one WARN
// line), so a run that fails on its third page leaves none; read to the
// end, the bookmark is the site's largest value.
func TestOutOfOrderRecordsHoldTheBookmark(t *testing.T) {
	reverse := func(resource string, page int, body []byte) []byte {
		if resource != "invoices" {
			return body
		}
		return reverseRecords(body)
	}
	for _, failAt := range []int{2, -1} {
		t.Run(fmt.Sprint("fail at page ", failAt), func(t *testing.T) {
			srv := newSite(t, recurlytest.Config{Seed: 67})
			f := newFront(t, srv)
			f.rewrite = func(resource string, page int, body []byte) []byte {
				if resource == "invoices" && failAt >= 0 && page >= failAt {
					return []byte(`{"object":"list","has_more":false`) // cut off: the run fails
				}
				return reverse(resource, page, body)
			}
			var logs testutil.Buffer
			out, _, err := runSync(t, context.Background(), srv, everything(t, "invoices"), runOpts{api: f.client(t, srv),
				opts: streams.Options{Logger: logTo(&logs)}})
			if (err != nil) != (failAt >= 0) {
				t.Fatalf("err = %v", err)
			}
			// Read to its end, the listing's one bookmark is the site's
			// largest value; cut short, it has none.
			want := state.Format(siteMaxReplication(srv, "invoices"))
			for i, st := range out.states {
				if bm, ok := st.Bookmarks["invoices"]["updated_at"]; ok && (failAt >= 0 || bm != want) {
					t.Fatalf("STATE %d moves the bookmark before the listing is read to its end: %v", i, st.Bookmarks)
				}
			}
			if _, ok := out.lastState().Bookmarks["invoices"]["updated_at"]; failAt < 0 && !ok {
				t.Errorf("no bookmark after the listing was read to its end")
			}
			if warns := logs.Lines("out of updated_at order"); len(warns) != 1 {
				t.Errorf("want one WARN line, got %q", warns)
			}
		})
	}
}

// editRecords decodes a list page, lets edit change its records, and
// encodes it again.
func editRecords(body []byte, edit func([]map[string]json.RawMessage)) []byte {
	var env map[string]json.RawMessage
	var data []map[string]json.RawMessage
	if json.Unmarshal(body, &env) != nil || json.Unmarshal(env["data"], &data) != nil {
		return body
	}
	edit(data)
	env["data"], _ = json.Marshal(data)
	out, _ := json.Marshal(env)
	return out
}

// reverseRecords reverses the order of a list page's records.
func reverseRecords(body []byte) []byte {
	return editRecords(body, func(recs []map[string]json.RawMessage) {
		for i, j := 0, len(recs)-1; i < j; i, j = i+1, j-1 {
			recs[i], recs[j] = recs[j], recs[i]
		}
	})
}

// TestCountsAreHints: a HEAD that says 0 while there are records, or that
// the API refuses (405) or fails (500), never skips a listing: every record
// arrives and the run succeeds.
func TestCountsAreHints(t *testing.T) {
	tests := []struct {
		name string
		head func(w http.ResponseWriter)
	}{
		{"count says 0", func(w http.ResponseWriter) { w.Header().Set("Recurly-Total-Records", "0") }},
		{"HEAD not allowed", func(w http.ResponseWriter) { w.WriteHeader(http.StatusMethodNotAllowed) }},
		{"HEAD fails", func(w http.ResponseWriter) { w.WriteHeader(http.StatusInternalServerError) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newSite(t, recurlytest.Config{Seed: 71})
			f := newFront(t, srv)
			heads := 0
			f.head = func(w http.ResponseWriter, _ string) bool {
				f.mu.Lock()
				heads++
				f.mu.Unlock()
				tt.head(w)
				return true
			}
			out, _, err := runSync(t, context.Background(), srv, everything(t), runOpts{api: f.client(t, srv),
				opts: streams.Options{Windows: 4, MinWindow: 24 * time.Hour}})
			if err != nil {
				t.Fatal(err)
			}
			if heads == 0 {
				t.Fatal("no HEAD was asked: the test shows nothing")
			}
			for _, st := range streams.All() {
				if got, want := len(out.ids(st.Name, st.KeyProperty)), len(siteIDs(srv, st.Name)); got != want {
					t.Errorf("%s: %d distinct records emitted, the site has %d", st.Name, got, want)
				}
			}
		})
	}
}

// TestBillingInfoFallbackPathEscaped: an account id is path-escaped into
// the billing_info fallback path, so "acc?limit=1&x=" cannot reach another
// endpoint.
func TestBillingInfoFallbackPathEscaped(t *testing.T) {
	srv := newSite(t, recurlytest.Config{Seed: 73})
	f := newFront(t, srv)
	f.rewrite = func(resource string, page int, body []byte) []byte {
		if resource != "accounts" || page != 0 {
			return body
		}
		return editRecords(body, func(recs []map[string]json.RawMessage) {
			recs[0]["id"] = json.RawMessage(`"acc?limit=1&x="`)
			delete(recs[0], "billing_info")
		})
	}
	_, _, err := runSync(t, context.Background(), srv, everything(t, "billing_info"), runOpts{api: f.client(t, srv)})
	if err != nil {
		t.Fatal(err)
	}
	want := "/sites/" + srv.Site.SiteID() + "/accounts/acc%3Flimit=1&x=/billing_info"
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, p := range f.paths {
		if p == want {
			return
		}
	}
	t.Errorf("no request for %s; requests: %q", want, f.paths)
}

// TestRepairedChildRecordWarnedAfterDropped: in a child list whose
// earlier record is out of range (dropped before the page loop), a record
// holding invalid UTF-8 is still the one the WARN line names.
func TestRepairedChildRecordWarnedAfterDropped(t *testing.T) {
	srv := newSite(t, recurlytest.Config{Seed: 47, Counts: childCounts})
	f := newFront(t, srv)
	var done atomic.Bool
	var dropped atomic.Value // the first note's id
	f.rewrite = func(resource string, _ int, body []byte) []byte {
		// The first list of two notes or more: the first note moves past
		// the run's end, the second gets invalid UTF-8.
		second := bytes.Index(body, []byte(`},{"id":`))
		if resource != "notes" || second < 0 || !done.CompareAndSwap(false, true) {
			return body
		}
		first, rest := bytes.Clone(body[:second]), body[second:]
		at := bytes.LastIndex(first, []byte(`"created_at":"`)) + len(`"created_at":"`)
		copy(first[at:], "2099-01-01T00:00:00Z")
		if m := firstID.FindSubmatch(first); m != nil {
			dropped.Store(string(m[1]))
		}
		rest = bytes.Replace(rest, []byte(`"message":"`), []byte("\"message\":\"\xff"), 1)
		return append(first, rest...)
	}
	var logs testutil.Buffer
	out, _, err := runSync(t, context.Background(), srv, everything(t, "account_notes"), runOpts{api: f.client(t, srv),
		opts: streams.Options{Logger: logTo(&logs)}})
	if err != nil {
		t.Fatal(err)
	}
	if !done.Load() || dropped.Load() == nil {
		t.Fatal("no list of two notes to rewrite")
	}
	var repaired []string
	for _, r := range out.records["account_notes"] {
		var note struct{ ID string }
		if bytes.Contains(r, []byte("\uFFFD")) && json.Unmarshal(r, &note) == nil {
			repaired = append(repaired, note.ID)
		}
	}
	if out.ids("account_notes", "id")[dropped.Load().(string)] != 0 {
		t.Errorf("note %s, after the run's end, was emitted", dropped.Load())
	}
	if len(repaired) != 1 {
		t.Fatalf("notes carrying U+FFFD: %q, want one", repaired)
	}
	if warns := logs.Lines("invalid UTF-8"); len(warns) != 1 || !strings.Contains(warns[0], fmt.Sprintf(`record \"%s\"`, repaired[0])) {
		t.Errorf("want one WARN line naming note %s, got %q", repaired[0], warns)
	}
}

// TestChildPageDropKeepsChecks: when a child page's earlier record is
// out of range (dropped before the page loop), a later record that the
// client's check did not pass (it has a field the SCHEMA lacks) is still
// conformed, not taken as checked in the dropped record's place.
func TestChildPageDropKeepsChecks(t *testing.T) {
	srv := newSite(t, recurlytest.Config{Seed: 47, Counts: childCounts})
	f := newFront(t, srv)
	var done atomic.Bool
	f.rewrite = func(resource string, _ int, body []byte) []byte {
		// The first page of two codes or more: the first code moves past
		// the run's end, the second gets a field the SCHEMA lacks.
		second := bytes.Index(body, []byte(`},{"id":`))
		if resource != "unique_coupon_codes" || second < 0 || !done.CompareAndSwap(false, true) {
			return body
		}
		first, rest := bytes.Clone(body[:second]), body[second+len(`},{`):]
		at := bytes.LastIndex(first, []byte(`"updated_at":"`)) + len(`"updated_at":"`)
		copy(first[at:], "2099-01-01T00:00:00Z")
		return slices.Concat(first, []byte(`},{"h1_unknown":1,`), rest)
	}
	_, res, err := runSync(t, context.Background(), srv, everything(t, "unique_coupon_codes"), runOpts{api: f.client(t, srv)})
	if err != nil {
		t.Fatal(err)
	}
	if !done.Load() {
		t.Fatal("no page of two codes to rewrite")
	}
	for _, r := range res {
		if r.Stream == "unique_coupon_codes" && r.Schema.UnknownFields["h1_unknown"] != 1 {
			t.Errorf("records carrying the unknown field h1_unknown: %d, want 1 (unknown fields: %v)", r.Schema.UnknownFields["h1_unknown"], r.Schema.UnknownFields)
		}
	}
}

var firstID = regexp.MustCompile(`"data":\[\{"id":"([^"]+)"`)

// TestRepairedRecordsWarned: a record holding invalid UTF-8 is emitted with
// U+FFFD in its place, and one WARN line per stream names it.
func TestRepairedRecordsWarned(t *testing.T) {
	srv := newSite(t, recurlytest.Config{Seed: 79})
	f := newFront(t, srv)
	f.rewrite = func(resource string, page int, body []byte) []byte {
		if resource != "plans" || page != 0 {
			return body
		}
		// Two bad records: still one line for the stream.
		return bytes.Replace(body, []byte(`"name":"`), []byte("\"name\":\"\xff\xfe"), 2)
	}
	var logs testutil.Buffer
	out, _, err := runSync(t, context.Background(), srv, everything(t, "plans"), runOpts{api: f.client(t, srv),
		opts: streams.Options{Logger: logTo(&logs)}})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(out.records["plans"]); n != len(siteIDs(srv, "plans")) {
		t.Errorf("%d plans emitted, the site has %d", n, len(siteIDs(srv, "plans")))
	}
	repaired := 0
	for _, r := range out.records["plans"] {
		if !utf8.Valid(r) {
			t.Fatalf("invalid UTF-8 emitted: %q", r)
		}
		if bytes.Contains(r, []byte("\uFFFD")) {
			repaired++
		}
	}
	if repaired != 2 {
		t.Errorf("%d records carry U+FFFD, want 2", repaired)
	}
	if warns := logs.Lines("invalid UTF-8"); len(warns) != 1 || !strings.Contains(warns[0], "level=WARN") || !strings.Contains(warns[0], `stream plans: record \"`) {
		t.Errorf("want one WARN line naming a plan, got %q", warns)
	}
}
