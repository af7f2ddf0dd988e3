package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

func rateResp(limit, remaining int, reset time.Time) *http.Response {
	h := http.Header{}
	h.Set("X-RateLimit-Limit", strconv.Itoa(limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(remaining))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(reset.Unix(), 10))
	return &http.Response{StatusCode: 200, Header: h, Body: http.NoBody}
}

func newTestQuota(percent int, now time.Time, logs *logBuffer) *quotaTransport {
	l := slog.New(slog.DiscardHandler)
	if logs != nil {
		l = logs.logger()
	}
	q := newQuotaTransport(nil, percent, l, &counters{})
	q.now = func() time.Time { return now }
	return q
}

// admit mimics acquire's bookkeeping for an attempt admitted without waiting.
func (t *quotaTransport) admitForTest() uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.inflight++
	t.seq++
	return t.seq
}

func (t *quotaTransport) snapshot() (mode quotaMode, used int, reset time.Time, lim rate.Limit) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.mode, t.usedLocked(), t.reset, t.lim.Limit()
}

func TestQuotaObserve(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	w1, w2 := now.Add(2*time.Second), now.Add(4*time.Second)
	type obs struct {
		seq  int // index into admitted attempts (1-based); answers may come out of order; 0 admits one more
		resp *http.Response
	}
	noHeaders := func() *http.Response { return &http.Response{StatusCode: 502, Header: http.Header{}} }
	tests := []struct {
		name     string
		percent  int
		admitted int
		answers  []obs
		mode     quotaMode
		used     int
		reset    time.Time
		pace     rate.Limit
	}{
		{"first answer", 100, 1, []obs{{1, rateResp(40, 30, w1)}}, modeKnown, 10, w1, 15},
		{"in flight counts", 50, 3, []obs{{1, rateResp(40, 30, w1)}}, modeKnown, 12, w1, 4},
		{"out of order answers keep the highest usage", 100, 2,
			[]obs{{2, rateResp(40, 31, w1)}, {1, rateResp(40, 30, w1)}}, modeKnown, 10, w1, 15},
		{"older answer in the same window does not lower usage", 100, 2,
			[]obs{{2, rateResp(40, 30, w1)}, {1, rateResp(40, 35, w1)}}, modeKnown, 10, w1, 15},
		{"newer window replaces usage", 100, 2,
			[]obs{{1, rateResp(40, 0, w1)}, {2, rateResp(40, 39, w2)}}, modeKnown, 1, w2, 39.0 / 4},
		{"answer from an older window is ignored", 100, 2,
			[]obs{{2, rateResp(40, 39, w2)}, {1, rateResp(40, 0, w1)}}, modeKnown, 1, w2, 38.0 / 4}, // paced while 1 was in flight
		{"header-less answer counts until a later-sent answer", 100, 3,
			[]obs{{1, rateResp(40, 30, w1)}, {2, noHeaders()}}, modeKnown, 12, w1, 14},
		{"a later-sent answer reflects the header-less one", 100, 2,
			[]obs{{1, rateResp(40, 30, w1)}, {2, noHeaders()}, {0, nil}, {3, rateResp(40, 28, w1)}},
			modeKnown, 12, w1, 14},
		{"an answer sent before the header-less one came back does not reflect it", 100, 3,
			[]obs{{1, rateResp(40, 30, w1)}, {3, noHeaders()}, {2, rateResp(40, 29, w1)}},
			modeKnown, 12, w1, 14},
		{"transport error counts too", 100, 2, []obs{{1, rateResp(40, 30, w1)}, {2, nil}}, modeKnown, 11, w1, 14.5},
		{"no headers before any: degraded", 100, 1, []obs{{1, &http.Response{StatusCode: 200, Header: http.Header{}}}}, modeDegraded, 0, time.Time{}, degradedRate},
		{"transport error before any headers: still probing", 100, 1, []obs{{1, nil}}, modeProbe, 0, time.Time{}, rate.Inf},
		{"headers after degraded mode restore it", 100, 2,
			[]obs{{1, noHeaders()}, {2, rateResp(40, 20, w1)}}, modeKnown, 20, w1, 10},
		{"budget used up", 10, 1, []obs{{1, rateResp(40, 36, w1)}}, modeKnown, 4, w1, 0.5},
		{"reset already passed: pause minPause", 100, 1, []obs{{1, rateResp(40, 30, now)}}, modeKnown, 10, now, rate.Limit(30 / minPause.Seconds())},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := newTestQuota(tt.percent, now, nil)
			var seqs []uint64
			for range tt.admitted {
				seqs = append(seqs, q.admitForTest())
			}
			for _, o := range tt.answers {
				if o.seq == 0 {
					seqs = append(seqs, q.admitForTest())
					continue
				}
				q.observe(seqs[o.seq-1], o.resp)
			}
			mode, used, reset, pace := q.snapshot()
			if mode != tt.mode || used != tt.used || !reset.Equal(tt.reset) || math.Abs(float64(pace-tt.pace)) > 1e-9 {
				t.Fatalf("mode %v used %d reset %v pace %v; want %v %d %v %v", mode, used, reset.Unix(), pace, tt.mode, tt.used, tt.reset.Unix(), tt.pace)
			}
		})
	}
}

func TestQuotaWarnsOnceAboutHeaders(t *testing.T) {
	var logs logBuffer
	q := newTestQuota(100, time.Now(), &logs)
	for range 3 {
		q.observe(q.admitForTest(), &http.Response{StatusCode: 200, Header: http.Header{"X-Ratelimit-Limit": {"x"}}})
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
			q := newQuotaTransport(site, pct, slog.New(slog.DiscardHandler), &counters{})
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
		q := newQuotaTransport(site, 100, slog.New(slog.DiscardHandler), &counters{})
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
		q := newQuotaTransport(site, 100, logs.logger(), &counters{})
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
	reset := time.Now().Add(time.Hour)
	used := &fakeRT{resp: func() *http.Response { return rateResp(10, 0, reset) }}
	q := newQuotaTransport(used, 100, slog.New(slog.DiscardHandler), &counters{})
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
	inflight := q.inflight
	q.mu.Unlock()
	if inflight != 0 {
		t.Fatalf("in flight after canceled waits = %d", inflight)
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
