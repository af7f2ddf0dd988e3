package recurlytest

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

var smallCounts = Counts{Accounts: 90, LineItems: 120, Coupons: 12, Invoices: 100, Plans: 10, AddOns: 25, Subscriptions: 70, Transactions: 130}

// expectedOrder sorts a resource's keys the way a list with this sort and
// order must return them.
func expectedOrder(keys []Key, byUpdated, desc bool) []string {
	keys = slices.Clone(keys)
	ts := func(k Key) time.Time {
		if byUpdated {
			return k.Sort
		}
		return k.Created
	}
	slices.SortFunc(keys, func(a, b Key) int {
		if c := ts(a).Compare(ts(b)); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	if desc {
		slices.Reverse(keys)
	}
	ids := make([]string, len(keys))
	for i, k := range keys {
		ids[i] = k.ID
	}
	return ids
}

func TestPagingReturnsEveryRecordOnceInOrder(t *testing.T) {
	srv := newTestServer(t, Config{Seed: 7, Counts: smallCounts, RateLimit: 1 << 30})
	for _, res := range []string{Accounts, LineItems, Coupons, Invoices, Plans, AddOns, Subscriptions, Transactions} {
		keys := srv.Site.Keys(res)
		for _, sortBy := range []string{"created_at", "updated_at"} {
			for _, order := range []string{"asc", "desc"} {
				want := expectedOrder(keys, sortBy == "updated_at", order == "desc")
				for _, limit := range []int{1, 7, 200} {
					t.Run(fmt.Sprintf("%s/%s/%s/%d", res, sortBy, order, limit), func(t *testing.T) {
						path := fmt.Sprintf("/sites/subdomain-demo/%s?limit=%d&order=%s&sort=%s", res, limit, order, sortBy)
						got, pages := pageAll(t, srv, path)
						ids := make([]string, len(got))
						for i, h := range got {
							ids[i] = h.ID
						}
						if !slices.Equal(ids, want) {
							t.Fatalf("got %d ids, want %d in order\n got %v\nwant %v", len(ids), len(want), ids, want)
						}
						if wantPages := max(1, (len(want)+limit-1)/limit); pages != wantPages {
							t.Fatalf("pages = %d, want %d", pages, wantPages)
						}
					})
				}
			}
		}
	}
}

func TestTiesFallAcrossPageBoundaries(t *testing.T) {
	srv := newTestServer(t, Config{Seed: 3, Counts: smallCounts, RateLimit: 1 << 30, TieDensity: 4})
	keys := srv.Site.Keys(Transactions)
	want := expectedOrder(keys, true, false)
	sortOf := map[string]time.Time{}
	for _, k := range keys {
		sortOf[k.ID] = k.Sort
	}
	// With limit 7, some page must end inside a run of equal timestamps.
	split := 0
	for p := 7; p < len(want); p += 7 {
		if sortOf[want[p-1]].Equal(sortOf[want[p]]) {
			split++
		}
	}
	if split == 0 {
		t.Fatal("no tie falls across a page boundary; the data is not clustered enough for this test")
	}
	got, _ := pageAll(t, srv, "/sites/subdomain-demo/transactions?limit=7&order=asc&sort=updated_at")
	if len(got) != len(want) {
		t.Fatalf("got %d records, want %d", len(got), len(want))
	}
}

func TestNextKeepsParams(t *testing.T) {
	srv := newTestServer(t, Config{Seed: 1, Counts: smallCounts})
	res := do(t, srv, "GET", "/sites/subdomain-demo/plans?limit=2&sort=updated_at&begin_time=2019-01-01&state=active", nil)
	var env envelope
	if err := json.Unmarshal(res.body, &env); err != nil || res.status != 200 {
		t.Fatalf("%d %s %v", res.status, res.body, err)
	}
	if !env.HasMore || env.Next == nil {
		t.Fatalf("want a next page: %s", res.body)
	}
	u, err := url.Parse(*env.Next)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if u.Path != "/sites/subdomain-demo/plans" || q.Get("cursor") == "" || q.Get("limit") != "2" || q.Get("order") != "desc" ||
		q.Get("sort") != "updated_at" || q.Get("begin_time") != "2019-01-01" || q.Get("state") != "active" {
		t.Fatalf("next = %s", *env.Next)
	}
	if !strings.HasPrefix(u.RawQuery, "cursor=") {
		t.Fatalf("next should start with the cursor: %s", *env.Next)
	}
}

func TestBeginEndInclusive(t *testing.T) {
	srv := newTestServer(t, Config{Seed: 5, Counts: smallCounts})
	keys := srv.Site.Keys(Accounts)
	// Pick a timestamp shared by several records.
	byTS := map[int64][]string{}
	for _, k := range keys {
		byTS[k.Created.Unix()] = append(byTS[k.Created.Unix()], k.ID)
	}
	var ts int64
	for t0, ids := range byTS {
		if len(ids) > len(byTS[ts]) {
			ts = t0
		}
	}
	at := time.Unix(ts, 0).UTC()
	countBetween := func(b, e time.Time, byUpdated bool) int {
		n := 0
		for _, k := range keys {
			v := k.Created
			if byUpdated {
				v = k.Sort
			}
			if !v.Before(b) && !v.After(e) {
				n++
			}
		}
		return n
	}
	day := time.Date(at.Year(), at.Month(), at.Day(), 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name       string
		query      string
		begin, end time.Time
		byUpdated  bool
	}{
		{"exact second", "begin_time=" + at.Format(time.RFC3339) + "&end_time=" + at.Format(time.RFC3339), at, at, false},
		{"no zone is UTC", "begin_time=" + at.Format("2006-01-02T15:04:05") + "&end_time=" + at.Format("2006-01-02T15:04:05"), at, at, false},
		{"offset zone", "begin_time=" + url.QueryEscape(at.In(time.FixedZone("x", 2*3600)).Format(time.RFC3339)), at, time.Unix(1<<40, 0), false},
		{"date only", "begin_time=" + day.Format("2006-01-02") + "&end_time=" + day.Format("2006-01-02"), day, day, false},
		{"updated_at", "sort=updated_at&begin_time=" + at.Format(time.RFC3339), at, time.Unix(1<<40, 0), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _ := pageAll(t, srv, "/sites/subdomain-demo/accounts?limit=200&"+tt.query)
			want := countBetween(tt.begin, tt.end, tt.byUpdated)
			if len(got) != want {
				t.Fatalf("got %d records, want %d", len(got), want)
			}
			head := do(t, srv, "HEAD", "/sites/subdomain-demo/accounts?"+tt.query, nil)
			if n, _ := strconv.Atoi(head.header.Get("Recurly-Total-Records")); n != want || len(head.body) != 0 {
				t.Fatalf("HEAD count %q body %q, want %d", head.header.Get("Recurly-Total-Records"), head.body, want)
			}
		})
	}
	if len(byTS[ts]) < 2 {
		t.Fatal("expected a timestamp shared by several accounts")
	}
}

func TestHeadCountsEveryList(t *testing.T) {
	srv := newTestServer(t, Config{Seed: 2})
	c := DefaultCounts()
	for res, want := range map[string]int{Accounts: c.Accounts, LineItems: c.LineItems, Coupons: c.Coupons, Invoices: c.Invoices,
		Plans: c.Plans, AddOns: c.AddOns, Subscriptions: c.Subscriptions, Transactions: c.Transactions} {
		head := do(t, srv, "HEAD", "/sites/subdomain-demo/"+res, nil)
		if head.status != 200 || head.header.Get("Recurly-Total-Records") != strconv.Itoa(want) {
			t.Fatalf("HEAD %s: %d total %q, want %d", res, head.status, head.header.Get("Recurly-Total-Records"), want)
		}
	}
}

func TestIDs(t *testing.T) {
	srv := newTestServer(t, Config{Seed: 4, Counts: smallCounts})
	keys := srv.Site.Keys(Invoices)
	ids := []string{keys[3].ID, keys[50].ID, "pnosuchinvoic", keys[3].ID, keys[99].ID}
	res := do(t, srv, "GET", "/sites/subdomain-demo/invoices?ids="+strings.Join(ids, ","), nil)
	var env envelope
	if err := json.Unmarshal(res.body, &env); err != nil || res.status != 200 {
		t.Fatalf("%d %s", res.status, res.body)
	}
	var got []string
	for _, d := range env.Data {
		var h recordHead
		json.Unmarshal(d, &h)
		got = append(got, h.ID)
	}
	slices.Sort(got)
	want := []string{keys[3].ID, keys[50].ID, keys[99].ID}
	slices.Sort(want)
	if !slices.Equal(got, want) || env.HasMore || env.Next != nil {
		t.Fatalf("ids: got %v has_more %v, want %v", got, env.HasMore, want)
	}
}

func TestScopedLists(t *testing.T) {
	srv := newTestServer(t, Config{Seed: 6, Counts: smallCounts, RateLimit: 1 << 30})
	acct := srv.Site.Keys(Accounts)[0].ID
	for _, child := range []string{LineItems, Invoices, Subscriptions, Transactions} {
		got, _ := pageAll(t, srv, "/sites/subdomain-demo/accounts/"+acct+"/"+child+"?limit=3")
		n := 0
		for _, k := range srv.Site.Keys(child) {
			raw, _ := srv.Site.Record(child, k.ID)
			var r struct {
				Account struct{ ID string } `json:"account"`
			}
			json.Unmarshal(raw, &r)
			if r.Account.ID == acct {
				n++
			}
		}
		if len(got) != n {
			t.Fatalf("account %s: got %d, want %d", child, len(got), n)
		}
	}
	plan := srv.Site.Keys(Plans)[1].ID
	got, _ := pageAll(t, srv, "/sites/subdomain-demo/plans/"+plan+"/add_ons?limit=200")
	all, _ := pageAll(t, srv, "/sites/subdomain-demo/add_ons?limit=200")
	n := 0
	for _, h := range all {
		raw, _ := srv.Site.Record(AddOns, h.ID)
		var r struct {
			PlanID string `json:"plan_id"`
		}
		json.Unmarshal(raw, &r)
		if r.PlanID == plan {
			n++
		}
	}
	if len(got) != n {
		t.Fatalf("plan add_ons: got %d want %d", len(got), n)
	}
}

// filterNow is the clock of TestFilters: inside the records' time range, so
// some subscriptions are in their trial.
var filterNow = time.Date(2023, 6, 1, 0, 0, 0, 0, time.UTC)

func TestFilters(t *testing.T) {
	counts := smallCounts
	counts.Subscriptions = 4000 // enough that some are in their (7 to 30-day) trial at filterNow
	srv := newTestServer(t, Config{Seed: 8, Counts: counts, RateLimit: 1 << 30, Now: func() time.Time { return filterNow }})
	tests := []struct {
		res, query, field string
		ok                func(v any, m map[string]any) bool
	}{
		{Plans, "state=active", "state", func(v any, _ map[string]any) bool { return v == "active" }},
		{AddOns, "state=inactive", "state", func(v any, _ map[string]any) bool { return v == "inactive" }},
		{Subscriptions, "state=canceled", "state", func(v any, _ map[string]any) bool { return v == "canceled" }},
		{Subscriptions, "state=live", "state", func(v any, m map[string]any) bool {
			return v == "active" || v == "canceled" || v == "future" || inTrialNow(m)
		}},
		{Subscriptions, "state=in_trial", "state", func(_ any, m map[string]any) bool { return inTrialNow(m) }},
		{Transactions, "type=payment", "type", func(v any, _ map[string]any) bool { return v == "purchase" || v == "capture" }},
		{Transactions, "success=true", "success", func(v any, _ map[string]any) bool { return v == true }},
		{Invoices, "type=non-legacy", "type", func(v any, _ map[string]any) bool { return v == "charge" || v == "credit" }},
		{LineItems, "original=true", "previous_line_item_id", func(v any, _ map[string]any) bool { return v == nil }},
		{LineItems, "state=pending&type=credit", "type", func(v any, _ map[string]any) bool { return v == "credit" }},
	}
	for _, tt := range tests {
		t.Run(tt.res+"?"+tt.query, func(t *testing.T) {
			all := len(srv.Site.Keys(tt.res))
			got, _ := pageAll(t, srv, "/sites/subdomain-demo/"+tt.res+"?limit=37&"+tt.query)
			if len(got) == 0 || len(got) >= all {
				t.Fatalf("filter kept %d of %d", len(got), all)
			}
			for _, h := range got {
				raw, _ := srv.Site.Record(tt.res, h.ID)
				var m map[string]any
				json.Unmarshal(raw, &m)
				if !tt.ok(m[tt.field], m) {
					t.Fatalf("%s: %s = %v", h.ID, tt.field, m[tt.field])
				}
			}
		})
	}
}

func inTrialNow(m map[string]any) bool {
	a, _ := m["trial_started_at"].(string)
	b, _ := m["trial_ends_at"].(string)
	ta, err1 := time.Parse(time.RFC3339, a)
	tb, err2 := time.Parse(time.RFC3339, b)
	return err1 == nil && err2 == nil && ta.Before(filterNow) && tb.After(filterNow)
}

func TestSingleFetchByIDAndPrefixedForms(t *testing.T) {
	srv := newTestServer(t, Config{Seed: 9, Counts: smallCounts})
	field := func(res, id, f string) string {
		raw, _ := srv.Site.Record(res, id)
		var m map[string]any
		json.Unmarshal(raw, &m)
		s, _ := m[f].(string)
		return s
	}
	acct := srv.Site.Keys(Accounts)[5].ID
	plan := srv.Site.Keys(Plans)[2].ID
	inv := srv.Site.Keys(Invoices)[7].ID
	tests := []struct{ path, wantID string }{
		{"/accounts/" + acct, acct},
		{"/accounts/code-" + field(Accounts, acct, "code"), acct},
		{"/plans/code-" + field(Plans, plan, "code"), plan},
		{"/invoices/number-" + field(Invoices, inv, "number"), inv},
		{"/line_items/" + srv.Site.Keys(LineItems)[0].ID, srv.Site.Keys(LineItems)[0].ID},
		{"/add_ons/" + srv.Site.Keys(AddOns)[0].ID, srv.Site.Keys(AddOns)[0].ID},
		{"/accounts/code-nope", ""},
		{"/invoices/number-1", ""},
		{"/plans/" + acct, ""},
	}
	for _, tt := range tests {
		res := do(t, srv, "GET", "/sites/subdomain-demo"+tt.path, nil)
		var h recordHead
		json.Unmarshal(res.body, &h)
		if tt.wantID == "" {
			if res.status != 404 {
				t.Errorf("%s: %d, want 404", tt.path, res.status)
			}
			continue
		}
		if res.status != 200 || h.ID != tt.wantID {
			t.Errorf("%s: %d id %q, want %s", tt.path, res.status, h.ID, tt.wantID)
		}
	}
}

// TestTieDensityKnob: the knob sets how often records share a second.
func TestTieDensityKnob(t *testing.T) {
	ties := func(density float64) int {
		s, err := NewSite(Config{Seed: 5, Counts: smallCounts, TieDensity: density})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, res := range []string{Accounts, Plans, Coupons, Subscriptions, Invoices} {
			seen := map[time.Time]bool{}
			for _, k := range s.Keys(res) {
				if seen[k.Created] {
					n++
				}
				seen[k.Created] = true
			}
		}
		return n
	}
	rare, dflt, dense := ties(1), ties(0), ties(8)
	t.Logf("created_at ties at density 1, default (3), 8: %d, %d, %d", rare, dflt, dense)
	if !(rare < dflt && dflt < dense) || rare > 20 {
		t.Fatalf("created_at ties at density 1, default, 8: %d, %d, %d", rare, dflt, dense)
	}
	if _, err := NewSite(Config{TieDensity: -1}); err == nil {
		t.Fatal("negative TieDensity accepted")
	}
}
