package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func rateResp(limit, remaining int, reset time.Time) *http.Response {
	h := http.Header{}
	h.Set("X-RateLimit-Limit", strconv.Itoa(limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(remaining))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(reset.Unix(), 10))
	return &http.Response{StatusCode: 200, Header: h, Body: http.NoBody}
}

func newTestQuota(percent int, logs *logBuffer) *quotaTransport {
	l := slog.New(slog.DiscardHandler)
	if logs != nil {
		l = logs.logger()
	}
	return newQuotaTransport(nil, percent, DefaultMaxQuotaWait, l, &counters{})
}

func TestQuotaWarnsOnceAboutHeaders(t *testing.T) {
	var logs logBuffer
	q := newTestQuota(100, &logs)
	for range 3 {
		q.mu.Lock() // admitted as acquire would, without its waits of a second
		seq := q.ledger.admit(time.Now(), quotaVerdict{n: 1})
		q.mu.Unlock()
		q.observe(seq, &http.Response{StatusCode: 200, Header: http.Header{"X-Ratelimit-Limit": {"x"}}})
	}
	lines := logs.lines("level=WARN")
	if len(lines) != 1 || !strings.Contains(lines[0], "X-RateLimit-Limit") || !strings.Contains(lines[0], "1 per second") {
		t.Fatalf("warn lines = %q", lines)
	}
}

// fakeSite is a RoundTripper holding a fixed rate-limit window aligned to the Unix epoch, like Recurly's
// headers describe it. It answers 429 past the limit and records every request's window and concurrency.
type fakeSite struct {
	limit   int
	window  time.Duration
	headers bool
	hold    time.Duration // how long each request takes

	mu          sync.Mutex
	counts      map[int64]int // requests per window index
	over        int           // 429s answered
	inflight    int
	maxInflight int
	total       int
	gate        chan struct{} // if not nil, the first request waits for it
}

func (s *fakeSite) RoundTrip(req *http.Request) (*http.Response, error) {
	s.mu.Lock()
	s.inflight++
	s.maxInflight = max(s.maxInflight, s.inflight)
	first := s.total == 0
	s.total++
	s.mu.Unlock()
	if first && s.gate != nil {
		<-s.gate
	}
	time.Sleep(s.hold)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inflight--
	now := time.Now()
	idx := now.UnixNano() / int64(s.window)
	resp := &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(`{"data":[]}`)), Request: req}
	if s.counts[idx] >= s.limit {
		s.over++
		resp.StatusCode = 429
	} else {
		s.counts[idx]++
	}
	if s.headers {
		reset := time.Unix(0, (idx+1)*int64(s.window))
		resp.Header.Set("X-RateLimit-Limit", strconv.Itoa(s.limit))
		resp.Header.Set("X-RateLimit-Remaining", strconv.Itoa(s.limit-s.counts[idx]))
		resp.Header.Set("X-RateLimit-Reset", strconv.FormatInt(int64(math.Ceil(float64(reset.UnixNano())/1e9)), 10))
	}
	return resp, nil
}

func runWorkers(t *testing.T, rt http.RoundTripper, workers, each int) {
	t.Helper()
	hc := &http.Client{Transport: rt}
	var wg sync.WaitGroup
	var failed atomic.Int64
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				req, _ := http.NewRequest("GET", "http://site.invalid/x", nil)
				resp, err := hc.Do(req)
				if err != nil {
					failed.Add(1)
					return
				}
				resp.Body.Close()
			}
		}()
	}
	wg.Wait()
	if n := failed.Load(); n > 0 {
		t.Fatalf("%d workers failed", n)
	}
}

func TestQuotaTransportKeepsBudget(t *testing.T) {
	for _, pct := range []int{100, 50, 10} {
		t.Run(fmt.Sprintf("quota %d%%", pct), func(t *testing.T) {
			t.Parallel()
			site := &fakeSite{limit: 20, window: time.Second, headers: true, counts: map[int64]int{}, hold: 2 * time.Millisecond}
			q := newQuotaTransport(site, pct, DefaultMaxQuotaWait, slog.New(slog.DiscardHandler), &counters{})
			b := budget(20, pct)
			// About 2.5 windows of budget, from 5 goroutines.
			each := max(1, b*5/2/5)
			runWorkers(t, q, 5, each)
			site.mu.Lock()
			defer site.mu.Unlock()
			if site.over != 0 {
				t.Errorf("site answered %d 429s", site.over)
			}
			for idx, n := range site.counts {
				if n > b {
					t.Errorf("window %d: %d requests, budget %d", idx, n, b)
				}
			}
			if site.total != 5*each {
				t.Errorf("site saw %d requests, want %d", site.total, 5*each)
			}
		})
	}
}

func TestQuotaOneAtATimeUntilHeaders(t *testing.T) {
	t.Run("before the first response", func(t *testing.T) {
		t.Parallel()
		site := &fakeSite{limit: 1000, window: time.Second, headers: true, counts: map[int64]int{}, gate: make(chan struct{}), hold: 20 * time.Millisecond}
		q := newQuotaTransport(site, 100, DefaultMaxQuotaWait, slog.New(slog.DiscardHandler), &counters{})
		done := make(chan struct{})
		go func() { runWorkers(t, q, 4, 3); close(done) }()
		time.Sleep(100 * time.Millisecond) // let every worker reach the transport
		site.mu.Lock()
		before := site.maxInflight
		site.mu.Unlock()
		close(site.gate)
		<-done
		if before != 1 {
			t.Fatalf("%d requests in flight before the first response, want 1", before)
		}
		if site.maxInflight < 2 {
			t.Errorf("after headers arrived requests never overlapped (max in flight %d)", site.maxInflight)
		}
	})
	t.Run("missing headers", func(t *testing.T) {
		t.Parallel()
		var logs logBuffer
		site := &fakeSite{limit: 1000, window: time.Second, headers: false, counts: map[int64]int{}, hold: 10 * time.Millisecond}
		q := newQuotaTransport(site, 100, DefaultMaxQuotaWait, logs.logger(), &counters{})
		runWorkers(t, q, 3, 1)
		if site.maxInflight != 1 {
			t.Errorf("max in flight without headers = %d, want 1", site.maxInflight)
		}
		if n := len(logs.lines("level=WARN")); n != 1 {
			t.Errorf("%d header warnings, want 1:\n%s", n, logs.String())
		}
	})
}

func TestQuotaWaitCutShort(t *testing.T) {
	reset := time.Now().Add(10 * time.Minute) // within DefaultMaxQuotaWait
	used := &fakeRT{resp: func() *http.Response { return rateResp(10, 0, reset) }}
	q := newQuotaTransport(used, 100, DefaultMaxQuotaWait, slog.New(slog.DiscardHandler), &counters{})
	hc := &http.Client{Transport: q}
	req, _ := http.NewRequest("GET", "http://site.invalid/x", nil)
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err = hc.Do(req.WithContext(ctx))
	if !errors.Is(err, ErrQuotaWait) || !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "after the deadline") {
		t.Fatalf("deadline before reset: err = %v", err)
	}
	ctx2, cancel2 := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel2)
	_, err = hc.Do(req.WithContext(ctx2))
	if !errors.Is(err, ErrQuotaWait) || !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled: err = %v", err)
	}
	if used.calls.Load() != 1 {
		t.Fatalf("%d requests sent, want 1: the budget was used up", used.calls.Load())
	}
	q.mu.Lock()
	inflight := len(q.ledger.inflight)
	q.mu.Unlock()
	if inflight != 0 {
		t.Fatalf("in flight after canceled waits = %d", inflight)
	}
}

// TestQuotaWaitTooLong: a wait for an X-RateLimit-Reset beyond the bound ends the call at once with a
// *QuotaWaitError naming the reset, and sends nothing more.
func TestQuotaWaitTooLong(t *testing.T) {
	reset := time.Now().Add(23 * time.Hour).Truncate(time.Second)
	for _, tt := range []struct {
		name    string
		maxWait time.Duration
		reset   time.Time
		tooLong bool
	}{
		{"23 hours, default bound", DefaultMaxQuotaWait, reset, true},
		{"23 hours, bound of a minute", time.Minute, reset, true},
		{"20 minutes, default bound", DefaultMaxQuotaWait, time.Now().Add(20 * time.Minute).Truncate(time.Second), true},
		{"10 minutes, default bound", DefaultMaxQuotaWait, time.Now().Add(10 * time.Minute), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			site := &fakeRT{resp: func() *http.Response { return rateResp(10, 0, tt.reset) }}
			q := newQuotaTransport(site, 100, tt.maxWait, slog.New(slog.DiscardHandler), &counters{})
			hc := &http.Client{Transport: q}
			req, _ := http.NewRequest("GET", "http://site.invalid/x", nil)
			resp, err := hc.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			// A guard, not a timing assertion: a call that slept instead would end with DeadlineExceeded.
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			if !tt.tooLong { // a wait within the bound goes on until something else ends it
				ctx, cancel = context.WithCancel(context.Background())
				time.AfterFunc(20*time.Millisecond, cancel)
			}
			defer cancel()
			_, err = hc.Do(req.WithContext(ctx))
			var qe *QuotaWaitError
			if got := errors.As(err, &qe); got != tt.tooLong {
				t.Fatalf("err = %v; want a QuotaWaitError: %v", err, tt.tooLong)
			}
			if tt.tooLong {
				if !errors.Is(err, ErrQuotaWaitTooLong) || !errors.Is(err, ErrQuotaWait) || errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("errors.Is fails: %v", err)
				}
				if !qe.Until.Equal(tt.reset) || qe.Max != tt.maxWait || qe.Budget != 10 || qe.Used != 10 {
					t.Errorf("error = %+v", *qe)
				}
				if !strings.Contains(err.Error(), tt.reset.UTC().Format(time.RFC3339)) {
					t.Errorf("error text does not say when: %v", err)
				}
			} else if !errors.Is(err, context.Canceled) {
				t.Errorf("err = %v, want the wait to be cut by the cancel", err)
			}
			if n := site.calls.Load(); n != 1 {
				t.Errorf("%d requests sent, want 1", n)
			}
		})
	}
}

type fakeRT struct {
	calls atomic.Int64
	resp  func() *http.Response
}

func (f *fakeRT) RoundTrip(*http.Request) (*http.Response, error) {
	f.calls.Add(1)
	return f.resp(), nil
}

// TestGiveUpKeepsPooledConnections pins a decision: when a call gives up, go-retryablehttp calls
// CloseIdleConnections on the http.Client, which passes it on only to a transport that has the method. The
// quota transport (the outermost) deliberately has none, so one call giving up does not drop the idle
// connections every other stream shares: after a give-up, two requests at once still use the two
// connections already open.
func TestGiveUpKeepsPooledConnections(t *testing.T) {
	if _, ok := http.RoundTripper(&quotaTransport{}).(interface{ CloseIdleConnections() }); ok {
		t.Fatal("quotaTransport has CloseIdleConnections: a give-up would close the shared pool's idle connections")
	}
	in, release := make(chan struct{}), make(chan struct{})
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/fail"):
			respond(500, errBody("internal_server_error", "down"))(w, r)
			return
		case strings.HasSuffix(r.URL.Path, "/first"):
			respond(200, `{"id":"a","object":"account"}`)(w, r)
			return
		}
		in <- struct{}{}
		<-release
		respond(200, `{"id":"a","object":"account"}`)(w, r)
	}))
	var conns atomic.Int64
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	c := newTestClient(t, srv.URL)
	ctx := context.Background()
	pair := func() { // two requests in flight at once: two connections
		errs := make(chan error, 2)
		for range 2 {
			go func() { _, _, err := c.Get(ctx, "accounts/ok"); errs <- err }()
		}
		<-in
		<-in
		release <- struct{}{}
		release <- struct{}{}
		for range 2 {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, _, err := c.Get(ctx, "accounts/first"); err != nil { // its headers let two requests go at once
		t.Fatal(err)
	}
	pair()
	if _, _, err := c.Get(ctx, "accounts/fail"); err == nil || !strings.Contains(err.Error(), "after 3 attempts") {
		t.Fatalf("want a give-up after 3 attempts, got %v", err)
	}
	pair()
	if n := conns.Load(); n != 2 {
		t.Fatalf("the site saw %d new connections, want 2: the give-up dropped pooled connections", n)
	}
}

// TestQuotaLogSaysPacingOrUsedUp: ordinary spacing is logged as pacing with its interval, and "used up" is
// kept for a budget that is spent (used >= budget).
func TestQuotaLogSaysPacingOrUsedUp(t *testing.T) {
	var logs logBuffer
	site := &fakeSite{limit: 10, window: time.Second, headers: true, counts: map[int64]int{}, hold: time.Millisecond}
	q := newQuotaTransport(site, 100, DefaultMaxQuotaWait, logs.logger(), &counters{})
	runWorkers(t, q, 2, 12) // 24 requests: over two windows of budget
	pacing := logs.lines(`msg="quota: pacing requests`)
	if len(pacing) == 0 || !strings.Contains(pacing[0], " interval=") {
		t.Errorf("no pacing line with its interval:\n%s", logs.String())
	}
	usedUp := logs.lines("used up")
	if len(usedUp) == 0 {
		t.Errorf("the budget was spent, but no line says so:\n%s", logs.String())
	}
	for _, l := range usedUp {
		var used, budget int
		for _, f := range strings.Fields(l) {
			if v, ok := strings.CutPrefix(f, "used="); ok {
				used, _ = strconv.Atoi(v)
			}
			if v, ok := strings.CutPrefix(f, "budget="); ok {
				budget, _ = strconv.Atoi(v)
			}
		}
		if budget == 0 || used < budget {
			t.Errorf("%q says used up at %d of %d", l, used, budget)
		}
	}
}
