package client

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

// errBodyTooLarge: a 2xx body over maxBodyBytes. Not retried.
var errBodyTooLarge = fmt.Errorf("response body exceeds %d bytes", maxBodyBytes)

// badBodyError is a 2xx response whose body was cut off or is not the JSON expected. It is retried.
type badBodyError struct{ err error }

func (e *badBodyError) Error() string {
	return "response body cut off or not valid JSON: " + e.err.Error()
}
func (e *badBodyError) Unwrap() error { return e.err }

// attemptTimeoutError is one attempt running past WithTimeout. It is retried.
type attemptTimeoutError struct{ d time.Duration }

func (e *attemptTimeoutError) Error() string { return fmt.Sprintf("attempt timed out after %s", e.d) }

// Timeout reports true, like net.Error timeouts.
func (e *attemptTimeoutError) Timeout() bool { return true }

// retryPolicy is the CheckRetry classification: it wraps retryablehttp.DefaultRetryPolicy (context done: stop;
// transport errors except redirect/scheme/header/TLS errors, 429 and 5xx except 501: retry) and adds our own
// errors: quota waits cut short and oversized bodies stop, cut-off or non-JSON bodies retry.
func retryPolicy(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	if errors.Is(err, ErrQuotaWait) || errors.Is(err, errBodyTooLarge) {
		return false, err
	}
	var bb *badBodyError
	if errors.As(err, &bb) {
		return true, nil
	}
	return retryablehttp.DefaultRetryPolicy(ctx, resp, err)
}

// backoffPolicy picks the wait before retry number attempt+1 (attempt counts from 0). A Retry-After header
// (seconds or HTTP date) wins; on a 429 without one, the time until X-RateLimit-Reset; either is clamped to
// [0, max]. Otherwise exponential backoff min*2^attempt capped at max, with jitter in [d/2, d] (never under min).
func backoffPolicy(min, max time.Duration, attempt int, resp *http.Response, now time.Time) time.Duration {
	if resp != nil {
		if d, ok := parseRetryAfter(resp.Header.Get("Retry-After"), now); ok {
			return clamp(d, 0, max)
		}
		if resp.StatusCode == http.StatusTooManyRequests {
			if r, err := ParseRate(resp.Header, now); err == nil {
				return clamp(r.Reset.Sub(now), min, max)
			}
		}
	}
	d := max
	if attempt < 62 {
		if e := min << attempt; e > 0 && e < max && e>>attempt == min {
			d = e
		}
	}
	half := d / 2
	j := half + time.Duration(rand.Int64N(int64(d-half)+1))
	return clamp(j, min, max)
}

func clamp(d, lo, hi time.Duration) time.Duration {
	if d < lo {
		d = lo
	}
	if d > hi {
		d = hi
	}
	return d
}

// parseRetryAfter reads a Retry-After value: delay seconds or an HTTP date (a past date means 0).
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	if s, err := strconv.ParseInt(v, 10, 64); err == nil {
		if s < 0 {
			return 0, false
		}
		if s > int64(time.Duration(1<<62)/time.Second) {
			s = int64(time.Duration(1<<62) / time.Second)
		}
		return time.Duration(s) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	if d := t.Sub(now); d > 0 {
		return d, true
	}
	return 0, true
}

// retryReason describes why an attempt is retried, for the log.
func retryReason(resp *http.Response, err error) string {
	if err != nil {
		return stripURLError(err).Error()
	}
	if resp != nil {
		return fmt.Sprintf("status %d", resp.StatusCode)
	}
	return "unknown"
}

// stripURLError drops the *url.Error wrapper http.Client adds: its text repeats the full URL, and logs and
// errors name the method and path only.
func stripURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

type callKey struct{}

// callFrom returns the call a request belongs to, or nil.
func callFrom(ctx context.Context) *call {
	cl, _ := ctx.Value(callKey{}).(*call)
	return cl
}

// call is the state of one client call across its attempts. Attempts run one after another on the caller's
// goroutine (transports, CheckRetry, Backoff and the response handler all run there), so it needs no lock.
type call struct {
	c        *Client
	method   string
	path     string
	endpoint string
	decode   func([]byte) error

	attempts     int       // attempts sent so far
	sent         bool      // the current attempt was sent and not yet finished
	start        time.Time // when the current attempt was sent
	lastDuration time.Duration
	afterHandler bool // the response handler finished this attempt; the next CheckRetry must not
	reason       string
	gaveUp       bool
	body         []byte
}

// startAttempt is called by attemptTransport when an attempt is actually sent (after any quota wait).
func (cl *call) startAttempt() {
	cl.attempts++
	cl.sent = true
	cl.start = time.Now()
}

// finish records one attempt: Stats, the Debug log line and the request hook.
func (cl *call) finish(resp *http.Response, err error) {
	err = stripURLError(err)
	if !cl.sent {
		return // never sent (e.g. the quota wait was cut short)
	}
	cl.sent = false
	d := time.Since(cl.start)
	cl.lastDuration = d
	status := 0
	if resp != nil {
		status = resp.StatusCode
	}
	c := cl.c
	if status == http.StatusTooManyRequests {
		c.stats.throttled.Add(1)
	}
	if err != nil || status < 200 || status > 299 {
		c.stats.failures.Add(1)
	}
	attrs := []slog.Attr{
		slog.String("method", cl.method), slog.String("path", cl.path), slog.Int("status", status),
		slog.Duration("duration", d), slog.Int("attempt", cl.attempts),
	}
	if err != nil {
		attrs = append(attrs, slog.String("error", err.Error()))
	}
	c.logger.LogAttrs(context.Background(), slog.LevelDebug, "request", attrs...)
	if c.hook != nil {
		c.hook(RequestInfo{Method: cl.method, Path: cl.path, Endpoint: cl.endpoint, Status: status,
			Duration: d, Attempt: cl.attempts, Err: err})
	}
}

// checkRetry is the retryablehttp CheckRetry hook: classification by retryPolicy, plus finishing the
// attempt unless the response handler runs next (it does when there is no transport error and no retry).
func (cl *call) checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	retry, perr := retryPolicy(ctx, resp, err)
	if cl.afterHandler {
		cl.afterHandler = false
	} else if retry || err != nil {
		cl.finish(resp, err)
	}
	if retry {
		cl.reason = retryReason(resp, err)
	}
	return retry, perr
}

// handleResponse is the retryablehttp response handler, run inside the retried path: it reads a 2xx body
// whole and validates it, so a body cut off mid-JSON is retried. Error bodies are left for checkResponse.
func (cl *call) handleResponse(resp *http.Response) error {
	cl.afterHandler = true
	var err error
	if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
		var body []byte
		size := resp.ContentLength
		if cl.method == http.MethodHead {
			size = 0 // a HEAD answer's Content-Length is the size of the GET's body, which is not sent
		}
		body, err = readAllSized(resp.Body, size, maxBodyBytes)
		resp.Body.Close()
		resp.Body = http.NoBody
		if err == nil && cl.decode != nil {
			err = cl.decode(body)
		}
		if err != nil && !errors.Is(err, errBodyTooLarge) {
			err = &badBodyError{err}
		}
		if err == nil {
			cl.body = body
		}
	}
	cl.finish(resp, err)
	return err
}

// backoff is the retryablehttp Backoff hook. It runs only when a retry will happen, so it also counts and
// logs the retry with its reason.
func (cl *call) backoff(min, max time.Duration, attempt int, resp *http.Response) time.Duration {
	d := backoffPolicy(min, max, attempt, resp, time.Now())
	c := cl.c
	c.stats.retries.Add(1)
	c.logger.LogAttrs(context.Background(), slog.LevelInfo, "retrying request",
		slog.String("method", cl.method), slog.String("path", cl.path), slog.String("reason", cl.reason),
		slog.Int("attempt", cl.attempts), slog.Int("max_attempts", c.retryMax+1), slog.Duration("wait", d))
	return d
}

// giveUp is the retryablehttp ErrorHandler: it passes the last response through (the caller builds a typed
// error from it) and notes that retries stopped.
func (cl *call) giveUp(resp *http.Response, err error, _ int) (*http.Response, error) {
	cl.gaveUp = true
	return resp, err
}

// readAll reads r up to limit bytes; more is errBodyTooLarge.
func readAll(r io.Reader, limit int64) ([]byte, error) { return readAllSized(r, -1, limit) }

// readAllSized is readAll with the expected size (Content-Length; -1 if unknown): a body of that size is read
// into one allocation, instead of a buffer doubled and copied as it grows (a tenth of the tap's CPU on large
// pages, counting the garbage collector).
func readAllSized(r io.Reader, size, limit int64) ([]byte, error) {
	if size < 0 || size > limit {
		size = 0
	}
	buf := bytes.NewBuffer(make([]byte, 0, size+bytes.MinRead))
	n, err := buf.ReadFrom(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if n > limit {
		return nil, errBodyTooLarge
	}
	return buf.Bytes(), nil
}

// attemptTransport bounds each attempt by a timeout that starts when the request is sent (after the quota
// wait) and covers reading the body; it also marks the attempt's start for timing and Stats.
type attemptTransport struct {
	base    http.RoundTripper
	timeout time.Duration
	stats   *counters
}

var _ http.RoundTripper = (*attemptTransport)(nil)

// RoundTrip implements http.RoundTripper.
func (t *attemptTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	parent := req.Context()
	if cl := callFrom(parent); cl != nil {
		cl.startAttempt()
	}
	t.stats.requests.Add(1)
	ctx, cancel := context.WithTimeout(parent, t.timeout)
	resp, err := t.base.RoundTrip(req.WithContext(ctx))
	if err != nil {
		if ctx.Err() != nil && parent.Err() == nil {
			err = &attemptTimeoutError{t.timeout}
		}
		cancel()
		return nil, err
	}
	resp.Body = &timeoutBody{rc: resp.Body, ctx: ctx, parent: parent, cancel: cancel, d: t.timeout}
	return resp, nil
}

// timeoutBody releases the attempt's timer on Close and reports a read cut by it as an attempt timeout.
type timeoutBody struct {
	rc          io.ReadCloser
	ctx, parent context.Context
	cancel      context.CancelFunc
	d           time.Duration
}

func (b *timeoutBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if err != nil && err != io.EOF && b.ctx.Err() != nil && b.parent.Err() == nil {
		err = &attemptTimeoutError{b.d}
	}
	return n, err
}

func (b *timeoutBody) Close() error {
	err := b.rc.Close()
	b.cancel()
	return err
}
