package client

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestListPageSendsHeadersAndParams(t *testing.T) {
	srv := newScripted(t, respond(200, page(true, "/sites/subdomain-x/accounts?cursor=b&limit=2", "a", "b")))
	c := newTestClient(t, srv.URL+"/", WithUserAgent("tap-recurly/1.2.3 (test)"))
	begin := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	p, resp, err := c.ListPage(context.Background(), "accounts", ListParams{Limit: 2, BeginTime: begin})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Records) != 2 || string(p.Records[0]) != `{"id":"a","object":"account"}` || !p.HasMore ||
		p.Next != "/sites/subdomain-x/accounts?cursor=b&limit=2" {
		t.Fatalf("page = %+v", p)
	}
	if resp.StatusCode != 200 {
		t.Fatalf("response = %d", resp.StatusCode)
	}
	r := srv.requests()[0]
	want := map[string]string{
		"Accept":        "application/vnd.recurly.v2018-08-09",
		"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte(testKey+":")),
		"User-Agent":    "tap-recurly/1.2.3 (test)",
	}
	for k, v := range want {
		if got := r.Header.Get(k); got != v {
			t.Errorf("header %s = %q, want %q", k, got, v)
		}
	}
	if user, pass, ok := r.BasicAuth(); !ok || user != testKey || pass != "" {
		t.Errorf("basic auth = %q %q %v", user, pass, ok)
	}
	if r.Method != http.MethodGet || r.URL.Path != "/sites/subdomain-x/accounts" ||
		r.URL.RawQuery != "begin_time=2024-05-06T07%3A08%3A09Z&limit=2&order=asc&sort=updated_at" {
		t.Errorf("request = %s %s", r.Method, r.URL)
	}
}

func TestRetriesEachFault(t *testing.T) {
	ok := respond(200, page(false, "", "a", "b"))
	tests := []struct {
		name       string
		first      step
		wantStatus int // status of the failed first attempt in the hook; 0 for no response
		opts       []Option
	}{
		{"500", respond(500, errBody("internal_server_error", "boom")), 500, nil},
		{"502 html", respond(502, "<html>Bad Gateway</html>"), 502, nil},
		{"503", respond(503, ""), 503, nil},
		{"504", respond(504, ""), 504, nil},
		{"429 with Retry-After", respond(429, errBody("rate_limited", "slow down"), "Retry-After", "1"), 429, nil},
		{"429 without Retry-After", respond(429, errBody("rate_limited", "slow down")), 429, nil},
		{"connection reset", connReset, 0, nil},
		{"body cut off (short Content-Length)", truncated, 200, nil},
		{"body cut off mid-JSON", cutJSON, 200, nil},
		{"200 not JSON", respond(200, "maintenance, back soon"), 200, nil},
		{"200 JSON nested too deep", respond(200, `{"object":"list","data":[`+strings.Repeat("[", 10001)+strings.Repeat("]", 10001)+`]}`), 200, nil},
		{"attempt timeout", slow(2*time.Second, ok), 0, []Option{WithTimeout(100 * time.Millisecond)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newScripted(t, tt.first, ok)
			var rec hookRecorder
			var logs logBuffer
			c := newTestClient(t, srv.URL, append([]Option{WithRequestHook(rec.hook), WithLogger(logs.logger())}, tt.opts...)...)
			p, resp, err := c.ListPage(context.Background(), "accounts", ListParams{})
			if err != nil {
				t.Fatalf("ListPage: %v", err)
			}
			if len(p.Records) != 2 || resp.StatusCode != 200 {
				t.Fatalf("page = %+v status %d", p, resp.StatusCode)
			}
			if n := len(srv.requests()); n != 2 {
				t.Errorf("server saw %d requests, want 2", n)
			}
			infos := rec.all()
			if len(infos) != 2 || infos[0].Status != tt.wantStatus ||
				infos[1].Status != 200 || infos[1].Err != nil || infos[0].Endpoint != "accounts" ||
				!strings.HasPrefix(infos[0].Path(), "/sites/subdomain-x/accounts?") {
				t.Errorf("hook infos = %+v", infos)
			}
			if (tt.wantStatus == 0 || tt.wantStatus == 200) && infos[0].Err == nil {
				t.Errorf("first attempt has no Err: %+v", infos[0])
			}
			st := c.Stats()
			if st.Requests != 2 || st.Retries != 1 || st.Failures != 1 {
				t.Errorf("stats = %+v", st)
			}
			if tt.wantStatus == 429 && st.Throttled != 1 {
				t.Errorf("throttled = %d", st.Throttled)
			}
			retries := logs.lines(`msg="retrying request"`)
			if len(retries) != 1 || !strings.Contains(retries[0], "level=INFO") || !strings.Contains(retries[0], "reason=") ||
				strings.Contains(retries[0], "127.0.0.1") {
				t.Errorf("retry log lines = %q", retries)
			}
			// The retry line names the request when there was an answer; without one, the failed attempt's
			// own Info line just before it does.
			named := retries
			if tt.wantStatus == 0 {
				named = logs.lines(`msg="request failed"`)
			}
			if len(named) != 1 || !strings.Contains(named[0], "level=INFO") || !strings.Contains(named[0], `path="/sites/subdomain-x/accounts?`) {
				t.Errorf("lines naming the request = %q", named)
			}
			if strings.Contains(logs.String(), testKey) {
				t.Errorf("logs contain the key")
			}
		})
	}
}

// TestA429WaitsOnce: the wait a 429 asks for (its Retry-After, or else until its X-RateLimit-Reset) is
// waited once, by the quota transport for every request, not by the retry's backoff and then again by the
// quota transport. Counted as the waits planned: the retry's backoff and the quota transport's waits.
func TestA429WaitsOnce(t *testing.T) {
	reset := func() string { return strconv.FormatInt(time.Now().Add(time.Second).Unix(), 10) }
	for _, tt := range []struct {
		name string
		kv   func() []string
		most time.Duration // the longest the site asked for
	}{
		{"Retry-After", func() []string { return []string{"Retry-After", "1"} }, time.Second},
		{"Retry-After, nothing remaining", func() []string {
			return []string{"Retry-After", "1", "X-RateLimit-Remaining", "0", "X-RateLimit-Reset", reset()}
		}, 2 * time.Second},
		{"X-RateLimit-Reset, nothing remaining", func() []string {
			return []string{"X-RateLimit-Limit", "10", "X-RateLimit-Remaining", "0", "X-RateLimit-Reset", reset()}
		}, 2 * time.Second},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var logs logBuffer
			srv := newScripted(t, func(w http.ResponseWriter, r *http.Request) { respond(429, "", tt.kv()...)(w, r) },
				respond(200, page(false, "")))
			c := newTestClient(t, srv.URL, WithRetries(2, time.Millisecond, 5*time.Second), WithLogger(logs.logger()))
			var backoffs []time.Duration
			backoff := c.retry.Backoff
			c.retry.Backoff = func(min, max time.Duration, n int, resp *http.Response) time.Duration {
				d := backoff(min, max, n, resp)
				backoffs = append(backoffs, d)
				return d
			}
			if _, _, err := c.ListPage(context.Background(), "accounts", ListParams{}); err != nil {
				t.Fatal(err)
			}
			waits := logs.lines("msg=\"quota: the site answered 429")
			if len(backoffs) != 1 || backoffs[0] != 0 || c.Stats().QuotaWaits != 1 || len(waits) != 1 {
				t.Fatalf("backoff waits %v, %d quota waits, quota lines %q: want one wait, the quota transport's\n%s",
					backoffs, c.Stats().QuotaWaits, waits, logs.String())
			}
			_, after, _ := strings.Cut(waits[0], " wait=")
			planned, err := time.ParseDuration(strings.Fields(after)[0])
			if err != nil || planned <= 0 || planned > tt.most {
				t.Errorf("the quota transport planned a wait of %s (%v), want one within the %s the site asked for", planned, err, tt.most)
			}
		})
	}
}

// TestRetryAfterHonoured: a 503's Retry-After is the retry's backoff, in full.
func TestRetryAfterHonoured(t *testing.T) {
	for _, status := range []int{503} {
		t.Run(strconv.Itoa(status), func(t *testing.T) {
			var logs logBuffer
			srv := newScripted(t, respond(status, "", "Retry-After", "1"), respond(200, page(false, "")))
			// The server's 1s is waited in full although waitMax is 300ms; with waitMin 1ms the exponential
			// backoff would be ~1ms.
			c := newTestClient(t, srv.URL, WithRetries(2, time.Millisecond, 300*time.Millisecond), WithLogger(logs.logger()))
			if _, _, err := c.ListPage(context.Background(), "accounts", ListParams{}); err != nil {
				t.Fatal(err)
			}
			lines := logs.lines("retrying request")
			if len(lines) != 1 || !strings.Contains(lines[0], "wait=1s") ||
				!strings.Contains(lines[0], fmt.Sprintf(`reason="status %d"`, status)) {
				t.Fatalf("retry log = %q, want the Retry-After wait of 1s honoured in full", lines)
			}
		})
	}
}

func TestGivesUpAfterBound(t *testing.T) {
	tests := []struct {
		name  string
		s     step
		check func(t *testing.T, err error)
	}{
		{"503", respond(503, errBody("internal_server_error", "down for maintenance")), func(t *testing.T, err error) {
			var e *ErrorResponse
			if !errors.As(err, &e) || e.StatusCode != 503 || e.Attempts != 3 ||
				!strings.Contains(err.Error(), "after 3 attempts") || !strings.Contains(err.Error(), "down for maintenance") {
				t.Fatalf("err = %v", err)
			}
		}},
		{"429", respond(429, errBody("rate_limited", "too many")), func(t *testing.T, err error) {
			var e *RateLimitError
			if !errors.As(err, &e) || !errors.Is(err, ErrRateLimited) || e.Attempts != 3 || e.Rate.Limit != 100000 {
				t.Fatalf("err = %v", err)
			}
		}},
		{"connection reset", connReset, func(t *testing.T, err error) {
			if !strings.Contains(err.Error(), "GET /sites/subdomain-x/accounts?limit=200&order=asc&sort=updated_at: giving up after 3 attempts") {
				t.Fatalf("err = %v", err)
			}
		}},
		{"cut-off body", cutJSON, func(t *testing.T, err error) {
			if !strings.Contains(err.Error(), "giving up after 3 attempts: response body cut off or not valid JSON") {
				t.Fatalf("err = %v", err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newScripted(t, tt.s)
			c := newTestClient(t, srv.URL)
			_, _, err := c.ListPage(context.Background(), "accounts", ListParams{})
			if err == nil {
				t.Fatal("no error")
			}
			tt.check(t, err)
			if n := len(srv.requests()); n != 3 {
				t.Errorf("server saw %d requests, want 3 (1 + 2 retries)", n)
			}
			if st := c.Stats(); st.Requests != 3 || st.Retries != 2 {
				t.Errorf("stats = %+v", st)
			}
			if strings.Contains(err.Error(), testKey) || strings.Contains(err.Error(), "127.0.0.1") {
				t.Errorf("error names the key or host: %v", err)
			}
		})
	}
}

func TestServerDownGivesUp(t *testing.T) {
	srv := newScripted(t, respond(200, page(false, "")))
	url := srv.URL
	srv.Close() // nothing listens there any more
	c := newTestClient(t, url, WithRetries(3, time.Millisecond, 5*time.Millisecond))
	_, _, err := c.ListPage(context.Background(), "accounts", ListParams{})
	if err == nil || !strings.Contains(err.Error(), "giving up after 4 attempts") || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("err = %v", err)
	}
}

func TestTypedErrorsNotRetried(t *testing.T) {
	tests := []struct {
		status int
		typ    string
		is     error
		want   string
	}{
		{400, "bad_request", ErrBadRequest, "400 bad request"},
		{401, "unauthorized", ErrUnauthorized, "the API key was rejected (401 unauthorized)"},
		{403, "invalid_permissions", ErrForbidden, "the API key lacks permission for /sites/subdomain-x/accounts"},
		{404, "not_found", ErrNotFound, "no site named subdomain-x"},
		{406, "invalid_api_version", ErrNotAcceptable, "API version"},
		{422, "validation", ErrUnprocessable, "422"},
	}
	for _, tt := range tests {
		t.Run(http.StatusText(tt.status), func(t *testing.T) {
			t.Parallel()
			srv := newScripted(t, respond(tt.status, errBody(tt.typ, "recurly says no")))
			c := newTestClient(t, srv.URL)
			_, resp, err := c.ListPage(context.Background(), "accounts", ListParams{})
			var e *ErrorResponse
			if !errors.As(err, &e) || e.StatusCode != tt.status || e.Type != tt.typ || e.Message != "recurly says no" ||
				len(e.Params) != 1 || e.Params[0].Param != "x" || !errors.Is(err, tt.is) {
				t.Fatalf("err = %#v", err)
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "recurly says no") {
				t.Errorf("message %q lacks %q", err.Error(), tt.want)
			}
			if resp == nil || resp.StatusCode != tt.status {
				t.Errorf("response = %v", resp)
			}
			if n := len(srv.requests()); n != 1 {
				t.Errorf("server saw %d requests; %d must not be retried", n, tt.status)
			}
		})
	}
}

func TestGet(t *testing.T) {
	srv := newScripted(t,
		respond(200, `{"id":"b1","obj`),
		respond(200, ` {"id":"b1","object":"billing_info"}`+"\n"),
		respond(404, errBody("not_found", "Account has no billing information")))
	c := newTestClient(t, srv.URL)
	raw, _, err := c.Get(context.Background(), "accounts/code-a%2Fb/billing_info")
	if err != nil || string(raw) != `{"id":"b1","object":"billing_info"}` {
		t.Fatalf("Get = %s, %v", raw, err)
	}
	if r := srv.requests()[1]; r.URL.EscapedPath() != "/sites/subdomain-x/accounts/code-a%2Fb/billing_info" || r.URL.RawQuery != "" {
		t.Errorf("request = %s", r.URL)
	}
	_, _, err = c.Get(context.Background(), "accounts/zzz/billing_info")
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "resource /sites/subdomain-x/accounts/zzz/billing_info not found") {
		t.Fatalf("Get missing = %v", err)
	}
	if _, _, err := c.Get(context.Background(), "/abs"); err == nil {
		t.Fatal("Get accepted a non-relative path")
	}
}

func TestListFollowsNext(t *testing.T) {
	var srv *scripted
	srv = newScripted(t,
		respond(200, page(true, "/sites/subdomain-x/accounts?cursor=1&limit=2", "a", "b")),
		respond(200, page(true, "/sites/subdomain-x/accounts?cursor=2&limit=2")), // empty page, more to come
		func(w http.ResponseWriter, r *http.Request) { // absolute link on the same host
			respond(200, page(true, srv.URL+"/sites/subdomain-x/accounts?cursor=3&limit=2", "c"))(w, r)
		},
		respond(200, page(false, "", "d")))
	c := newTestClient(t, srv.URL)
	var ids []string
	for p, err := range c.List(context.Background(), "accounts", ListParams{Limit: 2}) {
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range p.Records {
			ids = append(ids, string(r[7:8]))
		}
	}
	if !slices.Equal(ids, []string{"a", "b", "c", "d"}) {
		t.Fatalf("ids = %v", ids)
	}
	var queries []string
	for _, r := range srv.requests() {
		queries = append(queries, r.URL.RawQuery)
	}
	want := []string{"limit=2&order=asc&sort=updated_at", "cursor=1&limit=2", "cursor=2&limit=2", "cursor=3&limit=2"}
	if !slices.Equal(queries, want) {
		t.Fatalf("queries = %q, want %q", queries, want)
	}
}

func TestListRefusesBadNext(t *testing.T) {
	tests := []struct {
		name, next, want string
	}{
		{"other host", "http://evil.example/sites/subdomain-x/accounts?cursor=1", "refusing to follow a next link to http://evil.example"},
		{"has_more without next", "", "has_more but gives no next link"},
		{"repeated next", "/sites/subdomain-x/accounts?limit=200&order=asc&sort=updated_at", "the next link repeats a link already followed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newScripted(t, respond(200, page(true, tt.next, "a")))
			c := newTestClient(t, srv.URL)
			path := "accounts"
			var pages int
			var lastErr error
			for p, err := range c.List(context.Background(), path, ListParams{}) {
				if err != nil {
					lastErr = err
					continue
				}
				pages++
				_ = p
			}
			if lastErr == nil || !strings.Contains(lastErr.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", lastErr, tt.want)
			}
			if pages != 1 || len(srv.requests()) != 1 {
				t.Fatalf("pages %d, requests %d; want 1 and 1", pages, len(srv.requests()))
			}
		})
	}
}

func TestListStopsOnBreak(t *testing.T) {
	srv := newScripted(t, respond(200, page(true, "/sites/subdomain-x/accounts?cursor=1", "a")),
		respond(200, page(true, "/sites/subdomain-x/accounts?cursor=2", "b")))
	c := newTestClient(t, srv.URL)
	for _, err := range c.List(context.Background(), "accounts", ListParams{}) {
		if err != nil {
			t.Fatal(err)
		}
		break
	}
	if n := len(srv.requests()); n != 1 {
		t.Fatalf("requests after break = %d", n)
	}
}

func TestContextCancel(t *testing.T) {
	t.Run("during backoff", func(t *testing.T) {
		srv := newScripted(t, respond(503, ""))
		c := newTestClient(t, srv.URL, WithRetries(5, 10*time.Second, 10*time.Second))
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(100*time.Millisecond, cancel)
		_, _, err := c.ListPage(ctx, "accounts", ListParams{})
		if !errors.Is(err, context.Canceled) || !strings.HasPrefix(err.Error(), "GET /sites/subdomain-x/accounts?") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("during request", func(t *testing.T) {
		srv := newScripted(t, slow(10*time.Second, respond(200, page(false, ""))))
		c := newTestClient(t, srv.URL)
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		_, _, err := c.ListPage(ctx, "accounts", ListParams{})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v", err)
		}
		if n := len(srv.requests()); n != 1 {
			t.Fatalf("requests = %d; a canceled call must not retry", n)
		}
	})
}

func TestDebugLogNeverShowsKey(t *testing.T) {
	srv := newScripted(t, respond(401, errBody("unauthorized", "bad key")))
	var logs logBuffer
	c := newTestClient(t, srv.URL, WithLogger(logs.logger()))
	_, _, err := c.ListPage(context.Background(), "accounts", ListParams{Limit: 7})
	if err == nil {
		t.Fatal("no error")
	}
	lines := logs.lines(`msg=request`)
	if len(lines) != 1 {
		t.Fatalf("debug lines = %q", logs.String())
	}
	for _, s := range []string{"level=DEBUG", "method=GET", "path=\"/sites/subdomain-x/accounts?limit=7&order=asc&sort=updated_at\"", "status=401", "duration="} {
		if !strings.Contains(lines[0], s) {
			t.Errorf("debug line %q lacks %q", lines[0], s)
		}
	}
	b64 := base64.StdEncoding.EncodeToString([]byte(testKey + ":"))
	for _, s := range []string{logs.String(), err.Error()} {
		if strings.Contains(s, testKey) || strings.Contains(s, b64) {
			t.Errorf("key leaked: %q", s)
		}
	}
}

func TestNoRedirectFollowed(t *testing.T) {
	other := newScripted(t, respond(200, page(false, "")))
	srv := newScripted(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/steal", http.StatusFound)
	})
	c := newTestClient(t, srv.URL)
	_, _, err := c.ListPage(context.Background(), "accounts", ListParams{})
	var e *ErrorResponse
	if !errors.As(err, &e) || e.StatusCode != http.StatusFound {
		t.Fatalf("err = %v", err)
	}
	if n := len(other.requests()); n != 0 {
		t.Fatalf("redirect followed to another host (%d requests)", n)
	}
}

// TestCount: HEAD with the list's query, the count read from
// Recurly-Total-Records; a missing or bad header is ErrNoCount; a 503 is
// retried and a 401 is the typed error, as for pages.
func TestCount(t *testing.T) {
	begin := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	tests := []struct {
		name     string
		steps    []step
		want     int
		wantErr  error
		requests int
	}{
		{"count", []step{respond(200, "", "Recurly-Total-Records", "1234")}, 1234, nil, 1},
		{"zero", []step{respond(200, "", "Recurly-Total-Records", "0")}, 0, nil, 1},
		{"no header", []step{respond(200, "")}, 0, ErrNoCount, 1},
		{"bad header", []step{respond(200, "", "Recurly-Total-Records", "many")}, 0, ErrNoCount, 1},
		{"negative", []step{respond(200, "", "Recurly-Total-Records", "-1")}, 0, ErrNoCount, 1},
		{"503 then count", []step{respond(503, ""), respond(200, "", "Recurly-Total-Records", "7")}, 7, nil, 2},
		{"401", []step{respond(401, "")}, 0, ErrUnauthorized, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newScripted(t, tt.steps...)
			c := newTestClient(t, srv.URL)
			n, _, err := c.Count(context.Background(), "accounts", ListParams{BeginTime: begin})
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if n != tt.want {
				t.Errorf("n = %d, want %d", n, tt.want)
			}
			reqs := srv.requests()
			if len(reqs) != tt.requests {
				t.Fatalf("%d requests, want %d", len(reqs), tt.requests)
			}
			r := reqs[0]
			if r.Method != http.MethodHead || r.URL.Path != "/sites/subdomain-x/accounts" ||
				r.URL.Query().Get("begin_time") != "2024-05-06T07:08:09Z" || r.URL.Query().Get("sort") != "updated_at" {
				t.Errorf("request = %s %s", r.Method, r.URL)
			}
		})
	}
	if _, _, err := newTestClient(t, "http://127.0.0.1:1").Count(context.Background(), "/sites/x/accounts?cursor=a", ListParams{}); err == nil {
		t.Error("Count accepted a next link")
	}
}
