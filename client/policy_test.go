package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func hdr(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Set(kv[i], kv[i+1])
	}
	return h
}

func TestBackoffPolicy(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	min, max := 100*time.Millisecond, 3*time.Second
	resp := func(status int, h http.Header) *http.Response { return &http.Response{StatusCode: status, Header: h} }
	tests := []struct {
		name   string
		n      int
		resp   *http.Response
		lo, hi time.Duration
	}{
		{"first retry, transport error", 0, nil, min, min},
		{"second retry doubles", 1, resp(503, hdr()), min, 200 * time.Millisecond},
		{"fourth retry", 3, resp(500, hdr()), 400 * time.Millisecond, 800 * time.Millisecond},
		{"capped at max", 10, resp(502, hdr()), max / 2, max},
		{"huge attempt number does not overflow", 200, nil, max / 2, max},
		// A 429 asking for a pause (Retry-After, or else X-RateLimit-Reset) is waited for by the quota
		// transport, for every request at once; the retry itself does not wait on top of it.
		{"429 retry-after seconds: the quota transport waits", 0, resp(429, hdr("Retry-After", "2")), 0, 0},
		{"429 retry-after zero", 4, resp(429, hdr("Retry-After", "0")), 0, 0},
		{"429 retry-after garbage, reset: the quota transport waits", 0, resp(429, hdr("Retry-After", "soon",
			"X-RateLimit-Limit", "10", "X-RateLimit-Remaining", "0", "X-RateLimit-Reset", strconv.FormatInt(now.Unix()+1, 10))), 0, 0},
		{"429 reset: the quota transport waits", 0, resp(429, hdr(
			"X-RateLimit-Limit", "10", "X-RateLimit-Remaining", "0", "X-RateLimit-Reset", strconv.FormatInt(now.Unix()+2, 10))), 0, 0},
		{"retry-after seconds on 503", 5, resp(503, hdr("Retry-After", "1")), time.Second, time.Second},
		{"503 retry-after longer than max honoured in full", 0, resp(503, hdr("Retry-After", "120")), 2 * time.Minute, 2 * time.Minute},
		{"503 retry-after zero", 4, resp(503, hdr("Retry-After", "0")), 0, 0},
		{"503 retry-after http date", 0, resp(503, hdr("Retry-After", now.Add(2*time.Second).UTC().Format(http.TimeFormat))), 2 * time.Second, 2 * time.Second},
		{"503 retry-after date in the past", 0, resp(503, hdr("Retry-After", now.Add(-time.Hour).UTC().Format(http.TimeFormat))), 0, 0},
		{"503 ignores reset", 0, resp(503, hdr(
			"X-RateLimit-Limit", "10", "X-RateLimit-Remaining", "0", "X-RateLimit-Reset", strconv.FormatInt(now.Unix()+2, 10))), min, min},
		{"429 without headers backs off", 2, resp(429, hdr()), 200 * time.Millisecond, 400 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for range 50 { // jitter
				got := backoffPolicy(min, max, tt.n, readAnswer(tt.resp, now))
				if got < tt.lo || got > tt.hi {
					t.Fatalf("backoffPolicy = %s, want in [%s, %s]", got, tt.lo, tt.hi)
				}
			}
		})
	}
}

func TestBackoffPolicyJitters(t *testing.T) {
	seen := map[time.Duration]bool{}
	for range 100 {
		seen[backoffPolicy(time.Second, time.Minute, 3, answer{})] = true
	}
	if len(seen) < 10 {
		t.Fatalf("backoff is not jittered: %d distinct waits in 100 draws", len(seen))
	}
}

func TestRetryPolicy(t *testing.T) {
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	status := func(s int) *http.Response {
		return &http.Response{StatusCode: s, Status: strconv.Itoa(s), Header: http.Header{}}
	}
	urlErr := func(err error) error { return &url.Error{Op: "Get", URL: "http://x/y", Err: err} }
	tests := []struct {
		name    string
		ctx     context.Context
		resp    *http.Response
		err     error
		retry   bool
		wantErr error
	}{
		{"200", nil, status(200), nil, false, nil},
		{"429", nil, status(429), nil, true, nil},
		{"500", nil, status(500), nil, true, nil},
		{"502", nil, status(502), nil, true, nil},
		{"503", nil, status(503), nil, true, nil},
		{"504", nil, status(504), nil, true, nil},
		{"501 not retried", nil, status(501), nil, false, nil},
		{"400", nil, status(400), nil, false, nil},
		{"401", nil, status(401), nil, false, nil},
		{"403", nil, status(403), nil, false, nil},
		{"404", nil, status(404), nil, false, nil},
		{"406", nil, status(406), nil, false, nil},
		{"422", nil, status(422), nil, false, nil},
		{"connection reset", nil, nil, urlErr(&net.OpError{Op: "read", Err: syscall.ECONNRESET}), true, nil},
		{"connection refused", nil, nil, urlErr(&net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}), true, nil},
		{"unexpected EOF", nil, nil, urlErr(io.ErrUnexpectedEOF), true, nil},
		{"attempt timeout", nil, nil, urlErr(&attemptTimeoutError{time.Second}), true, nil},
		{"cut-off body", nil, status(200), &badBodyError{io.ErrUnexpectedEOF}, true, nil},
		{"body too large", nil, status(200), errBodyTooLarge, false, errBodyTooLarge},
		{"quota wait cut short", nil, nil, urlErr(fmt.Errorf("%w: %w", ErrQuotaWait, context.DeadlineExceeded)), false, ErrQuotaWait},
		{"context canceled", canceled, status(503), nil, false, context.Canceled},
		{"context canceled during body", canceled, status(200), &badBodyError{context.Canceled}, false, context.Canceled},
		{"unsupported scheme", nil, nil, urlErr(errors.New("unsupported protocol scheme \"ftp\"")), false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := tt.ctx
			if ctx == nil {
				ctx = context.Background()
			}
			retry, err := retryPolicy(ctx, tt.resp, tt.err)
			if retry != tt.retry {
				t.Errorf("retry = %v, want %v", retry, tt.retry)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestParseRate(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	reset := strconv.FormatInt(now.Unix()+60, 10)
	tests := []struct {
		name    string
		h       http.Header
		want    Rate
		wantErr string
	}{
		{"valid", hdr("X-RateLimit-Limit", "2000", "X-RateLimit-Remaining", "1996", "X-RateLimit-Reset", reset),
			Rate{2000, 1996, time.Unix(now.Unix()+60, 0)}, ""},
		{"remaining zero", hdr("X-RateLimit-Limit", "40", "X-RateLimit-Remaining", "0", "X-RateLimit-Reset", reset),
			Rate{40, 0, time.Unix(now.Unix()+60, 0)}, ""},
		{"reset in the past is valid", hdr("X-RateLimit-Limit", "40", "X-RateLimit-Remaining", "3", "X-RateLimit-Reset", "1600000000"),
			Rate{40, 3, time.Unix(1600000000, 0)}, ""},
		{"missing limit", hdr("X-RateLimit-Remaining", "1", "X-RateLimit-Reset", reset), Rate{}, "X-RateLimit-Limit is missing"},
		{"missing remaining", hdr("X-RateLimit-Limit", "1", "X-RateLimit-Reset", reset), Rate{}, "X-RateLimit-Remaining is missing"},
		{"missing reset", hdr("X-RateLimit-Limit", "1", "X-RateLimit-Remaining", "1"), Rate{}, "X-RateLimit-Reset is missing"},
		{"non-integer", hdr("X-RateLimit-Limit", "lots", "X-RateLimit-Remaining", "1", "X-RateLimit-Reset", reset), Rate{}, "not an integer"},
		{"float reset", hdr("X-RateLimit-Limit", "10", "X-RateLimit-Remaining", "1", "X-RateLimit-Reset", "1700000060.5"), Rate{}, "not an integer"},
		{"zero limit", hdr("X-RateLimit-Limit", "0", "X-RateLimit-Remaining", "0", "X-RateLimit-Reset", reset), Rate{}, "out of range"},
		{"negative remaining", hdr("X-RateLimit-Limit", "10", "X-RateLimit-Remaining", "-1", "X-RateLimit-Reset", reset), Rate{}, "outside"},
		{"remaining over limit", hdr("X-RateLimit-Limit", "10", "X-RateLimit-Remaining", "11", "X-RateLimit-Reset", reset), Rate{}, "outside"},
		{"reset in milliseconds", hdr("X-RateLimit-Limit", "10", "X-RateLimit-Remaining", "1", "X-RateLimit-Reset", "1700000060000"), Rate{}, "epoch seconds"},
		{"reset zero", hdr("X-RateLimit-Limit", "10", "X-RateLimit-Remaining", "1", "X-RateLimit-Reset", "0"), Rate{}, "epoch seconds"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseRate(tt.h, now)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got.Limit != tt.want.Limit || got.Remaining != tt.want.Remaining || !got.Reset.Equal(tt.want.Reset) {
				t.Fatalf("ParseRate = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func TestEndpointOf(t *testing.T) {
	for _, tt := range []struct{ path, want string }{
		{"/sites/subdomain-x/accounts", "accounts"},
		{"/sites/subdomain-x/accounts/abc", "accounts"},
		{"/sites/subdomain-x/accounts/abc/billing_info", "billing_info"},
		{"/sites/subdomain-x/plans/code-p/add_ons", "add_ons"},
		{"/prefix/sites/subdomain-x/line_items", "line_items"},
		{"/sites/subdomain-x", "site"},
	} {
		if got := endpointOf(&url.URL{Path: tt.path}, "subdomain-x"); got != tt.want {
			t.Errorf("endpointOf(%s) = %q, want %q", tt.path, got, tt.want)
		}
	}
}

func TestURLs(t *testing.T) {
	begin := time.Date(2020, 1, 2, 3, 4, 5, 600, time.FixedZone("x", 3600))
	tests := []struct {
		name, base, path string
		p                ListParams
		want, wantErr    string
	}{
		{"defaults", "https://partner-api.recurly.com", "accounts", ListParams{},
			"https://partner-api.recurly.com/sites/subdomain-x/accounts?limit=200&order=asc&sort=updated_at", ""},
		{"base with trailing slash", "http://127.0.0.1:9/", "accounts", ListParams{Limit: 5},
			"http://127.0.0.1:9/sites/subdomain-x/accounts?limit=5&order=asc&sort=updated_at", ""},
		{"base with prefix", "http://h/api//", "plans/code-p%2Fq/add_ons", ListParams{Sort: "created_at", Order: "desc"},
			"http://h/api/sites/subdomain-x/plans/code-p%2Fq/add_ons?limit=200&order=desc&sort=created_at", ""},
		{"times in UTC", "http://h", "transactions", ListParams{BeginTime: begin, EndTime: begin.Add(time.Hour)},
			"http://h/sites/subdomain-x/transactions?begin_time=2020-01-02T02%3A04%3A05Z&end_time=2020-01-02T03%3A04%3A05Z&limit=200&order=asc&sort=updated_at", ""},
		{"extra query kept", "http://h", "transactions?type=payment", ListParams{},
			"http://h/sites/subdomain-x/transactions?limit=200&order=asc&sort=updated_at&type=payment", ""},
		{"a next link", "http://h", "/sites/subdomain-x/accounts?cursor=b", ListParams{}, "", "must be site-relative"},
		{"an absolute link", "http://h", "http://h/sites/subdomain-x/accounts", ListParams{}, "", "must be site-relative"},
		{"unpaged", "http://h", "accounts/a1/notes?sort=created_at", ListParams{Unpaged: true, Limit: 5},
			"http://h/sites/subdomain-x/accounts/a1/notes?sort=created_at", ""},
		{"dot-dot", "http://h", "accounts/../../x", ListParams{}, "", "invalid resource path"},
		{"empty segment", "http://h", "accounts//x", ListParams{}, "", "invalid resource path"},
		{"empty path", "http://h", "", ListParams{}, "", "empty resource path"},
		{"limit too big", "http://h", "accounts", ListParams{Limit: 201}, "", "out of range"},
		{"bad sort", "http://h", "accounts", ListParams{Sort: "collected_at"}, "", "want created_at or updated_at"},
		{"bad order", "http://h", "accounts", ListParams{Order: "up"}, "", "want asc or desc"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := New("key", "subdomain-x", WithBaseURL(tt.base))
			if err != nil {
				t.Fatal(err)
			}
			u, err := c.listURL(tt.path, tt.p)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("listURL err = %v, want containing %q (url %v)", err, tt.wantErr, u)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if u.String() != tt.want {
				t.Fatalf("listURL =\n %s\nwant\n %s", u, tt.want)
			}
		})
	}
}

func TestNewValidates(t *testing.T) {
	tests := []struct {
		name, key, site string
		opts            []Option
		wantErr         string
	}{
		{"ok", "k", "subdomain-x", nil, ""},
		{"empty key", "", "subdomain-x", nil, "API key is empty"},
		{"blank key", "  ", "subdomain-x", nil, "API key is empty"},
		{"empty site", "k", "", nil, "site ID is empty"},
		{"site with slash", "k", "a/b", nil, "invalid site ID"},
		{"relative base", "k", "s", []Option{WithBaseURL("partner-api.recurly.com")}, "invalid base URL"},
		{"ftp base", "k", "s", []Option{WithBaseURL("ftp://h")}, "invalid base URL"},
		{"base with query", "k", "s", []Option{WithBaseURL("http://h/?a=1")}, "invalid base URL"},
		{"base with user", "k", "s", []Option{WithBaseURL("http://u:secret@h/")}, "invalid base URL"},
		{"quota 0", "k", "s", []Option{WithQuotaLimit(0)}, "out of range"},
		{"quota 101", "k", "s", []Option{WithQuotaLimit(101)}, "out of range"},
		{"timeout", "k", "s", []Option{WithTimeout(0)}, "timeout"},
		{"retries", "k", "s", []Option{WithRetries(-1, time.Second, time.Second)}, "retries"},
		{"waits", "k", "s", []Option{WithRetries(1, time.Second, time.Millisecond)}, "retry waits"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.key, tt.site, tt.opts...)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want containing %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Fatalf("error leaks user info: %v", err)
			}
		})
	}
}

func TestErrorResponseMessages(t *testing.T) {
	tests := []struct {
		name     string
		e        *ErrorResponse
		contains []string
		is       error
	}{
		{"401", &ErrorResponse{StatusCode: 401, Method: "GET", Path: "/sites/subdomain-x/accounts?limit=1", Type: "unauthorized", Message: "Invalid API key"},
			[]string{"GET /sites/subdomain-x/accounts?limit=1", "the API key was rejected (401 unauthorized)", "Invalid API key"}, ErrUnauthorized},
		{"403", &ErrorResponse{StatusCode: 403, Method: "GET", Path: "/sites/subdomain-x/transactions?limit=1", Type: "invalid_permissions", Message: "nope"},
			[]string{"lacks permission for /sites/subdomain-x/transactions (403", "nope"}, ErrForbidden},
		{"404 site list", &ErrorResponse{StatusCode: 404, Method: "GET", Path: "/sites/subdomain-y/accounts?limit=200", SiteID: "subdomain-y", Type: "not_found", Message: "Couldn't find Site"},
			[]string{"no site named subdomain-y", "Couldn't find Site"}, ErrNotFound},
		{"404 site by param", &ErrorResponse{StatusCode: 404, Method: "GET", Path: "/sites/subdomain-y/accounts/a/billing_info", SiteID: "subdomain-y", Params: []ErrorParam{{Param: "site_id"}}},
			[]string{"no site named subdomain-y", "[site_id]"}, ErrNotFound},
		{"404 nested resource", &ErrorResponse{StatusCode: 404, Method: "GET", Path: "/sites/subdomain-y/accounts/abc/billing_info", SiteID: "subdomain-y", Type: "not_found", Message: "no billing info", Params: []ErrorParam{{Param: "account_id", Message: "unknown"}}},
			[]string{"resource /sites/subdomain-y/accounts/abc/billing_info not found (404)", "[account_id: unknown]"}, ErrNotFound},
		{"406", &ErrorResponse{StatusCode: 406, Method: "GET", Path: "/p", Type: "invalid_api_version", Message: "That accept header isn't in the format"},
			[]string{"API version", "406", "That accept header"}, ErrNotAcceptable},
		{"400", &ErrorResponse{StatusCode: 400, Method: "GET", Path: "/p", Type: "bad_request", Message: "Invalid or unpermitted parameter"},
			[]string{"400 bad request", "Invalid or unpermitted parameter"}, ErrBadRequest},
		{"422", &ErrorResponse{StatusCode: 422, Method: "GET", Path: "/p", Type: "validation"}, []string{"422", "validation"}, ErrUnprocessable},
		{"500 after retries", &ErrorResponse{StatusCode: 503, Method: "GET", Path: "/p", Attempts: 9}, []string{"server error (503 service unavailable) after 9 attempts"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := tt.e.Error()
			for _, s := range tt.contains {
				if !strings.Contains(msg, s) {
					t.Errorf("Error() = %q, want it to contain %q", msg, s)
				}
			}
			all := []error{ErrBadRequest, ErrUnauthorized, ErrForbidden, ErrNotFound, ErrNotAcceptable, ErrUnprocessable, ErrRateLimited}
			for _, s := range all {
				if got := errors.Is(tt.e, s); got != (s == tt.is) {
					t.Errorf("errors.Is(%v) = %v", s, got)
				}
			}
		})
	}
	rl := &RateLimitError{Rate: Rate{Limit: 40, Reset: time.Unix(1_700_000_000, 0)}, Attempts: 3,
		Err: &ErrorResponse{StatusCode: 429, Method: "GET", Path: "/sites/s/accounts", Message: "slow down"}}
	var er *ErrorResponse
	if !errors.Is(rl, ErrRateLimited) || !errors.As(rl, &er) || er.StatusCode != 429 {
		t.Fatalf("RateLimitError does not match ErrRateLimited / *ErrorResponse")
	}
	for _, s := range []string{"GET /sites/s/accounts", "429", "after 3 attempts", "2023-11-14T22:13:20Z", "slow down"} {
		if !strings.Contains(rl.Error(), s) {
			t.Errorf("RateLimitError %q lacks %q", rl.Error(), s)
		}
	}
}
