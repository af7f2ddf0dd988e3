package recurlytest

import (
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"
)

// fakeClock is a settable clock for Config.Now.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

type rateState struct {
	status           int
	limit, remaining int
	reset            int64
}

func rateOf(t *testing.T, srv *Server) rateState {
	t.Helper()
	res := do(t, srv, "HEAD", "/sites/subdomain-demo/plans", nil)
	lim, err1 := strconv.Atoi(res.header.Get("X-RateLimit-Limit"))
	rem, err2 := strconv.Atoi(res.header.Get("X-RateLimit-Remaining"))
	reset, err3 := strconv.ParseInt(res.header.Get("X-RateLimit-Reset"), 10, 64)
	if err1 != nil || err2 != nil || err3 != nil {
		t.Fatalf("rate headers: %v", res.header)
	}
	return rateState{res.status, lim, rem, reset}
}

var t0 = time.Date(2026, 11, 2, 12, 0, 0, 0, time.UTC)

func TestRateLimitSlidingWindow(t *testing.T) {
	type step struct {
		at       time.Duration // since t0
		requests int           // sent at that time; the last one is checked
		status   int
		remain   int
		reset    time.Duration // since t0
	}
	tests := []struct {
		name    string
		buckets int
		steps   []step
	}{
		{"five buckets", 5, []step{
			{30 * time.Second, 4, 200, 6, time.Minute},
			{2*time.Minute + 5*time.Second, 6, 200, 0, 3 * time.Minute},
			{2*time.Minute + 6*time.Second, 3, 429, 0, 3 * time.Minute},
			{4*time.Minute + 59*time.Second, 1, 429, 0, 5 * time.Minute},
			// The first minute's 4 requests leave the window at 5:00.
			{5 * time.Minute, 1, 200, 3, 6 * time.Minute},
			{5*time.Minute + 30*time.Second, 3, 200, 0, 6 * time.Minute},
			{6*time.Minute + 59*time.Second, 1, 429, 0, 7 * time.Minute},
			// The 6 of minute 2 leave at 7:00.
			{7 * time.Minute, 1, 200, 5, 8 * time.Minute},
		}},
		{"fixed window", 1, []step{
			{30 * time.Second, 10, 200, 0, 5 * time.Minute},
			{4 * time.Minute, 1, 429, 0, 5 * time.Minute},
			{5 * time.Minute, 1, 200, 9, 10 * time.Minute},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := &fakeClock{t: t0}
			srv := newTestServer(t, Config{Seed: 1, Counts: smallCounts, RateLimit: 10, RateWindow: 5 * time.Minute, RateBuckets: tt.buckets, Now: clock.Now})
			for _, s := range tt.steps {
				clock.Set(t0.Add(s.at))
				var st rateState
				for range s.requests {
					st = rateOf(t, srv)
				}
				want := rateState{s.status, 10, s.remain, t0.Add(s.reset).Unix()}
				if st != want {
					t.Fatalf("at %v: got %+v, want %+v", s.at, st, want)
				}
			}
		})
	}
}

func TestRateLimitResetRoundsUp(t *testing.T) {
	clock := &fakeClock{t: t0.Add(time.Second)}
	srv := newTestServer(t, Config{Seed: 1, Counts: smallCounts, RateWindow: 10 * time.Second, RateBuckets: 4, Now: clock.Now})
	// Buckets of 2.5 s: [12:00:00, 12:00:02.5) ends at 2.5 s, sent as 3.
	if st := rateOf(t, srv); st.reset != t0.Add(3*time.Second).Unix() || st.limit != 2000 {
		t.Fatalf("got %+v", st)
	}
}

func TestRateLimitIsAtomicUnderConcurrency(t *testing.T) {
	srv := newTestServer(t, Config{Seed: 1, Counts: smallCounts, RateLimit: 30, Now: func() time.Time { return t0 }})
	var mu sync.Mutex
	codes := map[int]int{}
	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res := do(t, srv, "GET", "/sites/subdomain-demo/plans?limit=1", nil)
			mu.Lock()
			codes[res.status]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	if codes[200] != 30 || codes[429] != 20 {
		t.Fatalf("status counts %v, want 30 x 200 and 20 x 429", codes)
	}
	res := do(t, srv, "GET", "/sites/subdomain-demo/plans", nil)
	var e errEnvelope
	if err := jsonUnmarshal(res.body, &e); err != nil || e.Error.Type != "rate_limited" || res.header.Get("Retry-After") != "" {
		t.Fatalf("429 body %s headers %v", res.body, res.header)
	}
}

func TestBackgroundLoadSpendsTheQuota(t *testing.T) {
	tests := []struct {
		name   string
		bg     float64
		at     time.Duration
		remain int
		status int
	}{
		// 0.1/s over the 4 full minutes of the window before t0 = 24.
		{"first request", 0.1, 0, 100 - 24 - 1, 200},
		{"a minute later", 0.1, time.Minute, 100 - 25 - 1, 200},
		{"saturating load", 50, 0, 0, http.StatusTooManyRequests},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := &fakeClock{t: t0}
			srv := newTestServer(t, Config{Seed: 1, Counts: smallCounts, RateLimit: 100, BackgroundLoad: tt.bg, Now: clock.Now})
			if tt.at > 0 {
				rateOf(t, srv)
				clock.Set(t0.Add(tt.at))
			}
			st := rateOf(t, srv)
			if st.remaining != tt.remain || st.status != tt.status {
				t.Fatalf("got %+v, want remaining %d status %d", st, tt.remain, tt.status)
			}
			for _, r := range srv.Site.Requests() {
				if r.Method != "HEAD" {
					t.Fatalf("background load was logged: %+v", r)
				}
			}
		})
	}
}

func TestUnauthenticatedRequestsDoNotCount(t *testing.T) {
	srv := newTestServer(t, Config{Seed: 1, Counts: smallCounts, RateLimit: 5, Now: func() time.Time { return t0 }})
	for range 3 {
		do(t, srv, "GET", "/sites/subdomain-demo/plans", func(r *http.Request) { r.SetBasicAuth("bad", "") })
	}
	if st := rateOf(t, srv); st.remaining != 4 {
		t.Fatalf("remaining %d after 3 rejected and 1 good request, want 4", st.remaining)
	}
}
