package streams_test

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"log/slog"
	"path"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tap-recurly/tap-recurly/client"
	"github.com/tap-recurly/tap-recurly/internal/jsonscan"
	"github.com/tap-recurly/tap-recurly/internal/testutil"
	"github.com/tap-recurly/tap-recurly/recurlytest"
	"github.com/tap-recurly/tap-recurly/state"
	"github.com/tap-recurly/tap-recurly/streams"
)

// added is the six streams of issue 13: three site-level lists and three
// per-parent ones.
var added = []string{"credit_payments", "account_acquisitions", "custom_field_definitions",
	"unique_coupon_codes", "coupon_redemptions", "account_notes"}

// childCounts is a site with every resource the added streams read: some
// bulk coupons hold more than a page of codes, most accounts have no note.
var childCounts = recurlytest.Counts{Accounts: 430, Coupons: 24, Invoices: 300, Plans: 3,
	CreditPayments: 260, AccountAcquisitions: 300, CustomFieldDefinitions: 8,
	UniqueCouponCodes: 1700, CouponRedemptions: 240, AccountNotes: 90}

// resource is the site's name for a stream's records.
func resource(st streams.Stream) string {
	if st.PerParent() {
		return path.Base(st.Source)
	}
	return st.Source
}

// siteKeys is the site's truth for a stream, by id.
func siteKeys(srv *recurlytest.Server, name string) map[string]recurlytest.Key {
	st, _ := streams.ByName(name)
	out := map[string]recurlytest.Key{}
	for _, k := range srv.Site.Keys(resource(st)) {
		out[k.ID] = k
	}
	return out
}

// bulkCoupons lists the ids of the site's bulk coupons.
func bulkCoupons(t testing.TB, srv *recurlytest.Server) []string {
	var out []string
	for _, k := range srv.Site.Keys(recurlytest.Coupons) {
		rec, _ := srv.Site.Record(recurlytest.Coupons, k.ID)
		var c struct {
			CouponType string `json:"coupon_type"`
		}
		if err := json.Unmarshal(rec, &c); err != nil {
			t.Fatal(err)
		}
		if c.CouponType == "bulk" {
			out = append(out, k.ID)
		}
	}
	return out
}

// replicationOf is a record's replication value.
func replicationOf(t testing.TB, st streams.Stream, rec json.RawMessage) (string, time.Time) {
	var f [2][]byte
	if err := jsonscan.Fields(rec, []string{st.KeyProperty, st.ReplicationKey}, f[:]); err != nil {
		t.Fatal(err)
	}
	id, _ := jsonscan.String(f[0])
	v, _ := jsonscan.String(f[1])
	ts, _ := state.ParseTime(v)
	return id, ts
}

// expectedRequests is what a run of the added streams costs: a page per
// 200 records of each site-level list in range, the parent ids (the
// parents' own listing plus its tail when their streams are selected, else
// one pass over each parent list), one request per account for each of the
// two account child lists, and a page per 200 codes in range (at least
// one) per bulk coupon.
func expectedRequests(t testing.TB, srv *recurlytest.Server, withParents bool, bm *state.State) int {
	pages := func(n int) int { return max(1, pagesNeeded(n)) }
	inRange := func(stream string, keys []recurlytest.Key) int {
		st, _ := streams.ByName(stream)
		from := startDate
		if bm != nil {
			if b, ok := bm.Bookmark(stream, st.ReplicationKey); ok {
				from = b
			}
		}
		n := 0
		for _, k := range keys {
			if !k.Sort.Before(from) {
				n++
			}
		}
		return n
	}
	counted := func(n int) int { // a site-level listing longer than a page is counted once (HEAD)
		if n > streams.PageSize {
			return 1
		}
		return 0
	}
	total := 0
	for _, name := range []string{"credit_payments", "account_acquisitions", "custom_field_definitions"} {
		st, _ := streams.ByName(name)
		n := inRange(name, srv.Site.Keys(st.Source))
		total += pages(n) + counted(n)
	}
	accounts, coupons := len(srv.Site.Keys(recurlytest.Accounts)), len(srv.Site.Keys(recurlytest.Coupons))
	total += pages(accounts) + pages(coupons) // the parents, read whole either way
	if withParents {
		total += 2                                    // the tail of each parent listing: parents updated after the signpost
		total += counted(accounts) + counted(coupons) // their listings are the streams' own
	}
	total += 2 * accounts // coupon_redemptions and account_notes: one request each per account
	for _, c := range bulkCoupons(t, srv) {
		total += pages(inRange("unique_coupon_codes", srv.Site.ChildKeys(recurlytest.UniqueCouponCodes, c)))
	}
	return total
}

// TestAddedStreamsEndToEnd reads the six added streams from the simulated
// site, with their parents' streams selected (whose listings then supply
// the parent ids) and without (the tap lists the parents itself): ids equal
// the site's, bookmarks are the site's largest values, a second run after a
// few changes emits those and the boundary records only, and both runs cost
// exactly the requests the README states.
func TestAddedStreamsEndToEnd(t *testing.T) {
	for _, tt := range []struct {
		name        string
		withParents bool
	}{
		{"parents listed for their ids", false},
		{"parents read for their own streams", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := newSite(t, recurlytest.Config{Seed: 41, Counts: childCounts})
			names := append([]string{}, added...)
			if tt.withParents {
				names = append(names, "accounts", "coupons")
			}
			first, _, err := runSync(t, context.Background(), srv, everything(t, names...), runOpts{})
			if err != nil {
				t.Fatal(err)
			}
			if got, want := len(srv.Site.Requests()), expectedRequests(t, srv, tt.withParents, nil); got != want {
				t.Errorf("full run: %d requests, want %d", got, want)
			}
			checkQueries(t, srv)
			for i := 1; i < len(first.states); i++ {
				if reflect.DeepEqual(first.states[i], first.states[i-1]) {
					t.Fatalf("STATE %d repeats STATE %d: a page that moves no bookmark writes no STATE", i, i-1)
				}
			}
			bm := first.lastState()
			for _, name := range names {
				st, _ := streams.ByName(name)
				want := siteKeys(srv, name)
				got := first.ids(name, st.KeyProperty)
				if len(want) == 0 || len(got) != len(want) {
					t.Errorf("%s: %d ids emitted, the site has %d", name, len(got), len(want))
				}
				var best time.Time
				for id, k := range want {
					if got[id] != 1 {
						t.Errorf("%s: %s emitted %d times, want once", name, id, got[id])
					}
					if k.Replication != nil && k.Replication.After(best) {
						best = *k.Replication
					}
				}
				if b, _ := bm.Bookmark(name, st.ReplicationKey); !b.Equal(best) {
					t.Errorf("%s: bookmark %v, want the site's largest %s %v", name, b, st.ReplicationKey, best)
				}
			}

			touched := map[string]bool{}
			for _, r := range []string{recurlytest.CreditPayments, recurlytest.Acquisitions, recurlytest.CustomFieldDefinitions,
				recurlytest.UniqueCouponCodes, recurlytest.CouponRedemptions} {
				for _, id := range srv.Site.Touch(r, 3) {
					touched[id] = true
				}
			}
			srv.Site.ResetRequests()
			second, _, err := runSync(t, context.Background(), srv, everything(t, names...), runOpts{initial: bm})
			if err != nil {
				t.Fatal(err)
			}
			if got, want := len(srv.Site.Requests()), expectedRequests(t, srv, tt.withParents, bm); got != want {
				t.Errorf("incremental run: %d requests, want %d", got, want)
			}
			emitted := map[string]bool{}
			for _, name := range added {
				st, _ := streams.ByName(name)
				from, _ := bm.Bookmark(name, st.ReplicationKey)
				for _, rec := range second.records[name] {
					id, rk := replicationOf(t, st, rec)
					emitted[id] = true
					if !touched[id] && rk.Before(from) {
						t.Errorf("%s: second run emitted %s (%s %v), unchanged and before the bookmark %v", name, id, st.ReplicationKey, rk, from)
					}
				}
				if n := len(second.records[name]); n > len(first.records[name])/10+5 {
					t.Errorf("%s: second run emitted %d of %d records", name, n, len(first.records[name]))
				}
			}
			for id := range touched {
				if !emitted[id] {
					t.Errorf("changed record %s not emitted by the second run", id)
				}
			}
		})
	}
}

// checkQueries checks each child request sent only the parameters its
// list takes.
func checkQueries(t *testing.T, srv *recurlytest.Server) {
	t.Helper()
	for _, r := range srv.Site.Requests() {
		switch {
		case strings.HasSuffix(r.Path, "/notes") && r.RawQuery != "":
			t.Fatalf("notes asked with %q, want no parameters", r.RawQuery)
		case strings.HasSuffix(r.Path, "/coupon_redemptions") && (strings.Contains(r.RawQuery, "limit=") || strings.Contains(r.RawQuery, "order=")):
			t.Fatalf("coupon redemptions asked with %q: the list takes no limit or order", r.RawQuery)
		case r.Status != 200:
			t.Fatalf("%s %s?%s answered %d", r.Method, r.Path, r.RawQuery, r.Status)
		}
	}
}

// stopAfter is an API that cancels the run after n answers (pages and
// single GETs), as a kill would: what was answered is kept, nothing after.
type stopAfter struct {
	streams.API
	n      int64
	seen   atomic.Int64
	cancel context.CancelFunc
}

func (s *stopAfter) List(ctx context.Context, p string, lp client.ListParams) iter.Seq2[*client.Page, error] {
	return func(yield func(*client.Page, error) bool) {
		for page, err := range s.API.List(ctx, p, lp) {
			if err == nil && s.seen.Add(1) > s.n {
				s.cancel()
				yield(nil, context.Canceled)
				return
			}
			if !yield(page, err) {
				return
			}
		}
	}
}

func (s *stopAfter) Get(ctx context.Context, p string) (json.RawMessage, *client.Response, error) {
	body, resp, err := s.API.Get(ctx, p)
	if err == nil && s.seen.Add(1) > s.n {
		s.cancel()
		return nil, nil, context.Canceled
	}
	return body, resp, err
}

// TestAddedStreamsInterruptedLoseNothing stops runs part-way, each resuming
// from the last STATE of the one before, and checks every record of the
// six added streams was emitted by some run.
func TestAddedStreamsInterruptedLoseNothing(t *testing.T) {
	srv := newSite(t, recurlytest.Config{Seed: 43, Counts: childCounts})
	seen := map[string]map[string]bool{}
	var st *state.State
	after := []int64{3, 60, 400, 700}
	for run := 0; ; run++ {
		ctx, cancel := context.WithCancel(context.Background())
		ro := runOpts{initial: st, opts: streams.Options{MaxWorkers: 3}}
		if run < len(after) {
			ro.api = &stopAfter{API: newClient(t, srv), n: after[run], cancel: cancel}
		}
		out, _, err := runSync(t, ctx, srv, everything(t, added...), ro)
		cancel()
		for _, name := range added {
			if seen[name] == nil {
				seen[name] = map[string]bool{}
			}
			st, _ := streams.ByName(name)
			for id := range out.ids(name, st.KeyProperty) {
				seen[name][id] = true
			}
		}
		if last := out.lastState(); last != nil {
			st = last
		}
		if run >= len(after) {
			if err != nil {
				t.Fatal(err)
			}
			break
		}
		if err == nil {
			t.Fatalf("run %d finished before its interruption point", run)
		}
	}
	for _, name := range added {
		for id := range siteKeys(srv, name) {
			if !seen[name][id] {
				t.Errorf("%s: %s lost across interrupted runs", name, id)
			}
		}
	}
}

// vanish is an API for which one account is deleted after it was listed:
// its child lists are asked of the site under an id no account has, which
// the site answers 404, as it would for a deleted account.
type vanish struct {
	streams.API
	account string
}

func (v vanish) gone(p string) string {
	return strings.Replace(p, "accounts/"+v.account+"/", "accounts/"+v.account+"x/", 1)
}

func (v vanish) List(ctx context.Context, p string, lp client.ListParams) iter.Seq2[*client.Page, error] {
	return v.API.List(ctx, v.gone(p), lp)
}

func (v vanish) Get(ctx context.Context, p string) (json.RawMessage, *client.Response, error) {
	return v.API.Get(ctx, v.gone(p))
}

// TestVanishedParentIsSkipped: a parent that is gone when its child list
// is asked for (404) is skipped with a DEBUG line; every other parent's
// records are emitted and the bookmark moves as usual.
func TestVanishedParentIsSkipped(t *testing.T) {
	srv := newSite(t, recurlytest.Config{Seed: 47, Counts: childCounts})
	var gone string
	for _, k := range srv.Site.Keys(recurlytest.Accounts) {
		if len(srv.Site.ChildKeys(recurlytest.Notes, k.ID)) > 0 && len(srv.Site.ChildKeys(recurlytest.CouponRedemptions, k.ID)) > 0 {
			gone = k.ID
			break
		}
	}
	if gone == "" {
		t.Fatal("no account with notes and redemptions")
	}
	var logs testutil.Buffer
	ro := runOpts{api: vanish{newClient(t, srv), gone}, opts: streams.Options{
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}}
	out, _, err := runSync(t, context.Background(), srv, everything(t, "account_notes", "coupon_redemptions"), ro)
	if err != nil {
		t.Fatalf("a vanished parent failed the run: %v", err)
	}
	for _, tc := range []struct{ stream, resource string }{{"account_notes", recurlytest.Notes}, {"coupon_redemptions", recurlytest.CouponRedemptions}} {
		st, _ := streams.ByName(tc.stream)
		got := out.ids(tc.stream, st.KeyProperty)
		for id, k := range siteKeys(srv, tc.stream) {
			if want := k.Parent != gone; (got[id] > 0) != want {
				t.Errorf("%s: %s (account %s) emitted %v, want %v", tc.stream, id, k.Parent, got[id] > 0, want)
			}
		}
		if _, ok := out.lastState().Bookmark(tc.stream, st.ReplicationKey); !ok {
			t.Errorf("%s: no bookmark after the run", tc.stream)
		}
		if lines := logs.Lines(fmt.Sprintf("%s: accounts %s is gone (404", tc.stream, gone)); len(lines) != 1 || !strings.Contains(lines[0], "level=DEBUG") {
			t.Errorf("%s: want one DEBUG line for the vanished account, got %q", tc.stream, lines)
		}
	}
}
