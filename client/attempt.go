package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"
)

// attemptTransport is the bottom of the client's stack, under the quota transport: it sees every attempt
// that is actually sent (retries included, quota waits over), so it is the one place an attempt is
// recorded: Stats, the log line and the request hook. It bounds each attempt by the client's timeout, which
// starts when the request is sent and covers reading the body, and it notes a deprecated API version.
// It needs nothing from the call the attempt belongs to: what it records comes from the request itself.
type attemptTransport struct{ c *Client }

var _ http.RoundTripper = (*attemptTransport)(nil)

// RoundTrip implements http.RoundTripper.
func (t *attemptTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	c := t.c
	c.stats.requests.Add(1)
	start := time.Now()
	parent := req.Context()
	ctx, cancel := context.WithTimeout(parent, c.timeout)
	resp, err := c.transport.RoundTrip(req.WithContext(ctx))
	if err != nil {
		if ctx.Err() != nil && parent.Err() == nil {
			err = &attemptTimeoutError{c.timeout}
		}
		cancel()
		c.recordAttempt(req, 0, time.Since(start), err)
		return nil, err
	}
	c.noteDeprecation(resp.Header)
	resp.Body = &attemptBody{rc: resp.Body, c: c, req: req, status: resp.StatusCode, start: start,
		ctx: ctx, parent: parent, cancel: cancel}
	return resp, nil
}

// recordAttempt accounts for one finished attempt: Stats, the log line (Debug; Info when it failed without
// an answer, as the retry line after it cannot name the request) and the request hook.
func (c *Client) recordAttempt(req *http.Request, status int, d time.Duration, err error) {
	err = stripURLError(err)
	if status == http.StatusTooManyRequests {
		c.stats.throttled.Add(1)
	}
	if err != nil || status < 200 || status > 299 {
		c.stats.failures.Add(1)
	}
	level, msg := slog.LevelDebug, "request"
	if err != nil && status == 0 && !errors.Is(err, ErrQuotaWait) {
		level, msg = slog.LevelInfo, "request failed"
	}
	// The line, and so the redacted path, only when it is logged: at Info nobody reads a request line.
	if ctx := context.Background(); c.logger.Enabled(ctx, level) {
		attrs := []slog.Attr{slog.String("method", req.Method), slog.String("path", c.redact.link(req.URL.RequestURI())),
			slog.Int("status", status), slog.Duration("duration", d)}
		if err != nil {
			attrs = append(attrs, slog.String("error", c.redact.string(err.Error())))
		}
		c.logger.LogAttrs(ctx, level, msg, attrs...)
	}
	if c.hook != nil {
		c.hook(RequestInfo{Method: req.Method, Endpoint: endpointOf(req.URL, c.siteID), Status: status,
			Duration: d, Err: err, uri: req.URL.RequestURI(), red: c.redact})
	}
}

// attemptBody is an attempt's response body. It reports a read cut by the attempt's timeout as an attempt
// timeout, and records the attempt when closed, with the first read error or the problem the reader found
// in the body (see spend).
type attemptBody struct {
	rc          io.ReadCloser
	c           *Client
	req         *http.Request
	status      int
	start       time.Time
	ctx, parent context.Context
	cancel      context.CancelFunc
	err         error
	closed      atomic.Bool
}

func (b *attemptBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if err != nil && err != io.EOF {
		if b.ctx.Err() != nil && b.parent.Err() == nil {
			err = &attemptTimeoutError{b.c.timeout}
		}
		if b.err == nil {
			b.err = err
		}
	}
	return n, err
}

func (b *attemptBody) Close() error {
	err := b.rc.Close()
	b.cancel()
	if b.closed.CompareAndSwap(false, true) {
		b.c.recordAttempt(b.req, b.status, time.Since(b.start), b.err)
	}
	return err
}

// spentBody replaces a body read by the response handler. It keeps the problem found in it, so the retry
// log can say why a 200 is retried.
type spentBody struct{ err error }

func (spentBody) Read([]byte) (int, error) { return 0, io.EOF }
func (spentBody) Close() error             { return nil }

// spend closes resp's body, recording problem (nil if none) with the attempt, and leaves a spentBody.
func spend(resp *http.Response, problem error) {
	if ab, ok := resp.Body.(*attemptBody); ok && ab.err == nil {
		ab.err = problem
	}
	resp.Body.Close()
	resp.Body = &spentBody{err: problem}
}

// MaxBodyBytes bounds a successful answer's body, counted after decompression: a 200-record page of
// Recurly's largest records is a few megabytes, so this leaves ample room while bounding memory per request
// in flight. A longer body is refused while it is read, and not retried.
const MaxBodyBytes = 32 << 20

// errBodyTooLarge: a 2xx body over MaxBodyBytes. Not retried.
var errBodyTooLarge = fmt.Errorf("response body exceeds %d MiB (the client's cap on one answer)", MaxBodyBytes>>20)

// growJump is the buffer size past which readAllSized stops doubling and grows to the limit in one step.
const growJump = maxPooled

// readAllSized reads r up to limit bytes (more is errBodyTooLarge), given the expected size (Content-Length; -1 if unknown, when the pool's size hint,
// at most growJump, is the first guess), taking its buffers from pool (nil: plain allocations). A body of
// the expected size is read into one buffer. Otherwise the buffer doubles as it fills up to growJump, then
// grows to limit in one step, so a body over the limit is refused once limit bytes are in, and memory stays
// within the limit plus growJump whatever the server sends.
func readAllSized(r io.Reader, size, limit int64, pool *bodyPool) ([]byte, error) {
	capacity := max(int64(32<<10), min(pool.sizeHint()+1, growJump))
	if size >= 0 && size <= limit {
		capacity = size + 1 // +1 to see EOF without growing
	}
	buf := pool.get(int(min(capacity, limit)))
	for {
		if int64(len(buf)) == limit {
			var one [1]byte
			n, err := io.ReadFull(r, one[:])
			if n > 0 {
				return nil, errBodyTooLarge
			}
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				pool.noteSize(len(buf))
				return buf, nil
			}
			return nil, err
		}
		if len(buf) == cap(buf) {
			buf = grow(buf, limit, pool)
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			pool.noteSize(len(buf))
			return buf, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// grow returns a buffer holding buf's bytes with room for more, recycling buf into pool: twice the size up
// to growJump, then limit at once (doubling on towards it would hold the old buffer and one twice its size
// together, 1.5 times the cap at the end; this way a body over the cap costs at most the cap plus growJump).
func grow(buf []byte, limit int64, pool *bodyPool) []byte {
	next := 2 * int64(cap(buf))
	if next > growJump {
		next = limit
	}
	grown := pool.get(int(min(next, limit)))[:len(buf)]
	copy(grown, buf)
	pool.put(buf)
	return grown
}
