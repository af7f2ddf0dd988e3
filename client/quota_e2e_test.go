package client_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tap-recurly/tap-recurly/client"
	"github.com/tap-recurly/tap-recurly/recurlytest"
)

// TestE2EQuotaEveryWindow holds quota_limit in every window, from the first request: several goroutines share
// one client against a site whose window slides in buckets while other integrations spend the same quota, and
// every interval of the window's length over the request times in the site's own log may hold at most
// floor(Limit * quota_limit / 100) minus what the others used in it. No request may be refused (429).
// The seed moves the site's data and where in a bucket the run starts. The runs go on at once (they mostly
// wait), then each is checked in its own subtest.
func TestE2EQuotaEveryWindow(t *testing.T) {
	const (
		limit      = 40
		window     = 4 * time.Second
		buckets    = 4   // 1 s buckets: X-RateLimit-Reset moves every second
		background = 0.5 // requests per second by others: 2 in every window
		workers    = 4
	)
	others := background * window.Seconds()
	type run struct {
		pct     int
		seed    int64
		allowed int
		srv     *recurlytest.Server
		c       *client.Client
	}
	var runs []run
	for _, pct := range []int{100, 50, 30} {
		for _, seed := range []int64{1, 2, 3} {
			srv := startSite(t, recurlytest.Config{Seed: seed, Counts: smallCounts, RateLimit: limit,
				RateWindow: window, RateBuckets: buckets, BackgroundLoad: background})
			runs = append(runs, run{pct: pct, seed: seed, allowed: int(math.Floor(float64(limit*pct/100) - others)),
				srv: srv, c: newClient(t, srv, client.WithQuotaLimit(pct))})
		}
	}
	var wg sync.WaitGroup
	for _, r := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Start somewhere inside a bucket, and page about three windows' worth of the allowance.
			time.Sleep(time.Duration(rand.New(rand.NewPCG(uint64(r.seed), uint64(r.pct))).Int64N(int64(time.Second))))
			pageConcurrently(t, r.c, workers, (3*r.allowed+workers-1)/workers)
		}()
	}
	wg.Wait()
	for _, r := range runs {
		t.Run(fmt.Sprintf("quota %d%% seed %d", r.pct, r.seed), func(t *testing.T) {
			reqs := r.srv.Site.Requests()
			worst, at := recurlytest.BusiestWindow(recurlytest.Times(reqs), window)
			t.Logf("worst window: %d requests at %s, allowed %d (budget %d minus %.0f by others); %d requests over %s",
				worst, at.Format("15:04:05.000"), r.allowed, limit*r.pct/100, others, len(reqs),
				reqs[len(reqs)-1].At.Sub(reqs[0].At).Round(time.Millisecond))
			if worst > r.allowed {
				t.Errorf("a window of %s from %s held %d requests; allowed %d", window, at.Format("15:04:05.000"), worst, r.allowed)
			}
			for _, q := range reqs {
				if q.Status == 429 {
					t.Errorf("site answered 429 at %s", q.At.Format("15:04:05.000"))
				}
			}
			if span := reqs[len(reqs)-1].At.Sub(reqs[0].At); span < 2*window {
				t.Errorf("the run spanned %s; the test needs several windows", span)
			}
		})
	}
}

// pageConcurrently pages one listing per worker through c, each for pages pages of one record.
func pageConcurrently(t *testing.T, c *client.Client, workers, pages int) {
	t.Helper()
	resources := []string{recurlytest.Transactions, recurlytest.LineItems, recurlytest.Accounts, recurlytest.Invoices}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n := 0
			for _, err := range c.List(context.Background(), resources[w%len(resources)], client.ListParams{Limit: 1}) {
				if err != nil {
					t.Error(err)
					return
				}
				if n++; n == pages {
					return
				}
			}
			t.Errorf("%s has fewer than %d records", resources[w%len(resources)], pages)
		}()
	}
	wg.Wait()
}

// TestE2EQuotaResetTooFar: when the site says the window resets hours ahead with nothing left, the next call
// ends at once with an error saying when, instead of sleeping (issue 10: a 23-hour X-RateLimit-Reset).
func TestE2EQuotaResetTooFar(t *testing.T) {
	reset := time.Now().Add(23 * time.Hour).Truncate(time.Second)
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Header().Set("X-RateLimit-Limit", "2000")
		w.Header().Set("X-RateLimit-Remaining", "0")
		w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(reset.Unix(), 10))
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"object":"list","has_more":false,"next":null,"data":[]}`)
	}))
	defer srv.Close()
	for _, tt := range []struct {
		name string
		opts []client.Option
		max  time.Duration
	}{
		{"default bound", nil, client.DefaultMaxQuotaWait},
		{"an hour", []client.Option{client.WithMaxQuotaWait(time.Hour)}, time.Hour},
	} {
		t.Run(tt.name, func(t *testing.T) {
			calls.Store(0)
			c, err := client.New("k", "subdomain-x", append([]client.Option{client.WithBaseURL(srv.URL)}, tt.opts...)...)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // a guard: sleeping would hit it
			defer cancel()
			if _, _, err := c.ListPage(ctx, "accounts", client.ListParams{}); err != nil {
				t.Fatal(err)
			}
			_, _, err = c.ListPage(ctx, "accounts", client.ListParams{})
			var qe *client.QuotaWaitError
			if !errors.Is(err, client.ErrQuotaWaitTooLong) || !errors.As(err, &qe) || errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("err = %v", err)
			}
			if !qe.Until.Equal(reset) || qe.Max != tt.max || !strings.Contains(err.Error(), reset.UTC().Format(time.RFC3339)) ||
				!strings.Contains(err.Error(), "when the site's rate-limit window resets") {
				t.Errorf("err = %v (%+v)", err, *qe)
			}
			if n := calls.Load(); n != 1 {
				t.Errorf("%d requests, want 1", n)
			}
		})
	}
	if _, err := client.New("k", "s", client.WithMaxQuotaWait(0)); err == nil || !strings.Contains(err.Error(), "maximum quota wait") {
		t.Errorf("WithMaxQuotaWait(0): err = %v", err)
	}
}
