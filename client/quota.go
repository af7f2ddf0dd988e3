package client

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Rate is the site's rate-limit state from a response's X-RateLimit-* headers.
type Rate struct {
	Limit     int       // requests allowed per window (X-RateLimit-Limit)
	Remaining int       // requests left in the window (X-RateLimit-Remaining)
	Reset     time.Time // when the window resets (X-RateLimit-Reset, epoch seconds)
}

// maxResetAhead bounds how far in the future a plausible X-RateLimit-Reset lies.
const maxResetAhead = 24 * time.Hour

// ParseRate reads X-RateLimit-Limit, -Remaining and -Reset. It fails when any is missing or malformed:
// not an integer, Limit < 1, Remaining outside 0..Limit, or Reset more than a day after now (e.g. a value
// in milliseconds).
func ParseRate(h http.Header, now time.Time) (Rate, error) {
	get := func(name string) (int64, error) {
		v := h.Get(name)
		if v == "" {
			return 0, fmt.Errorf("%s is missing", name)
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%s %q is not an integer", name, v)
		}
		return n, nil
	}
	limit, err := get("X-RateLimit-Limit")
	if err != nil {
		return Rate{}, err
	}
	rem, err := get("X-RateLimit-Remaining")
	if err != nil {
		return Rate{}, err
	}
	reset, err := get("X-RateLimit-Reset")
	if err != nil {
		return Rate{}, err
	}
	switch {
	case limit < 1 || limit > 1<<31:
		return Rate{}, fmt.Errorf("X-RateLimit-Limit %d is out of range", limit)
	case rem < 0 || rem > limit:
		return Rate{}, fmt.Errorf("X-RateLimit-Remaining %d is outside 0..%d", rem, limit)
	case reset <= 0 || reset > now.Add(maxResetAhead).Unix():
		return Rate{}, fmt.Errorf("X-RateLimit-Reset %d is not epoch seconds within a day of now", reset)
	}
	return Rate{Limit: int(limit), Remaining: int(rem), Reset: time.Unix(reset, 0)}, nil
}

// budget is the number of requests per window this client may account for: floor(limit*percent/100),
// at least 1 so a tiny limit cannot stall the client forever.
func budget(limit, percent int) int {
	b := int(int64(limit) * int64(percent) / 100)
	if b < 1 {
		b = 1
	}
	return b
}

// paceRate spreads what is left of the budget over the time left in the window. It never returns 0 (a
// zero-limit rate.Limiter refuses every reservation): with nothing left it allows one request per window.
func paceRate(left int, untilReset time.Duration) rate.Limit {
	if untilReset <= 0 {
		return rate.Inf
	}
	if left < 1 {
		left = 1
	}
	return rate.Limit(float64(left) / untilReset.Seconds())
}

// Conservative pacing when the site sends no usable rate-limit headers.
const (
	degradedRate = rate.Limit(1) // requests per second
	// minPause is the shortest pause when a window's reset already lies in the past but usage is still
	// over budget (clock skew, or a sliding window whose older buckets still count): probe at most this often.
	minPause = 500 * time.Millisecond
	// logWaitOver: quota waits longer than this are logged at Info.
	logWaitOver = time.Second
)

type quotaMode int

const (
	modeProbe    quotaMode = iota // no current headers (before the first response, or a reset passed): one at a time
	modeKnown                     // fresh headers: budget check plus the shared pacing limiter
	modeDegraded                  // responses carry no usable headers: one at a time at degradedRate
)

// quotaTransport makes every attempt (retries too) wait for quota before it is sent, and reads the site's
// X-RateLimit-* headers from every response. One instance, hence one limiter, serves all of a Client's
// goroutines. Budget B = floor(Limit*percent/100) per window; usage = the site's (Limit-Remaining, the highest
// seen for the current window) plus attempts in flight plus attempts whose response had no headers and that
// no later response can have counted. An attempt is sent only when usage+1 <= B; otherwise it waits for
// X-RateLimit-Reset. Below the budget, a rate.Limiter (burst 1) spreads B-usage over the time to the reset.
//
// Before the first answer, and once a reset has passed without fresher headers, attempts go one at a time:
// the first one's answer tells the new usage. If the site slides its window in buckets (Recurly's reset falls on
// each minute of a 5-minute window), that probe can find the usage still at the budget, because older buckets
// still count, and the client waits for the next reset; each such probe is one request past the budget. The
// headers do not say how long the window is, so the client learns it from the first such episode: the time
// from the reset at which the budget ran out to the reset whose answer shows room again. From then on it paces
// at no more than budget/window, so the budget is never used up within a window and no further probe is sent
// past it.
type quotaTransport struct {
	base    http.RoundTripper
	percent int
	log     *slog.Logger
	stats   *counters
	lim     *rate.Limiter
	now     func() time.Time

	mu          sync.Mutex
	changed     chan struct{} // closed and replaced whenever the state changes
	mode        quotaMode
	limit       int       // X-RateLimit-Limit of the current window
	used        int       // site usage (Limit-Remaining), the highest reported for the current window
	reset       time.Time // X-RateLimit-Reset of the current window, as the site sent it
	windowEnd   time.Time // when this client stops trusting the window's usage: reset, or a bit after now if reset has passed
	seq         uint64    // attempts admitted so far; each attempt's sequence number
	inflight    int       // attempts admitted and not yet answered (pacing ones included)
	pacing      int       // attempts admitted and still waiting for the pacing limiter
	unreflected []uint64  // per header-less answer: the highest seq admitted when it came back
	loggedPause time.Time
	warned      bool

	spentAt   time.Time     // the Reset of the window in which the budget ran out; zero while there is room
	windowLen time.Duration // the window length learned from a spent episode; 0 until then
}

var _ http.RoundTripper = (*quotaTransport)(nil)

func newQuotaTransport(base http.RoundTripper, percent int, log *slog.Logger, stats *counters) *quotaTransport {
	return &quotaTransport{
		base:    base,
		percent: percent,
		log:     log,
		stats:   stats,
		lim:     rate.NewLimiter(rate.Inf, 1),
		now:     time.Now,
		changed: make(chan struct{}),
	}
}

// RoundTrip implements http.RoundTripper: wait for quota, send, observe the headers. A 429 is a response,
// not an error; the retry layer above decides about it.
func (t *quotaTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	seq, err := t.acquire(req.Context(), req)
	if err != nil {
		return nil, err
	}
	resp, err := t.base.RoundTrip(req)
	t.observe(seq, resp)
	return resp, err
}

// broadcast wakes every waiter; t.mu must be held.
func (t *quotaTransport) broadcast() {
	close(t.changed)
	t.changed = make(chan struct{})
}

// usedLocked is the usage estimate for the budget check; t.mu must be held.
func (t *quotaTransport) usedLocked() int { return t.used + t.inflight + len(t.unreflected) }

// setPaceLocked spreads what may still be sent (the budget minus usage, where attempts waiting in the pacer
// have not been sent yet) over the time to the window's end; t.mu must be held.
func (t *quotaTransport) setPaceLocked(now time.Time) {
	switch t.mode {
	case modeKnown:
		b := budget(t.limit, t.percent)
		left := b - (t.usedLocked() - t.pacing)
		r := paceRate(left, t.windowEnd.Sub(now))
		if t.windowLen > 0 {
			// Never faster than the budget spread over the whole (learned) window.
			r = min(r, rate.Limit(float64(b)/t.windowLen.Seconds()))
		}
		t.lim.SetLimitAt(now, r)
	case modeDegraded:
		t.lim.SetLimitAt(now, degradedRate)
	default:
		t.lim.SetLimitAt(now, rate.Inf)
	}
}

// acquire blocks until an attempt may be sent and returns its sequence number.
func (t *quotaTransport) acquire(ctx context.Context, req *http.Request) (uint64, error) {
	start := t.now()
	waited := false
	defer func() {
		if waited {
			t.stats.quotaWaits.Add(1)
			t.stats.quotaWaitedNS.Add(int64(t.now().Sub(start)))
		}
	}()
	for {
		if err := ctx.Err(); err != nil {
			return 0, fmt.Errorf("%w: %w", ErrQuotaWait, err)
		}
		t.mu.Lock()
		now := t.now()
		if t.mode == modeKnown && !now.Before(t.windowEnd) {
			// The window reset with no fresh headers since: probe with one request at a time.
			t.mode = modeProbe
			t.unreflected = nil
			t.setPaceLocked(now)
			t.broadcast()
		}
		var until time.Time // zero: wait for a state change only
		admit := false
		switch t.mode {
		case modeProbe, modeDegraded:
			admit = t.inflight == 0
		case modeKnown:
			b := budget(t.limit, t.percent)
			if used := t.usedLocked(); used < b {
				admit = true
			} else {
				if t.spentAt.IsZero() {
					t.spentAt = t.reset
				}
				until = t.windowEnd
				if until != t.loggedPause { // once per window, however short the wait
					t.loggedPause = until
					t.log.LogAttrs(ctx, slog.LevelInfo, "quota: budget used up; waiting for the rate-limit window to reset",
						slog.Duration("wait", until.Sub(now).Round(time.Millisecond)),
						slog.Time("reset", until), slog.Int("used", used), slog.Int("budget", b),
						slog.Int("limit", t.limit), slog.Int("quota_limit_percent", t.percent))
				}
			}
		}
		if admit {
			t.inflight++
			t.seq++
			seq := t.seq
			if t.mode == modeProbe {
				t.mu.Unlock()
				return seq, nil
			}
			t.pacing++
			t.setPaceLocked(now)
			r := t.lim.ReserveN(now, 1)
			t.mu.Unlock()
			w, err := t.pace(ctx, req, r, now)
			waited = waited || w
			t.mu.Lock()
			t.pacing--
			if err != nil {
				t.inflight--
				t.broadcast()
			}
			t.mu.Unlock()
			if err != nil {
				return 0, err
			}
			return seq, nil
		}
		ch := t.changed
		t.mu.Unlock()
		waited = true
		if err := sleepUntil(ctx, until, now, ch); err != nil {
			return 0, err
		}
	}
}

// sleepUntil waits until `until` (if not zero), a state change, or ctx is done.
func sleepUntil(ctx context.Context, until, now time.Time, ch <-chan struct{}) error {
	var timer <-chan time.Time
	if !until.IsZero() {
		if dl, ok := ctx.Deadline(); ok && dl.Before(until) {
			return fmt.Errorf("%w: the rate-limit window resets at %s, after the deadline: %w", ErrQuotaWait,
				until.UTC().Format(time.RFC3339), context.DeadlineExceeded)
		}
		t := time.NewTimer(until.Sub(now))
		defer t.Stop()
		timer = t.C
	}
	select {
	case <-ctx.Done():
		return fmt.Errorf("%w: %w", ErrQuotaWait, ctx.Err())
	case <-ch:
	case <-timer:
	}
	return nil
}

// pace waits out a reservation of the shared limiter. It reports whether it had to wait.
func (t *quotaTransport) pace(ctx context.Context, req *http.Request, r *rate.Reservation, now time.Time) (bool, error) {
	if !r.OK() {
		return false, fmt.Errorf("%w: the pacing limiter refused the request", ErrQuotaWait)
	}
	d := r.DelayFrom(now)
	if d <= 0 {
		return false, nil
	}
	if dl, ok := ctx.Deadline(); ok && now.Add(d).After(dl) {
		r.CancelAt(now)
		return false, fmt.Errorf("%w: pacing would wait %s, past the deadline: %w", ErrQuotaWait, d, context.DeadlineExceeded)
	}
	if d > logWaitOver {
		t.log.LogAttrs(ctx, slog.LevelInfo, "quota: pacing requests to spread the remaining budget until the window resets",
			slog.Duration("wait", d.Round(time.Millisecond)), slog.String("path", req.URL.RequestURI()))
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		r.Cancel()
		return true, fmt.Errorf("%w: %w", ErrQuotaWait, ctx.Err())
	case <-timer.C:
		return true, nil
	}
}

// observe releases an attempt and folds its response's headers into the state.
func (t *quotaTransport) observe(seq uint64, resp *http.Response) {
	t.mu.Lock()
	defer t.mu.Unlock()
	defer t.broadcast()
	t.inflight--
	now := t.now()
	var r Rate
	err := errors.New("no response")
	if resp != nil {
		r, err = ParseRate(resp.Header, now)
	}
	if err != nil {
		switch {
		case t.mode == modeKnown:
			// The site may have counted it; count it until a later-sent answer reflects it.
			t.unreflected = append(t.unreflected, t.seq)
		case resp != nil && t.mode == modeProbe:
			t.mode = modeDegraded
			t.setPaceLocked(now)
		}
		if resp != nil && !t.warned {
			t.warned = true
			t.log.LogAttrs(context.Background(), slog.LevelWarn,
				"quota: response without usable rate-limit headers; counting it as used, and sending one request at a time at 1 per second while no headers are known (logged once)",
				slog.Int("status", resp.StatusCode), slog.String("problem", err.Error()))
		}
		return
	}
	used := r.Limit - r.Remaining
	switch {
	case t.mode != modeKnown && !r.Reset.Before(t.reset), r.Reset.After(t.reset):
		// First headers, a probe's answer, or a newer window.
		t.mode = modeKnown
		t.limit, t.used, t.reset = r.Limit, used, r.Reset
		if !t.spentAt.IsZero() && used < budget(r.Limit, t.percent) {
			// The budget ran out in the window ending at spentAt and has room again in the one ending at
			// r.Reset: that is how long a request counts.
			if l := r.Reset.Sub(t.spentAt); l > t.windowLen {
				t.windowLen = l
				t.log.LogAttrs(context.Background(), slog.LevelInfo, "quota: learned the rate-limit window length; pacing at no more than budget/window from now on",
					slog.Duration("window", l), slog.Int("budget", budget(r.Limit, t.percent)))
			}
			t.spentAt = time.Time{}
		}
	case t.mode == modeKnown && r.Reset.Equal(t.reset):
		t.limit = r.Limit
		t.used = max(t.used, used)
	default:
		return // an answer from an older window
	}
	t.windowEnd = t.reset
	if !t.windowEnd.After(now) {
		// The reset has passed but no newer window shows: do not probe in a tight loop.
		t.windowEnd = now.Add(minPause)
	}
	kept := t.unreflected[:0]
	for _, m := range t.unreflected {
		if m >= seq { // this attempt was sent before that answer came back: it may not reflect it
			kept = append(kept, m)
		}
	}
	t.unreflected = kept
	t.setPaceLocked(now)
}
