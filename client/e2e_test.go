package client_test

// End-to-end tests of the client against the simulated Recurly site (package recurlytest) over loopback.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tap-recurly/tap-recurly/internal/testutil"

	"github.com/tap-recurly/tap-recurly/client"
	"github.com/tap-recurly/tap-recurly/recurlytest"
)

func startSite(t *testing.T, cfg recurlytest.Config) *recurlytest.Server {
	t.Helper()
	if cfg.Seed == 0 {
		cfg.Seed = 42
	}
	return testutil.StartSite(t, cfg)
}

func newClient(t *testing.T, srv *recurlytest.Server, opts ...client.Option) *client.Client {
	t.Helper()
	all := append([]client.Option{client.WithBaseURL(srv.URL), client.WithRetries(8, time.Millisecond, 10*time.Millisecond)}, opts...)
	c, err := client.New(srv.Site.APIKey(), srv.Site.SiteID(), all...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// pageAll pages a whole list and returns the ids in the order received.
func pageAll(t *testing.T, c *client.Client, resource string, p client.ListParams) []string {
	t.Helper()
	var ids []string
	for pg, err := range c.List(context.Background(), resource, p) {
		if err != nil {
			t.Fatalf("%s: %v", resource, err)
		}
		for _, r := range pg.Records {
			var rec struct{ ID string }
			if err := json.Unmarshal(r, &rec); err != nil || rec.ID == "" {
				t.Fatalf("%s: record %s: %v", resource, r, err)
			}
			ids = append(ids, rec.ID)
		}
	}
	return ids
}

func siteIDs(site *recurlytest.Site, resource string) []string {
	var ids []string
	for _, k := range site.Keys(resource) {
		ids = append(ids, k.ID)
	}
	sort.Strings(ids)
	return ids
}

var smallCounts = recurlytest.Counts{Accounts: 40, LineItems: 45, Coupons: 12, Invoices: 30, Plans: 9, AddOns: 21, Subscriptions: 25, Transactions: 50}

func TestE2EPagingEqualsSite(t *testing.T) {
	srv := startSite(t, recurlytest.Config{Counts: smallCounts})
	c := newClient(t, srv)
	resources := []string{recurlytest.Accounts, recurlytest.LineItems, recurlytest.Coupons, recurlytest.Invoices,
		recurlytest.Plans, recurlytest.AddOns, recurlytest.Subscriptions, recurlytest.Transactions}
	for _, res := range resources {
		for _, p := range []client.ListParams{{Limit: 7}, {Limit: 200}, {Limit: 4, Sort: "created_at", Order: "desc"}} {
			t.Run(fmt.Sprintf("%s limit %d %s", res, p.Limit, p.Sort), func(t *testing.T) {
				got := pageAll(t, c, res, p)
				sorted := slices.Clone(got)
				sort.Strings(sorted)
				if want := siteIDs(srv.Site, res); !slices.Equal(sorted, want) {
					t.Fatalf("paged %d ids, site holds %d; differ", len(got), len(want))
				}
			})
		}
	}
	// Every page but the first followed a next link: count requests with a cursor.
	var first, next int
	for _, r := range srv.Site.Requests() {
		if strings.Contains(r.RawQuery, "cursor=") {
			next++
		} else {
			first++
		}
	}
	if first != 3*len(resources) || next == 0 {
		t.Fatalf("requests: %d first pages, %d next pages", first, next)
	}
}

func TestE2ETimeBoundsAndPlanAddOns(t *testing.T) {
	srv := startSite(t, recurlytest.Config{Counts: smallCounts})
	c := newClient(t, srv)
	keys := srv.Site.Keys(recurlytest.Accounts)
	sort.Slice(keys, func(i, j int) bool { return keys[i].Sort.Before(keys[j].Sort) })
	begin, end := keys[len(keys)/4].Sort, keys[3*len(keys)/4].Sort
	var want []string
	for _, k := range keys {
		if !k.Sort.Before(begin) && !k.Sort.After(end) {
			want = append(want, k.ID)
		}
	}
	sort.Strings(want)
	got := pageAll(t, c, recurlytest.Accounts, client.ListParams{Limit: 3, BeginTime: begin, EndTime: end})
	sort.Strings(got)
	if !slices.Equal(got, want) {
		t.Fatalf("begin/end: got %d ids, want %d", len(got), len(want))
	}
	// A plan's add-ons, under a nested path with an escaped id.
	var total int
	for _, plan := range srv.Site.Keys(recurlytest.Plans) {
		total += len(pageAll(t, c, "plans/"+url.PathEscape(plan.ID)+"/add_ons", client.ListParams{Limit: 2}))
	}
	if total != len(srv.Site.Keys(recurlytest.AddOns)) {
		t.Fatalf("add-ons over all plans = %d, site has %d", total, len(srv.Site.Keys(recurlytest.AddOns)))
	}
}

func TestE2ERetriesEachFault(t *testing.T) {
	tests := []struct {
		fault  string
		faults recurlytest.Faults
	}{
		{"500", recurlytest.Faults{Status500: 0.3}},
		{"502", recurlytest.Faults{Status502: 0.3}},
		{"503", recurlytest.Faults{Status503: 0.3}},
		{"429", recurlytest.Faults{Status429: 0.3, RetryAfter: time.Second}},
		// net/http itself resends a GET once when a reused connection closes before answering, so only
		// resets of the resend reach the client's retries: a high probability makes sure some do.
		{"reset", recurlytest.Faults{ConnReset: 0.6}},
		{"truncate", recurlytest.Faults{Truncate: 0.3}},
	}
	for _, tt := range tests {
		t.Run(tt.fault, func(t *testing.T) {
			t.Parallel()
			srv := startSite(t, recurlytest.Config{Counts: smallCounts, Faults: tt.faults})
			c := newClient(t, srv, client.WithRetries(10, time.Millisecond, 5*time.Millisecond))
			got := pageAll(t, c, recurlytest.Invoices, client.ListParams{Limit: 2})
			sort.Strings(got)
			if want := siteIDs(srv.Site, recurlytest.Invoices); !slices.Equal(got, want) {
				t.Fatalf("paged %d ids through faults, site holds %d", len(got), len(want))
			}
			faults := 0
			for _, r := range srv.Site.Requests() {
				if r.Fault == tt.fault {
					faults++
				}
			}
			st := c.Stats()
			retriesOK := st.Retries == int64(faults)
			if tt.fault == "reset" {
				retriesOK = st.Retries > 0 && st.Retries <= int64(faults)
			}
			if faults == 0 || !retriesOK {
				t.Fatalf("site injected %d %s faults; client retried %d times (stats %+v)", faults, tt.fault, st.Retries, st)
			}
		})
	}
}

func TestE2EGivesUpWhenDown(t *testing.T) {
	srv := startSite(t, recurlytest.Config{Counts: smallCounts, Faults: recurlytest.Faults{Down: true}})
	c := newClient(t, srv, client.WithRetries(4, time.Millisecond, 5*time.Millisecond))
	_, _, err := c.ListPage(context.Background(), recurlytest.Accounts, client.ListParams{})
	var e *client.ErrorResponse
	if !errors.As(err, &e) || e.StatusCode != 503 || e.Attempts != 5 {
		t.Fatalf("err = %v", err)
	}
	for _, s := range []string{"GET /sites/" + srv.Site.SiteID() + "/accounts?limit=200&order=asc&sort=updated_at",
		"server error (503 service unavailable) after 5 attempts", "simulated outage"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q lacks %q", err, s)
		}
	}
	if n := len(srv.Site.Requests()); n != 5 {
		t.Fatalf("site saw %d requests, want 5", n)
	}
}

func TestE2ETypedErrors(t *testing.T) {
	srv := startSite(t, recurlytest.Config{Counts: smallCounts})
	ctx := context.Background()
	t.Run("401 wrong key", func(t *testing.T) {
		c, err := client.New("wrong-key", srv.Site.SiteID(), client.WithBaseURL(srv.URL))
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = c.ListPage(ctx, recurlytest.Accounts, client.ListParams{})
		if !errors.Is(err, client.ErrUnauthorized) || !strings.Contains(err.Error(), "the API key was rejected") ||
			strings.Contains(err.Error(), "wrong-key") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("404 unknown site", func(t *testing.T) {
		c, err := client.New(srv.Site.APIKey(), "subdomain-nope", client.WithBaseURL(srv.URL))
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = c.ListPage(ctx, recurlytest.Accounts, client.ListParams{})
		if !errors.Is(err, client.ErrNotFound) || !strings.Contains(err.Error(), "no site named subdomain-nope") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("406 bad version", func(t *testing.T) {
		c := newClient(t, srv, client.WithAPIVersion("v2099-01-01"))
		_, _, err := c.ListPage(ctx, recurlytest.Accounts, client.ListParams{})
		var e *client.ErrorResponse
		if !errors.Is(err, client.ErrNotAcceptable) || !errors.As(err, &e) || e.Type != "invalid_api_version" ||
			!strings.Contains(err.Error(), "API version") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("404 billing info", func(t *testing.T) {
		c := newClient(t, srv)
		with := map[string]bool{}
		for _, k := range srv.Site.BillingInfoKeys() {
			with[k.ID] = true
		}
		var have, lack string
		for _, k := range srv.Site.Keys(recurlytest.Accounts) {
			if with[k.ID] && have == "" {
				have = k.ID
			}
			if !with[k.ID] && lack == "" {
				lack = k.ID
			}
		}
		if have == "" || lack == "" {
			t.Fatalf("site has no account with and one without billing info")
		}
		raw, _, err := c.Get(ctx, "accounts/"+have+"/billing_info")
		want, _ := srv.Site.BillingInfo(have)
		if err != nil || string(raw) != strings.TrimSpace(string(want)) {
			t.Fatalf("Get billing_info = %.80s, %v", raw, err)
		}
		_, _, err = c.Get(ctx, "accounts/"+lack+"/billing_info")
		if !errors.Is(err, client.ErrNotFound) || strings.Contains(err.Error(), "no site named") {
			t.Fatalf("err = %v", err)
		}
	})
}

// TestE2EQuota pages concurrently through ONE client per quota level and counts, in the site's own request
// log, the requests of every rate-limit window: none may exceed the budget, and the site never answers 429.
func TestE2EQuota(t *testing.T) {
	const limit, window = 40, 2 * time.Second
	for _, pct := range []int{100, 50, 10} {
		t.Run(fmt.Sprintf("quota %d%%", pct), func(t *testing.T) {
			t.Parallel()
			srv := startSite(t, recurlytest.Config{Counts: recurlytest.DefaultCounts(), RateLimit: limit, RateWindow: window, RateBuckets: 1})
			var logs logBuffer
			c := newClient(t, srv, client.WithQuotaLimit(pct), client.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
			budget := limit * pct / 100
			// About two and a half windows' worth of budget, from 6 goroutines sharing the client.
			const workers = 6
			perWorker := max(1, budget*5/2/workers)
			resources := []string{recurlytest.Accounts, recurlytest.LineItems, recurlytest.Invoices,
				recurlytest.Subscriptions, recurlytest.Transactions, recurlytest.AddOns}
			var wg sync.WaitGroup
			errs := make(chan error, workers)
			for w := range workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					n := 0
					for _, err := range c.List(context.Background(), resources[w], client.ListParams{Limit: 3}) {
						if err != nil {
							errs <- err
							return
						}
						if n++; n == perWorker {
							return
						}
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			perWindow := map[int64]int{}
			for _, r := range srv.Site.Requests() {
				if r.Status == 429 {
					t.Errorf("site answered 429 at %s", r.At)
				}
				perWindow[r.At.UnixNano()/int64(window)]++
			}
			total := 0
			for w, n := range perWindow {
				total += n
				if n > budget {
					t.Errorf("window %d: %d requests, budget %d (quota %d%% of %d)", w, n, budget, pct, limit)
				}
			}
			if total != workers*perWorker {
				t.Errorf("site saw %d requests, want %d", total, workers*perWorker)
			}
			if len(perWindow) < 2 {
				t.Errorf("the run fit in %d window(s); the test needs it to span several", len(perWindow))
			}
			if st := c.Stats(); st.Requests != int64(total) || st.Retries != 0 || st.QuotaWaits == 0 {
				t.Errorf("stats = %+v", st)
			}
			// Waiting out the rest of a window (over a second when the budget is small) is logged with why.
			if pct == 10 {
				waits := logs.lines("waiting for the rate-limit window to reset")
				if len(waits) == 0 || !strings.Contains(waits[0], fmt.Sprintf("budget=%d", budget)) || !strings.Contains(waits[0], "wait=") {
					t.Errorf("quota wait log lines = %q", waits)
				}
			}
		})
	}
}

// TestE2EQuotaSlidingWindowWithBackgroundLoad runs against a window that slides in buckets while other
// integrations spend the same quota: the client must finish without a single 429, waiting again when a
// reset passes and the older buckets still hold the usage.
func TestE2EQuotaSlidingWindowWithBackgroundLoad(t *testing.T) {
	srv := startSite(t, recurlytest.Config{Counts: smallCounts, RateLimit: 60, RateWindow: 3 * time.Second,
		RateBuckets: 3, BackgroundLoad: 3})
	c := newClient(t, srv, client.WithQuotaLimit(50))
	var wg sync.WaitGroup
	for _, res := range []string{recurlytest.Accounts, recurlytest.Transactions, recurlytest.LineItems} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got := pageAll(t, c, res, client.ListParams{Limit: 5})
			if len(got) != len(srv.Site.Keys(res)) {
				t.Errorf("%s: paged %d of %d", res, len(got), len(srv.Site.Keys(res)))
			}
		}()
	}
	wg.Wait()
	for _, r := range srv.Site.Requests() {
		if r.Status == 429 {
			t.Fatalf("site answered 429 at %s", r.At)
		}
	}
	if st := c.Stats(); st.QuotaWaits == 0 || st.Retries != 0 {
		t.Fatalf("stats = %+v", st)
	}
}

// TestE2EQuotaLearnsSlidingWindow runs at quota_limit 100 against a window that slides in 1 s buckets. The
// first time the budget runs out the client can only probe after each reset (the headers do not say how much a
// reset frees); from that episode it learns the window length and then paces at budget/window, so after it
// no request is refused.
func TestE2EQuotaLearnsSlidingWindow(t *testing.T) {
	const limit, window = 10, 2 * time.Second
	srv := startSite(t, recurlytest.Config{Counts: recurlytest.DefaultCounts(), RateLimit: limit, RateWindow: window, RateBuckets: 2})
	var logs logBuffer
	c := newClient(t, srv, client.WithQuotaLimit(100), client.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	var wg sync.WaitGroup
	for _, res := range []string{recurlytest.Accounts, recurlytest.Invoices, recurlytest.LineItems} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n := 0
			for _, err := range c.List(context.Background(), res, client.ListParams{Limit: 5}) {
				if err != nil {
					t.Error(err)
					return
				}
				if n++; n == 14 {
					return
				}
			}
		}()
	}
	wg.Wait()
	learned := logs.lines("learned the rate-limit window length")
	if len(learned) != 1 || !strings.Contains(learned[0], "window=2s") {
		t.Fatalf("learned lines = %q", learned)
	}
	// Every 429 came before the client knew the window; after it, none.
	reqs := srv.Site.Requests()
	last429 := -1
	for i, r := range reqs {
		if r.Status == 429 {
			last429 = i
		}
	}
	ok := 0
	for _, r := range reqs[last429+1:] {
		if r.Status == 200 {
			ok++
		}
	}
	if ok < 2*limit {
		t.Fatalf("only %d requests after the last 429 (%d in all): the test did not run past learning", ok, len(reqs))
	}
	if st := c.Stats(); st.Requests-st.Retries < 42 {
		t.Fatalf("stats = %+v", st)
	}
}

// logBuffer is a concurrency-safe log sink.
type logBuffer struct{ testutil.Buffer }

func (l *logBuffer) lines(substr string) []string { return l.Lines(substr) }

// TestE2ECount: a HEAD count equals the number of records paging the same
// range returns, for each resource and range; it is one request.
func TestE2ECount(t *testing.T) {
	srv := startSite(t, recurlytest.Config{Counts: smallCounts})
	c := newClient(t, srv)
	keys := srv.Site.Keys(recurlytest.Accounts)
	sort.Slice(keys, func(i, j int) bool { return keys[i].Sort.Before(keys[j].Sort) })
	mid := keys[len(keys)/2].Sort
	tests := []struct {
		name     string
		resource string
		p        client.ListParams
	}{
		{"accounts, all", recurlytest.Accounts, client.ListParams{}},
		{"accounts, second half", recurlytest.Accounts, client.ListParams{BeginTime: mid}},
		{"accounts, first half", recurlytest.Accounts, client.ListParams{EndTime: mid}},
		{"accounts, one second", recurlytest.Accounts, client.ListParams{BeginTime: mid, EndTime: mid}},
		{"accounts, nothing", recurlytest.Accounts, client.ListParams{BeginTime: time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)}},
		{"transactions, all", recurlytest.Transactions, client.ListParams{}},
		{"plans, all", recurlytest.Plans, client.ListParams{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := c.Stats().Requests
			n, resp, err := c.Count(context.Background(), tt.resource, tt.p)
			if err != nil {
				t.Fatal(err)
			}
			if got := c.Stats().Requests - before; got != 1 {
				t.Errorf("Count made %d requests, want 1", got)
			}
			if resp.Request.Method != "HEAD" {
				t.Errorf("method %s, want HEAD", resp.Request.Method)
			}
			if want := len(pageAll(t, c, tt.resource, tt.p)); n != want {
				t.Errorf("Count = %d, paging the same range gives %d", n, want)
			}
		})
	}
}
