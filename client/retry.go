package client

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

// The retry layer is one retryablehttp.Client per Client (see newRetryClient). Its hooks are methods and
// functions that get all they need from their arguments: nothing about a call is kept between hooks, so the
// order in which the library calls them does not matter. Each attempt is recorded once by the transport
// under it (attempt.go); a call's own state (its decoded body) lives in the request's response handler.

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

// retriesDone is what the ErrorHandler hands back when the retry loop stops without a success: the number
// of attempts made and the last error (nil when the last answer was an error status).
type retriesDone struct {
	attempts int
	err      error
}

func (e *retriesDone) Error() string {
	return fmt.Sprintf("stopped after %d attempts: %v", e.attempts, e.err)
}
func (e *retriesDone) Unwrap() error { return e.err }

// newRetryClient builds the Client's one retry loop over httpClient.
func (c *Client) newRetryClient(httpClient *http.Client) *retryablehttp.Client {
	return &retryablehttp.Client{
		HTTPClient:   httpClient,
		RetryWaitMin: c.waitMin,
		RetryWaitMax: c.waitMax,
		RetryMax:     c.retryMax,
		CheckRetry:   c.checkRetry,
		Backoff:      c.backoff,
		// Pass the last response through, with the attempt count, so the caller builds a typed error.
		ErrorHandler: func(resp *http.Response, err error, n int) (*http.Response, error) {
			return resp, &retriesDone{attempts: n, err: err}
		},
	}
}

// MaxRetryAfter is the longest Retry-After the client waits out before retrying: about what the default
// retries spend in all (DefaultRetryMax waits of up to DefaultRetryWaitMax). A 429 or 503 asking for a
// longer wait is not retried early: the call ends at once with a *RetryLaterError. Shorter waits are
// honoured in full, even when they are longer than WithRetries' waitMax.
const MaxRetryAfter = 2 * time.Minute

// checkRetry is the CheckRetry hook: retryPolicy, except that an answer whose Retry-After asks for longer
// than MaxRetryAfter is not retried (the caller turns it into a *RetryLaterError).
func (c *Client) checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx.Err() == nil && err == nil && resp != nil && answerOf(ctx, resp).retryLater() > 0 {
		return false, nil
	}
	return retryPolicy(ctx, resp, err)
}

// retryPolicy is the CheckRetry classification: it wraps retryablehttp.DefaultRetryPolicy (context done: stop;
// transport errors except redirect/scheme/header/TLS errors, 429 and 5xx except 501: retry) and adds our own
// errors: quota waits cut short, oversized bodies and answers that break the contract stop; cut-off or
// invalid JSON bodies retry.
func retryPolicy(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	var ce *ContractError
	if errors.Is(err, ErrQuotaWait) || errors.Is(err, errBodyTooLarge) || errors.As(err, &ce) {
		return false, err
	}
	var bb *badBodyError
	if errors.As(err, &bb) {
		return true, nil
	}
	return retryablehttp.DefaultRetryPolicy(ctx, resp, err)
}

// backoff is the Backoff hook. It runs only when a retry will happen, so it also counts and logs the retry.
// attempt counts from 0, so attempt+1 attempts have been made.
func (c *Client) backoff(min, max time.Duration, attempt int, resp *http.Response) time.Duration {
	a := answer{}
	if resp != nil {
		ctx := context.Background()
		if resp.Request != nil {
			ctx = resp.Request.Context()
		}
		a = answerOf(ctx, resp)
	}
	d := backoffPolicy(min, max, attempt, a)
	c.stats.retries.Add(1)
	attrs := []slog.Attr{slog.String("reason", retryReason(resp))}
	if resp != nil && resp.Request != nil {
		attrs = append(attrs, slog.String("method", resp.Request.Method),
			slog.String("path", c.redact.link(resp.Request.URL.RequestURI())))
	}
	attrs = append(attrs, slog.Int("attempt", attempt+1), slog.Int("max_attempts", c.retryMax+1), slog.Duration("wait", d))
	c.logger.LogAttrs(context.Background(), slog.LevelInfo, "retrying request", attrs...)
	return d
}

// retryReason says why an attempt is retried, for the log. Without a response the attempt's own line
// ("request failed", logged just before) names the request and the error.
func retryReason(resp *http.Response) string {
	switch {
	case resp == nil:
		return "no answer (see the failed request above)"
	case resp.StatusCode >= 200 && resp.StatusCode <= 299:
		if sb, ok := resp.Body.(*spentBody); ok && sb.err != nil {
			return sb.err.Error()
		}
	}
	return fmt.Sprintf("status %d", resp.StatusCode)
}

// backoffPolicy picks the wait before retry number attempt+1 (attempt counts from 0) after answer a (zero: no
// answer). A 429 that asks for a pause (Retry-After, or else X-RateLimit-Reset) is not waited for here: the
// quota transport holds every request back until then (answer.pause), so the retry goes straight to that one
// wait. A Retry-After on any other answer (a 503) is honoured in full (checkRetry has already refused a retry
// when it is longer than MaxRetryAfter). Otherwise exponential backoff min*2^attempt capped at max, with
// jitter in [d/2, d] (never under min).
func backoffPolicy(min, max time.Duration, attempt int, a answer) time.Duration {
	if _, ok := a.pause(min, max); ok {
		return 0
	}
	if a.status != 0 && a.hasRetryAfter {
		return a.retryAfter
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
	if isDigits(v) { // delay-seconds: any number of digits; one too large for int64 is "forever", not absent
		const most = int64(time.Duration(1<<62) / time.Second)
		s, err := strconv.ParseInt(v, 10, 64)
		if err != nil || s > most {
			s = most
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

func isDigits(v string) bool {
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return false
		}
	}
	return v != ""
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
