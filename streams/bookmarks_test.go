package streams_test

import (
	"bytes"
	"context"
	"encoding/json"
	"iter"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/tap-recurly/tap-recurly/client"
	"github.com/tap-recurly/tap-recurly/recurlytest"
	"github.com/tap-recurly/tap-recurly/singer"
	"github.com/tap-recurly/tap-recurly/state"
	"github.com/tap-recurly/tap-recurly/streams"
)

// TestListingEndsOnce: when several chains of a listing finish close
// together, the listing ends once. A trace hook holds each chain of a
// listing that supplies parent ids between its countdown and acting on
// it, until every window of the listing is counted down: that is the
// widest gap two finishing chains can leave. The listing must still end
// once (one listingDone each, one feedDone per child listing), no window
// counts fewer than zero chains, and no STATE shows a bookmark of a
// per-parent stream before that stream's last RECORD (its one window is
// done only when every child list is written).
func TestListingEndsOnce(t *testing.T) {
	for _, tt := range []struct {
		name             string
		windows, workers int
	}{
		{"4 windows, 8 workers", 4, 8},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := newSite(t, recurlytest.Config{Seed: 17, Counts: recurlytest.Counts{
				Accounts: 1000, Coupons: 1000, UniqueCouponCodes: 900, AccountNotes: 120}})
			var (
				mu       sync.Mutex
				ended    = map[string]int{}
				fed      = map[string]int{}
				listings = map[string]streams.Probe{}
			)
			var buf bytes.Buffer
			w := singer.NewWriter(&buf)
			s := &streams.Syncer{API: newClient(t, srv), Out: w, State: state.NewTracker(nil), Options: streams.Options{
				StartDate: startDate, MaxWorkers: tt.workers, Windows: tt.windows, MinWindow: time.Hour, MinWindowPages: 1}}
			streams.SetTrace(s, func(event string, p streams.Probe) {
				mu.Lock()
				listings[p.Name()] = p
				switch event {
				case "listingDone":
					ended[p.Name()]++
				case "feedDone":
					fed[p.Name()]++
				}
				mu.Unlock()
				if event == "countdown" && p.Supplies() {
					// Widen the gap: wait until the listing's other chains
					// have counted down too (bounded, so that a pool too
					// small to run them all cannot hang the test).
					for i := 0; i < 2000 && p.Remaining() > 0; i++ {
						time.Sleep(time.Millisecond)
					}
				}
			})
			_, err := s.Run(context.Background(), everything(t, "accounts", "coupons", "account_notes", "unique_coupon_codes"))
			if err != nil {
				t.Fatal(err)
			}
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			for _, name := range []string{"accounts", "coupons", "account_notes", "unique_coupon_codes"} {
				if ended[name] != 1 {
					t.Errorf("listing %s ended %d times, want once", name, ended[name])
				}
			}
			for _, name := range []string{"account_notes", "unique_coupon_codes"} {
				if fed[name] != 1 {
					t.Errorf("the parent feed of %s finished %d times, want once", name, fed[name])
				}
			}
			for name, p := range listings {
				for i, n := range p.Chains() {
					if n != 0 {
						t.Errorf("listing %s window %d: %d chains at the end, want 0", name, i, n)
					}
				}
			}
			checkChildBookmarksFollowRecords(t, buf.Bytes(), "account_notes", "unique_coupon_codes")
		})
	}
}

// checkChildBookmarksFollowRecords fails when a STATE shows a bookmark of
// one of the (per-parent) streams before a RECORD of that stream.
func checkChildBookmarksFollowRecords(t *testing.T, out []byte, names ...string) {
	t.Helper()
	bookmarked := map[string]bool{}
	for _, line := range parseOutput(t, out).lines {
		var typ, stream string
		_ = json.Unmarshal(line["type"], &typ)
		_ = json.Unmarshal(line["stream"], &stream)
		switch typ {
		case "RECORD":
			if bookmarked[stream] {
				t.Errorf("a RECORD of %s after a STATE with its bookmark", stream)
				bookmarked[stream] = false // one line per stream
			}
		case "STATE":
			var st state.State
			if err := json.Unmarshal(line["value"], &st); err != nil {
				t.Fatal(err)
			}
			for _, name := range names {
				sd, _ := streams.ByName(name)
				if _, ok := st.Bookmark(name, sd.ReplicationKey); ok {
					bookmarked[name] = true
				}
			}
		}
	}
}

// TestWindowsStayWithinTheRange reads a listing of 36 years in 11 windows
// (max_workers 64 as a user would set it, start_date 1990): no list request
// asks for records from before the start date, and every record comes out.
// Splitting that range once overflowed (span x 10 passes 292 years) and
// re-read 1957-1990 in windows ending before they began.
func TestWindowsStayWithinTheRange(t *testing.T) {
	begin, end := time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	srv := newSite(t, recurlytest.Config{Seed: 5, Start: begin, End: end, Counts: recurlytest.Counts{Transactions: 2400}})
	out, _, err := runSync(t, context.Background(), srv, everything(t, "transactions"), runOpts{opts: streams.Options{
		StartDate: begin, MaxWorkers: 64, Windows: 64, MinWindowPages: 1}})
	if err != nil {
		t.Fatal(err)
	}
	lists := 0
	for _, r := range srv.Site.Requests() {
		q, err := url.ParseQuery(r.RawQuery)
		if err != nil || r.Method != http.MethodGet || q.Get("begin_time") == "" {
			continue
		}
		lists++
		bt, err := time.Parse(time.RFC3339, q.Get("begin_time"))
		if err != nil || bt.Before(begin) {
			t.Errorf("%s %s?%s: begin_time before the start date %s", r.Method, r.Path, r.RawQuery, begin.Format(time.RFC3339))
		}
	}
	if lists < 11 {
		t.Errorf("%d list requests: the range was not split as the test means it to be", lists)
	}
	got, want := out.ids("transactions", "id"), siteIDs(srv, "transactions")
	for id := range want {
		if got[id] == 0 {
			t.Errorf("transaction %s not emitted", id)
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d transactions emitted, the site holds %d", len(got), len(want))
	}
}

// silent is an API whose lists yield no page at all, not even an empty one.
type silent struct{ streams.API }

func (silent) List(context.Context, string, client.ListParams) iter.Seq2[*client.Page, error] {
	return func(func(*client.Page, error) bool) {}
}

// TestListThatYieldsNothing: a list that yields no page is an empty
// listing: SCHEMA, no record, no bookmark, a final STATE, no error.
func TestListThatYieldsNothing(t *testing.T) {
	srv := newSite(t, recurlytest.Config{Seed: 3})
	out, res, err := runSync(t, context.Background(), srv, everything(t, "plans", "coupons"), runOpts{api: silent{newClient(t, srv)}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 2 || res[0].Records != 0 || res[1].Records != 0 {
		t.Errorf("results = %+v, want two streams with no records", res)
	}
	schemas := 0
	for _, line := range out.lines {
		if string(line["type"]) == `"SCHEMA"` {
			schemas++
		}
	}
	if schemas != 2 || len(out.records) != 0 {
		t.Errorf("%d SCHEMA lines and records of %d streams, want 2 and none", schemas, len(out.records))
	}
	if st := out.lastState(); st == nil || len(st.Bookmarks) != 0 {
		t.Errorf("last STATE = %+v, want one with no bookmark", st)
	}
}

// TestNilStateStartsEmpty: a Syncer with no State runs from an empty state
// and leaves its tracker in State.
func TestNilStateStartsEmpty(t *testing.T) {
	srv := newSite(t, recurlytest.Config{Seed: 3})
	var buf bytes.Buffer
	w := singer.NewWriter(&buf)
	s := &streams.Syncer{API: newClient(t, srv), Out: w, Options: streams.Options{StartDate: startDate}}
	res, err := s.Run(context.Background(), everything(t, "plans"))
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	want := siteMaxReplication(srv, "plans")
	if got, ok := s.State.Bookmark("plans", "updated_at"); !ok || !got.Equal(want) {
		t.Errorf("plans bookmark = %v %v, want %v", got, ok, want)
	}
	if len(res) != 1 || int(res[0].Records) != len(siteIDs(srv, "plans")) {
		t.Errorf("results = %+v, want every plan", res)
	}
}

// TestSuccessfulRunEndsWithState: a run that has nothing to read still
// ends with a STATE line (carrying the state it was given), so that a
// script saving the last STATE always finds one.
func TestSuccessfulRunEndsWithState(t *testing.T) {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	ahead := state.Format(now.Add(3 * time.Hour))
	initial, err := state.Parse("state.json", []byte(`{"bookmarks":{"plans":{"updated_at":"`+ahead+`"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		sel  []streams.Selected
	}{
		{"the bookmark a few hours ahead", everything(t, "plans")},
		{"no stream selected", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := newSite(t, recurlytest.Config{Seed: 3})
			out, _, err := runSync(t, context.Background(), srv, tt.sel, runOpts{initial: initial, opts: streams.Options{Now: func() time.Time { return now }}})
			if err != nil {
				t.Fatal(err)
			}
			if n := len(out.lines); n == 0 || string(out.lines[n-1]["type"]) != `"STATE"` {
				t.Fatalf("output of %d lines does not end with a STATE", n)
			}
			if got, ok := out.lastState().Bookmark("plans", "updated_at"); !ok || state.Format(got) != ahead {
				t.Errorf("last STATE plans bookmark = %v %v, want %s", got, ok, ahead)
			}
		})
	}
}
