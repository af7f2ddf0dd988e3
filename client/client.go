// Package client is an HTTP client for Recurly's API v2018-08-09 (the "Partner API").
//
// It pages list endpoints and fetches single objects of one site, returning each record as the raw JSON the
// site sent. It is the tap's speed and safety: it spends at most the configured share of the site's
// rate-limit window (see WithQuotaLimit), rides out transient faults with bounded, jittered retries, and turns
// the API's error envelope into typed errors a user can act on. It knows nothing of Singer.
//
// Layering, outer to inner: Client methods (request, decode, typed errors; a call's own state is its
// request's response handler) -> one go-retryablehttp client for the life of the Client (retries; its hooks
// keep no state between calls) -> quotaTransport (waits for quota, reads X-RateLimit-* headers) ->
// attemptTransport (per-attempt timeout; records each attempt once: Stats, log line, request hook) -> the
// base http.RoundTripper.
package client

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/tap-recurly/tap-recurly/internal/jsonscan"
)

// Defaults used by New when the corresponding Option is not given.
const (
	// DefaultBaseURL is the v2018-08-09 API host.
	DefaultBaseURL = "https://partner-api.recurly.com"
	// DefaultUserAgent is the User-Agent sent when WithUserAgent is not used.
	DefaultUserAgent = "tap-recurly/dev"
	// APIVersion is the Recurly API version this client speaks.
	APIVersion = "v2018-08-09"
	// DefaultQuotaLimit is the share (percent) of the site's rate-limit window the client may use.
	DefaultQuotaLimit = 100
	// DefaultTimeout bounds each attempt: sending the request and reading the whole response body.
	DefaultTimeout = 60 * time.Second
	// DefaultRetryMax is the number of retries after the first attempt. With DefaultRetryWaitMin and
	// DefaultRetryWaitMax the jittered waits add up to roughly one to two minutes, riding out a short outage.
	DefaultRetryMax = 8
	// DefaultRetryWaitMin is the first retry's nominal wait; each later retry doubles it.
	DefaultRetryWaitMin = time.Second
	// DefaultRetryWaitMax caps every backoff wait and a 429's wait until X-RateLimit-Reset (not Retry-After).
	DefaultRetryWaitMax = 30 * time.Second
	// DefaultPageLimit is the page size asked for when ListParams.Limit is 0 (the API's maximum).
	DefaultPageLimit = 200
	// MaxPageLimit is the largest page size the API accepts.
	MaxPageLimit = 200
)

// Client talks to one Recurly site. Create it with New; the zero value is not usable.
// A Client is safe for concurrent use by multiple goroutines, and all of them share one quota: the rate-limit
// budget and the waits for it.
type Client struct {
	apiKey    string
	siteID    string
	rawBase   string
	base      *url.URL
	userAgent string
	quotaPct  int
	timeout   time.Duration
	retryMax  int
	waitMin   time.Duration
	waitMax   time.Duration
	logger    *slog.Logger
	hook      func(RequestInfo)
	transport http.RoundTripper
	// maxQuotaWait bounds a wait for quota (WithMaxQuotaWait).
	maxQuotaWait time.Duration

	auth        string // the Authorization header value; never logged
	redact      *redactor
	retry       *retryablehttp.Client // the one retry loop, for the life of the Client
	quota       *quotaTransport
	stats       counters
	deprecation atomic.Pointer[Deprecation]
	bodies      bodyPool // the buffers of List's pages
}

// Option configures a Client in New. Options are applied in order; invalid values make New fail.
type Option func(*Client)

// WithBaseURL sets the API base URL (default DefaultBaseURL). A path prefix is kept: requests go to
// {base}/sites/{site}/{path}, joined without double slashes. Tests point it at the simulated site.
func WithBaseURL(u string) Option { return func(c *Client) { c.rawBase = u } }

// WithUserAgent sets the full User-Agent header value (default DefaultUserAgent).
func WithUserAgent(ua string) Option { return func(c *Client) { c.userAgent = ua } }

// WithQuotaLimit sets the percentage (1..100, default 100) of the site's rate-limit window this client may
// use: the budget is floor(X-RateLimit-Limit * percent / 100) requests per window.
func WithQuotaLimit(percent int) Option { return func(c *Client) { c.quotaPct = percent } }

// WithTimeout bounds each attempt (default DefaultTimeout): from sending the request to reading the whole
// body. Quota waits and retry backoff are not part of it; bound those with the context.
func WithTimeout(d time.Duration) Option { return func(c *Client) { c.timeout = d } }

// WithRetries sets the number of retries after the first attempt (0 disables retrying) and the bounds of the
// jittered exponential backoff between attempts (defaults DefaultRetryMax, DefaultRetryWaitMin,
// DefaultRetryWaitMax). A 429's wait until X-RateLimit-Reset is clamped to [waitMin, waitMax]; a Retry-After
// up to MaxRetryAfter is waited in full.
func WithRetries(max int, waitMin, waitMax time.Duration) Option {
	return func(c *Client) { c.retryMax, c.waitMin, c.waitMax = max, waitMin, waitMax }
}

// WithLogger sets the logger (default: discard). Retries and quota waits over a second are logged at Info,
// rate-limit header problems at Warn, and every attempt at Debug (method, path with query, status, duration).
// The API key is never logged.
func WithLogger(l *slog.Logger) Option { return func(c *Client) { c.logger = l } }

// WithRequestHook registers fn to be called after every attempt that was sent (including retried ones), from
// the goroutine that made the request. It is meant for metrics, e.g. Singer http_request_duration timers.
// A nil fn disables the hook.
func WithRequestHook(fn func(RequestInfo)) Option { return func(c *Client) { c.hook = fn } }

// WithTransport sets the base transport under the quota and retry layers (default: a pooled http.Transport
// under gzipTransport, which asks for gzip and decompresses it). The benchmarks of this package and of
// package bench replay recorded answers through it (so it cannot live in a _test.go file); a caller that
// sets it takes on gzip and connection pooling.
func WithTransport(rt http.RoundTripper) Option { return func(c *Client) { c.transport = rt } }

// RequestInfo describes one attempt, for WithRequestHook.
type RequestInfo struct {
	Method   string
	Endpoint string        // resource name, e.g. "accounts", "add_ons", "billing_info"
	Status   int           // HTTP status; 0 when no response arrived
	Duration time.Duration // from sending the request to reading its body (quota waits excluded)
	Err      error         // transport, timeout or body error of this attempt; nil otherwise

	uri string // the request path with query, as sent
	red *redactor
}

// Path is the request path with query, e.g. /sites/subdomain-x/accounts?limit=200, redacted as every
// logged link is (built on call: redacting costs, and most hooks never read it).
func (ri RequestInfo) Path() string { return ri.red.link(ri.uri) }

// Stats counts a Client's traffic since New. Every attempt is counted, retries included. (net/http itself
// may resend a GET once when a reused keep-alive connection closes before any answer; such a resend is
// invisible to the client and not counted, though the site sees it.)
type Stats struct {
	Requests    int64         // attempts sent
	Retries     int64         // attempts that were retried
	Throttled   int64         // 429 responses received
	Failures    int64         // attempts that ended in a transport error, a bad body or a non-2xx status
	QuotaWaits  int64         // attempts that had to wait for quota before being sent
	QuotaWaited time.Duration // total time attempts spent waiting for quota
}

type counters struct {
	requests, retries, throttled, failures, quotaWaits, quotaWaitedNS atomic.Int64
}

// Stats returns a snapshot of the client's counters. It is safe to call concurrently with requests.
func (c *Client) Stats() Stats {
	return Stats{
		Requests:    c.stats.requests.Load(),
		Retries:     c.stats.retries.Load(),
		Throttled:   c.stats.throttled.Load(),
		Failures:    c.stats.failures.Load(),
		QuotaWaits:  c.stats.quotaWaits.Load(),
		QuotaWaited: time.Duration(c.stats.quotaWaitedNS.Load()),
	}
}

// Response is the HTTP response of a call's final attempt. Its Body has been read and closed.
type Response struct {
	*http.Response
}

// New returns a Client for the site siteID, addressed as the API expects it: a site ID ("e28zov4fw0v2") or
// "subdomain-" plus the subdomain. It fails if apiKey or siteID is empty, the base URL is not an absolute
// http(s) URL, or an option is out of range.
func New(apiKey, siteID string, opts ...Option) (*Client, error) {
	c := &Client{
		apiKey:    apiKey,
		siteID:    siteID,
		rawBase:   DefaultBaseURL,
		userAgent: DefaultUserAgent,
		quotaPct:  DefaultQuotaLimit,
		timeout:   DefaultTimeout,
		retryMax:  DefaultRetryMax,
		waitMin:   DefaultRetryWaitMin,
		waitMax:   DefaultRetryWaitMax,
	}
	c.maxQuotaWait = DefaultMaxQuotaWait
	for _, o := range opts {
		if o != nil {
			o(c)
		}
	}
	if err := c.validate(); err != nil {
		return nil, err
	}
	if c.logger == nil {
		c.logger = slog.New(slog.DiscardHandler)
	}
	if c.transport == nil {
		c.transport = &gzipTransport{base: newPooledTransport()}
	}
	c.auth = "Basic " + base64.StdEncoding.EncodeToString([]byte(apiKey+":"))
	c.redact = newRedactor(apiKey)
	c.quota = newQuotaTransport(&attemptTransport{c: c}, c.quotaPct, c.maxQuotaWait, c.logger, &c.stats)
	c.quota.pauseMin, c.quota.pauseMax = c.waitMin, c.waitMax
	// No Timeout here: it would include quota waits. attemptTransport bounds each attempt instead.
	c.retry = c.newRetryClient(&http.Client{
		Transport: c.quota,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse // a redirect could carry the key elsewhere; surface it as-is
		},
	})
	return c, nil
}

// validate checks the settings New was given.
func (c *Client) validate() error {
	if strings.TrimSpace(c.apiKey) == "" {
		return errors.New("client: the API key is empty")
	}
	if strings.TrimSpace(c.siteID) == "" {
		return errors.New("client: the site ID is empty (use the site's ID or subdomain-<subdomain>)")
	}
	if strings.ContainsAny(c.siteID, "/?#") {
		return fmt.Errorf("client: invalid site ID %q (use the site's ID or subdomain-<subdomain>)", c.siteID)
	}
	base, err := parseBaseURL(c.rawBase)
	if err != nil {
		return err
	}
	c.base = base
	switch {
	case c.quotaPct < 1 || c.quotaPct > 100:
		return fmt.Errorf("client: quota limit %d%% is out of range 1..100", c.quotaPct)
	case c.maxQuotaWait <= 0:
		return fmt.Errorf("client: maximum quota wait %s must be positive", c.maxQuotaWait)
	case c.timeout <= 0:
		return fmt.Errorf("client: timeout %s must be positive", c.timeout)
	case c.retryMax < 0:
		return fmt.Errorf("client: retries %d must not be negative", c.retryMax)
	case c.waitMin <= 0 || c.waitMax < c.waitMin:
		return fmt.Errorf("client: retry waits must satisfy 0 < min (%s) <= max (%s)", c.waitMin, c.waitMax)
	case c.userAgent == "":
		return errors.New("client: the User-Agent is empty")
	}
	return nil
}

func parseBaseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("client: invalid base URL: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("client: invalid base URL %q: want an absolute http or https URL", raw)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("client: invalid base URL %q: it must not carry user info, a query or a fragment", u.Redacted())
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	return u, nil
}

func newPooledTransport() *http.Transport {
	return &http.Transport{
		Proxy: http.ProxyFromEnvironment,
		DialContext: (&net.Dialer{
			Timeout:   30 * time.Second,
			KeepAlive: 30 * time.Second,
		}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   32,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
}

// setHeaders is the one place request headers are set.
func (c *Client) setHeaders(h http.Header) {
	h.Set("Accept", "application/vnd.recurly."+APIVersion)
	h.Set("Authorization", c.auth)
	h.Set("User-Agent", c.userAgent)
}

// do performs a GET or HEAD with retries. decode validates a 2xx body inside the retried path; a body that
// fails it is retried like a 5xx when it is cut off or not valid JSON, and fails at once when it is
// complete but of the wrong shape (see ContractError). The body is read into a buffer from pool (nil: a
// plain allocation, for bodies the caller keeps).
func (c *Client) do(ctx context.Context, method string, u *url.URL, decode func([]byte) error, pool *bodyPool) (*Response, []byte, error) {
	if ctx == nil {
		return nil, nil, errors.New("client: nil Context") // as net/http refuses one
	}
	shown := func() string { return c.redact.link(u.RequestURI()) } // for errors only: redaction costs
	// The quota transport leaves each attempt's answer in the call's slot.
	ctx = withAnswerSlot(ctx)
	req, err := retryablehttp.NewRequestWithContext(ctx, method, u.String(), nil)
	if err != nil {
		return nil, nil, fmt.Errorf("%s %s: %s", method, shown(), c.redact.string(err.Error()))
	}
	c.setHeaders(req.Header)
	var body []byte // the call's own state: the last 2xx body that passed decode
	req.SetResponseHandler(func(resp *http.Response) error {
		b, err := c.readBody(resp, method, decode, pool)
		body = b
		return err
	})
	resp, err := c.retry.Do(req)
	attempts := 1
	var done *retriesDone
	if errors.As(err, &done) {
		attempts, err = done.attempts, done.err
	}
	if err != nil {
		if resp != nil {
			resp.Body.Close()
		}
		return nil, nil, c.callError(ctx, method, shown(), attempts, err)
	}
	r := &Response{Response: resp}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return r, nil, c.statusError(resp, answerOf(ctx, resp), method, shown(), attempts)
	}
	return r, body, nil
}

// callError is the error of a call that ended without an answer to return.
func (c *Client) callError(ctx context.Context, method, shown string, attempts int, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return fmt.Errorf("%s %s: %w", method, shown, cerr)
	}
	err = stripURLError(err)
	var ce *ContractError
	switch {
	case errors.As(err, &ce):
		return err
	case attempts > 1 && !errors.Is(err, ErrQuotaWait) && !errors.Is(err, errBodyTooLarge):
		return fmt.Errorf("%s %s: giving up after %d attempts: %w", method, shown, attempts, redactedError{err, c.redact})
	}
	return fmt.Errorf("%s %s: %w", method, shown, redactedError{err, c.redact})
}

// statusError is the typed error of a non-2xx final answer a.
func (c *Client) statusError(resp *http.Response, a answer, method, shown string, attempts int) error {
	e := checkResponse(resp, method, shown, c.siteID, c.redact)
	if attempts > 1 {
		e.Attempts = attempts
	}
	var err error = e
	if resp.StatusCode == http.StatusTooManyRequests {
		err = &RateLimitError{Rate: a.rate, Attempts: attempts, Err: e}
	}
	if d := a.retryLater(); d > 0 {
		return &RetryLaterError{Until: a.at.Add(d).Truncate(time.Second), Wait: d, Err: err}
	}
	return err
}

// readBody is the response handler's work: it reads a 2xx body whole, under MaxBodyBytes, and validates it
// with decode. Error bodies are left for checkResponse.
func (c *Client) readBody(resp *http.Response, method string, decode func([]byte) error, pool *bodyPool) ([]byte, error) {
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, nil
	}
	size := resp.ContentLength
	if method == http.MethodHead {
		size = 0 // a HEAD answer's Content-Length is the size of the GET's body, which is not sent
	}
	var body []byte
	err := errBodyTooLarge
	if size <= MaxBodyBytes {
		body, err = readAllSized(resp.Body, size, MaxBodyBytes, pool)
	}
	if err == nil && decode != nil {
		err = decode(body)
	}
	err = c.classify(resp, body, err)
	spend(resp, err)
	if err != nil {
		return nil, err
	}
	return body, nil
}

// classify tells a permanent body problem from a transient one: a body cut off, unreadable or not valid
// JSON is retried (*badBodyError); an HTML page, valid JSON of the wrong shape, or a 204 where a body was
// wanted, is a *ContractError.
func (c *Client) classify(resp *http.Response, body []byte, err error) error {
	if err != nil && resp.StatusCode == http.StatusNoContent {
		return &ContractError{Method: resp.Request.Method, Path: c.redact.link(resp.Request.URL.RequestURI()), NoContent: true}
	}
	if err == nil || errors.Is(err, errBodyTooLarge) || body == nil {
		if err != nil && !errors.Is(err, errBodyTooLarge) {
			return &badBodyError{err}
		}
		return err
	}
	ct := resp.Header.Get("Content-Type")
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	html := strings.Contains(strings.ToLower(ct), "html") || bytes.HasPrefix(trimmed, []byte("<"))
	if !html && !jsonscan.Valid(body) {
		return &badBodyError{err}
	}
	return &ContractError{Method: resp.Request.Method, Path: c.redact.link(resp.Request.URL.RequestURI()),
		ContentType: c.redact.clean(ct, 80), Start: c.redact.clean(string(body[:min(len(body), 160)]), 120),
		Problem: c.redact.clean(err.Error(), 200), HTML: html}
}

// redactedError shows an error's text with the API key blanked, and unwraps to it.
type redactedError struct {
	err error
	red *redactor
}

func (e redactedError) Error() string { return e.red.string(e.err.Error()) }
func (e redactedError) Unwrap() error { return e.err }

// drain reads at most n bytes of rc and closes it.
func drain(rc io.ReadCloser, n int64) {
	_, _ = io.Copy(io.Discard, io.LimitReader(rc, n))
	_ = rc.Close()
}
