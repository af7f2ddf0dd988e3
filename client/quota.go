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

// answer is what one response says about when to send again: its X-RateLimit-* headers and its Retry-After,
// read once, against one reading of the clock, as it arrives (quotaTransport.observe). The call it belongs to
// carries it (answerSlot) to the retry hooks and the typed errors, so no layer reads those headers again.
type answer struct {
	at            time.Time     // when it arrived
	status        int           // 0: no response
	rate          Rate          // zero when rateErr is set
	rateErr       error         // why the rate-limit headers are unusable
	retryAfter    time.Duration // what Retry-After asks for, from at
	hasRetryAfter bool          // Retry-After is present and valid
}

var errNoResponse = errors.New("no response")

// readAnswer reads resp's headers (resp nil: no response) as of now.
func readAnswer(resp *http.Response, now time.Time) answer {
	a := answer{at: now, rateErr: errNoResponse}
	if resp == nil {
		return a
	}
	a.status = resp.StatusCode
	a.rate, a.rateErr = ParseRate(resp.Header, now)
	a.retryAfter, a.hasRetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), now)
	return a
}

// pause is until when a 429 holds every request back: its Retry-After, waited in full, or else the
// X-RateLimit-Reset it shows, the wait clamped to [lo, hi] (the retry waits; see WithRetries). False when the
// answer is not a 429, says neither, or asks for longer than MaxRetryAfter (the call then stops; see
// retryLater).
func (a answer) pause(lo, hi time.Duration) (time.Time, bool) {
	switch {
	case a.status != http.StatusTooManyRequests || a.retryLater() > 0:
		return time.Time{}, false
	case a.hasRetryAfter:
		return a.at.Add(a.retryAfter), true
	case a.rateErr == nil:
		return a.at.Add(clamp(a.rate.Reset.Sub(a.at), lo, hi)), true
	}
	return time.Time{}, false
}

// retryLater is the wait a 429 or 503 asks for with Retry-After when it is longer than MaxRetryAfter, else 0.
func (a answer) retryLater() time.Duration {
	if (a.status == http.StatusTooManyRequests || a.status == http.StatusServiceUnavailable) && a.hasRetryAfter &&
		a.retryAfter > MaxRetryAfter {
		return a.retryAfter
	}
	return 0
}

// answerSlot holds the latest answer of one call, whose attempts run one after another: Client.do puts it in
// the request's context and the quota transport fills it.
type answerSlot struct {
	resp *http.Response
	a    answer
}

type answerKey struct{}

// withAnswerSlot returns ctx carrying a new answerSlot.
func withAnswerSlot(ctx context.Context) context.Context {
	return context.WithValue(ctx, answerKey{}, &answerSlot{})
}

// answerOf is the answer resp brought, as the quota transport read it for the call of ctx. A response that did
// not come through it (a hook called on its own) is read here.
func answerOf(ctx context.Context, resp *http.Response) answer {
	if s, ok := ctx.Value(answerKey{}).(*answerSlot); ok && resp != nil && s.resp == resp {
		return s.a
	}
	return readAnswer(resp, time.Now())
}

// DefaultMaxQuotaWait is the longest a request waits for quota by default; see WithMaxQuotaWait.
const DefaultMaxQuotaWait = 15 * time.Minute

// logWaitOver: quota waits longer than this are logged at Info (the first wait always is).
const logWaitOver = time.Second

// ErrQuotaWaitTooLong matches a *QuotaWaitError.
var ErrQuotaWaitTooLong = errors.New("quota: the wait for the rate-limit window is longer than the client may wait")

// QuotaWaitError ends a call whose next request would have to wait for quota longer than the client's bound
// (WithMaxQuotaWait), e.g. when X-RateLimit-Reset lies hours ahead. It matches ErrQuotaWaitTooLong and, like a
// wait cut short by the context, ErrQuotaWait (so it is not retried).
type QuotaWaitError struct {
	Until  time.Time     // when the next request could go
	Reset  time.Time     // the site's latest X-RateLimit-Reset: when its rate-limit window resets
	Wait   time.Duration // how long until Until, from when the call gave up
	Max    time.Duration // the bound
	Used   int           // requests counted against the budget when the call gave up (this client's and others')
	Budget int           // floor(X-RateLimit-Limit * quota_limit / 100)
}

// Error implements error.
func (e *QuotaWaitError) Error() string {
	when := ""
	if e.Until.Equal(e.Reset) {
		when = ", when the site's rate-limit window resets"
	}
	return fmt.Sprintf("quota: %d of the budget of %d requests used; the next request may go at %s (in %s)%s, longer than the %s the client may wait; retry after that time",
		e.Used, e.Budget, e.Until.UTC().Format(time.RFC3339), e.Wait.Round(time.Second), when, e.Max)
}

// Is reports whether target is ErrQuotaWaitTooLong or ErrQuotaWait.
func (e *QuotaWaitError) Is(target error) bool {
	return target == ErrQuotaWaitTooLong || target == ErrQuotaWait
}

// WithMaxQuotaWait bounds how long a request may wait for quota (default DefaultMaxQuotaWait). A longer wait,
// such as for an X-RateLimit-Reset hours ahead, ends the call at once with a *QuotaWaitError saying when the
// budget frees up. A wait the context's deadline would cut short ends at once too (ErrQuotaWait).
func WithMaxQuotaWait(d time.Duration) Option { return func(c *Client) { c.maxQuotaWait = d } }

// quotaTransport makes every attempt (retries too) wait for quota before it is sent, and folds every answer's
// X-RateLimit-* headers into the budget. One instance serves all of a Client's goroutines. The arithmetic
// (how many may go, when the next may) is quotaLedger's (quota_budget.go); the sleeping is quotaWaiter's.
//
// It deliberately has no CloseIdleConnections method: go-retryablehttp calls the http.Client's when a call
// gives up, and http.Client forwards it only to a transport that has one. Every stream shares the pooled
// connections under this transport, so one call giving up must not drop them (TestGiveUpKeepsPooledConnections).
type quotaTransport struct {
	base http.RoundTripper

	mu      sync.Mutex    // guards ledger, changed and log
	ledger  *quotaLedger  // the budget arithmetic
	changed chan struct{} // closed and replaced whenever an answer changes the ledger
	log     quotaLog      // log lines and their de-duplication

	waiter quotaWaiter
	stats  *counters
	// pauseMin and pauseMax bound a 429's pause until its X-RateLimit-Reset (New sets the retry waits; zero:
	// the defaults).
	pauseMin, pauseMax time.Duration
}

var _ http.RoundTripper = (*quotaTransport)(nil)

func newQuotaTransport(base http.RoundTripper, percent int, maxWait time.Duration, log *slog.Logger, stats *counters) *quotaTransport {
	return &quotaTransport{
		base:    base,
		ledger:  newQuotaLedger(percent),
		changed: make(chan struct{}),
		log:     quotaLog{log: log, percent: percent},
		waiter:  quotaWaiter{maxWait: maxWait},
		stats:   stats,
	}
}

// RoundTrip implements http.RoundTripper: wait for quota, send, observe the headers, and leave what they said
// in the call's answerSlot, if it has one. A 429 is a response, not an error; the retry layer above decides
// about it.
func (t *quotaTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	seq, err := t.acquire(req.Context())
	if err != nil {
		return nil, err
	}
	resp, err := t.base.RoundTrip(req)
	a := t.observe(seq, resp)
	if s, ok := req.Context().Value(answerKey{}).(*answerSlot); ok {
		s.resp, s.a = resp, a
	}
	return resp, err
}

// acquire blocks until an attempt may be sent and returns its sequence number.
func (t *quotaTransport) acquire(ctx context.Context) (uint64, error) {
	start := time.Now()
	waited := false
	defer func() {
		if waited {
			t.stats.quotaWaits.Add(1)
			t.stats.quotaWaitedNS.Add(int64(time.Since(start)))
		}
	}()
	for {
		if err := ctx.Err(); err != nil {
			return 0, fmt.Errorf("%w: %w", ErrQuotaWait, err)
		}
		seq, v, changed, ok := t.tryAdmit(ctx)
		if ok {
			return seq, nil
		}
		waited = true
		if err := t.waiter.wait(ctx, time.Now(), v, changed); err != nil {
			return 0, err
		}
	}
}

// tryAdmit admits an attempt if the ledger allows one now; otherwise it returns the verdict to wait on and
// the channel that an answer closes. It is the one place acquire holds the lock.
func (t *quotaTransport) tryAdmit(ctx context.Context) (uint64, quotaVerdict, <-chan struct{}, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := time.Now()
	v := t.ledger.plan(now)
	if v.n > 0 {
		if v.probe {
			t.log.probe(ctx, t.ledger)
		}
		return t.ledger.admit(now, v), v, nil, true
	}
	t.log.waiting(ctx, now, v, t.ledger)
	return 0, v, t.changed, false
}

// observe releases an attempt, reads its response's headers (resp nil: no response) and folds them into the
// ledger: the budget they show, and the pause a 429 asks for. It returns what it read.
func (t *quotaTransport) observe(seq uint64, resp *http.Response) answer {
	t.mu.Lock()
	defer t.mu.Unlock()
	a := readAnswer(resp, time.Now())
	var r *Rate
	if a.rateErr == nil {
		r = &a.rate
	}
	note := t.ledger.answer(seq, a.at, a.status, r)
	lo, hi := t.pauseMin, t.pauseMax
	if hi == 0 {
		lo, hi = DefaultRetryWaitMin, DefaultRetryWaitMax
	}
	if until, ok := a.pause(lo, hi); ok {
		t.ledger.pause(until)
	}
	if note.noHeaders && resp != nil {
		t.log.noHeaders(a.status, a.rateErr)
	}
	if note.learned > 0 {
		t.log.learned(note.learned, budget(t.ledger.limit, t.ledger.percent))
	}
	close(t.changed)
	t.changed = make(chan struct{})
	return a
}

// quotaWaiter sleeps until a planned time, an answer changing the ledger, or the end of the context. It refuses
// a wait longer than maxWait, or ending after the context's deadline, at once.
type quotaWaiter struct {
	maxWait time.Duration // 0: no bound
}

// wait sleeps for verdict v, planned before now; changed is closed by the next answer.
func (w quotaWaiter) wait(ctx context.Context, now time.Time, v quotaVerdict, changed <-chan struct{}) error {
	var timer <-chan time.Time
	if !v.next.IsZero() {
		d := v.next.Sub(now)
		if w.maxWait > 0 && d > w.maxWait {
			return &QuotaWaitError{Until: v.next, Reset: v.reset, Wait: d, Max: w.maxWait, Used: v.used, Budget: v.budget}
		}
		if dl, ok := ctx.Deadline(); ok && dl.Before(v.next) {
			return fmt.Errorf("%w: the rate-limit budget frees up at %s, after the deadline: %w", ErrQuotaWait,
				v.next.UTC().Format(time.RFC3339), context.DeadlineExceeded)
		}
		t := time.NewTimer(d)
		defer t.Stop()
		timer = t.C
	}
	select {
	case <-ctx.Done():
		return fmt.Errorf("%w: %w", ErrQuotaWait, ctx.Err())
	case <-changed:
	case <-timer:
	}
	return nil
}

// quotaLog writes the quota layer's log lines, each kind at most as often as it says something new.
type quotaLog struct {
	log     *slog.Logger
	percent int
	logged  [4]time.Time // per waitKind: the end of the last wait logged
	warned  bool         // the missing-headers warning was given
}

// waitKind is why a verdict makes an attempt wait.
type waitKind int

const (
	waitBudget    waitKind = iota // the budget is used up
	waitAllowance                 // the window is unknown and the bucket's share of the budget is spent
	waitPacing                    // the pacer spaces the sends
	waitPaused                    // a 429 asked every request to wait
)

// waiting logs a wait: the first of its kind, and then each one over logWaitOver ending at a new time.
func (q *quotaLog) waiting(ctx context.Context, now time.Time, v quotaVerdict, l *quotaLedger) {
	k := v.kind(l.window)
	last := q.logged[k]
	if v.next.IsZero() || v.next.Equal(last) || (!last.IsZero() && v.next.Sub(now) <= logWaitOver) {
		return
	}
	q.logged[k] = v.next
	wait := slog.Duration("wait", v.next.Sub(now).Round(time.Millisecond))
	switch k {
	case waitPaused:
		q.log.LogAttrs(ctx, slog.LevelInfo, "quota: the site answered 429 Too Many Requests; every request waits as it asked (Retry-After, or else X-RateLimit-Reset)",
			wait, slog.Time("until", v.next))
	case waitAllowance:
		q.log.LogAttrs(ctx, slog.LevelInfo, "quota: waiting for the rate-limit reset; until the window length is known, each bucket sends at most half of what is left of the budget",
			wait, slog.Time("until", v.next), slog.Int("used", v.used), slog.Int("budget", v.budget), slog.Int("limit", l.limit),
			slog.Int("quota_limit_percent", q.percent))
	case waitPacing:
		q.log.LogAttrs(ctx, slog.LevelInfo, "quota: pacing requests to spread the budget over the rate-limit window",
			slog.Duration("interval", v.interval.Round(time.Millisecond)), wait, slog.Int("budget", v.budget),
			slog.Int("others", v.others), slog.String("window", windowText(l.window)))
	default:
		q.log.LogAttrs(ctx, slog.LevelInfo, "quota: budget used up; waiting for the rate-limit window to reset",
			wait, slog.Time("until", v.next), slog.Int("used", v.used), slog.Int("budget", v.budget), slog.Int("limit", l.limit),
			slog.Int("quota_limit_percent", q.percent), slog.String("window", windowText(l.window)))
	}
}

// probe logs an attempt sent when no answer can show whether the budget has room.
func (q *quotaLog) probe(ctx context.Context, l *quotaLedger) {
	q.log.LogAttrs(ctx, slog.LevelInfo, "quota: no answer in flight can show whether the budget has room; sending one request after the rate-limit reset",
		slog.Time("reset", l.reset), slog.Int("budget", budget(l.limit, q.percent)), slog.String("window", windowText(l.window)))
}

// noHeaders warns once about answers without usable rate-limit headers.
func (q *quotaLog) noHeaders(status int, problem error) {
	if q.warned {
		return
	}
	q.warned = true
	q.log.LogAttrs(context.Background(), slog.LevelWarn,
		"quota: response without usable rate-limit headers; counting it as used, and sending one request at a time at 1 per second while no headers are known (logged once)",
		slog.Int("status", status), slog.String("problem", problem.Error()))
}

// learned logs a new bound of the window length.
func (q *quotaLog) learned(w time.Duration, b int) {
	q.log.LogAttrs(context.Background(), slog.LevelInfo, "quota: learned the rate-limit window length; each request now counts against the budget until a window after its answer",
		slog.Duration("window", w), slog.Int("budget", b))
}

func windowText(w time.Duration) string {
	if w == 0 {
		return "unknown"
	}
	return w.String()
}
