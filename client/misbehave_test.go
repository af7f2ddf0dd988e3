package client

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"
)

// These tests hold the client against servers that misbehave consistently: each asserts the error, the
// number of requests spent and that no form of the key leaks.

// leakKey's base64 form contains '/', so their JSON-escaped forms differ from the raw ones.
const leakKey = "key?>?~5ecret"

// keyForms are the ways a server may echo leakKey back, raw and escaped.
func keyForms(t *testing.T) map[string]string {
	t.Helper()
	b64 := base64.StdEncoding.EncodeToString([]byte(leakKey + ":"))
	if !strings.Contains(b64, "/") {
		t.Fatalf("the test key's base64 %s has no '/'", b64)
	}
	var u strings.Builder
	for _, r := range leakKey {
		fmt.Fprintf(&u, `\u%04x`, r)
	}
	return map[string]string{
		"raw":            leakKey,
		"basic":          "Basic " + b64,
		"base64":         b64,
		"base64 \\/":     strings.ReplaceAll(b64, "/", `\/`),
		"raw \\uXXXX":    u.String(),
		"base64 \\u002F": strings.ReplaceAll(b64, "/", `\u002F`),
		"url-encoded":    strings.ReplaceAll(leakKey, "?", "%3F"),
	}
}

// leaks reports whether s shows the key or its base64 credential in any form a reader could recover.
func leaks(s string) bool {
	b64 := base64.StdEncoding.EncodeToString([]byte(leakKey + ":"))
	for _, f := range []string{leakKey, b64, strings.ReplaceAll(b64, "/", `\/`), "5ecret"} {
		if strings.Contains(s, f) {
			return true
		}
	}
	return false
}

func newLeakClient(t *testing.T, base string, opts ...Option) *Client {
	t.Helper()
	all := append([]Option{WithBaseURL(base), WithRetries(2, time.Millisecond, 5*time.Millisecond)}, opts...)
	c, err := New(leakKey, "subdomain-x", all...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestKeyBlankedInEveryForm(t *testing.T) {
	for name, form := range keyForms(t) {
		bodies := map[string]string{
			"envelope message": fmt.Sprintf(`{"error":{"type":"unauthorized","message":"bad credentials: %s","params":[{"param":"%s","message":"%s"}]}}`, form, form, form),
			"plain body":       "proxy says: credentials " + form + " refused",
		}
		for kind, body := range bodies {
			t.Run(name+"/"+kind, func(t *testing.T) {
				srv := newScripted(t, respond(401, body, "X-Request-Id", "req-"+form))
				var logs logBuffer
				c := newLeakClient(t, srv.URL, WithLogger(logs.logger()))
				_, _, err := c.ListPage(context.Background(), "accounts", ListParams{})
				if !errors.Is(err, ErrUnauthorized) {
					t.Fatalf("err = %v", err)
				}
				if leaks(err.Error()) || leaks(logs.String()) {
					t.Fatalf("the key leaks: %v\n%s", err, logs.String())
				}
				if !strings.Contains(err.Error(), redacted) {
					t.Errorf("err = %v, want the key shown as %s", err, redacted)
				}
				if n := len(srv.requests()); n != 1 {
					t.Errorf("requests = %d, want 1", n)
				}
			})
		}
	}
}

func TestRequestIDNamed(t *testing.T) {
	srv := newScripted(t, respond(404, errBody("not_found", "no such account"), "X-Request-Id", "5057fbd20933cce2-EWR"))
	c := newTestClient(t, srv.URL)
	_, _, err := c.Get(context.Background(), "accounts/x")
	var e *ErrorResponse
	if !errors.As(err, &e) || e.RequestID != "5057fbd20933cce2-EWR" || !strings.Contains(err.Error(), "X-Request-Id 5057fbd20933cce2-EWR") {
		t.Fatalf("err = %v", err)
	}
}

// TestRetryAfterTooLongNotRetried: a Retry-After over MaxRetryAfter stops the call at once, also one too
// large for an int64 of seconds (it was taken as absent, and retried after 30 s).
func TestRetryAfterTooLongNotRetried(t *testing.T) {
	forever := time.Duration(1<<62) / time.Second * time.Second
	for _, tt := range []struct {
		status int
		after  string
		wait   time.Duration
	}{{429, "3600", time.Hour}, {503, "3600", time.Hour}, {429, "99999999999999999999", forever}, {503, "99999999999999999999", forever}} {
		t.Run(fmt.Sprint(tt.status, " ", tt.after), func(t *testing.T) {
			status := tt.status
			srv := newScripted(t, respond(status, errBody("rate_limited", "slow down"), "Retry-After", tt.after, "X-Request-Id", "rid-1"))
			c := newTestClient(t, srv.URL, WithRetries(8, time.Millisecond, 30*time.Second))
			start := time.Now()
			_, _, err := c.ListPage(context.Background(), "accounts", ListParams{})
			var rl *RetryLaterError
			if !errors.As(err, &rl) || !errors.Is(err, ErrRetryLater) || rl.Wait != tt.wait {
				t.Fatalf("err = %v", err)
			}
			if status == 429 && !errors.Is(err, ErrRateLimited) {
				t.Errorf("a 429 does not match ErrRateLimited: %v", err)
			}
			if rl.Until.Before(start.Add(tt.wait-time.Second)) ||
				!strings.Contains(err.Error(), "run it again after "+rl.Until.UTC().Format(time.RFC3339)) ||
				!strings.Contains(err.Error(), "X-Request-Id rid-1") {
				t.Errorf("err = %v (until %s)", err, rl.Until)
			}
			if n := len(srv.requests()); n != 1 {
				t.Errorf("requests = %d, want 1 (no retry against Retry-After)", n)
			}
		})
	}
}

func TestContractErrorsFailAtOnce(t *testing.T) {
	tests := []struct {
		name, body, ctype string
		want              []string
	}{
		{"not a list", `{"id":"x","object":"account","note":"` + leakKey + `"}`, "application/json",
			[]string{"valid JSON that is not what this endpoint returns", "no data array", `Content-Type "application/json"`, `{\"id\":\"x\"`}},
		{"data not an array", `{"object":"list","has_more":false,"data":{"id":"x"}}`, "application/json; charset=utf-8",
			[]string{"data is an object, not an array"}},
		{"a record not an object", `{"object":"list","data":[1]}`, "application/json", []string{"data[0] is not a JSON object"}},
		{"an array", `[{"id":"x"}]`, "application/json", []string{"valid JSON"}},
		{"html", "<!DOCTYPE html><html><body>Sign in " + leakKey + "</body></html>", "text/html",
			[]string{"HTML page", "proxy or a login page", `Content-Type "text/html"`, "<!DOCTYPE html>"}},
		{"html labelled json", "\n <html>login</html>", "application/json", []string{"HTML page"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newScripted(t, func(w http.ResponseWriter, r *http.Request) {
				rateHeaders(w.Header())
				w.Header().Set("Content-Type", tt.ctype)
				fmt.Fprint(w, tt.body)
			})
			c := newLeakClient(t, srv.URL, WithRetries(8, time.Millisecond, 5*time.Millisecond))
			_, _, err := c.ListPage(context.Background(), "accounts", ListParams{})
			var ce *ContractError
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v, want a *ContractError", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("err = %v, want it to contain %q", err, w)
				}
			}
			if leaks(err.Error()) {
				t.Errorf("the key leaks: %v", err)
			}
			if n := len(srv.requests()); n != 1 {
				t.Errorf("requests = %d, want 1 (no retry)", n)
			}
		})
	}
}

func TestListStopsCursorLoops(t *testing.T) {
	const a, b = "/sites/subdomain-x/accounts?cursor=a", "/sites/subdomain-x/accounts?cursor=b"
	tests := []struct {
		name     string
		steps    []step
		requests int
		want     string
	}{
		{"next repeats an earlier link", []step{respond(200, page(true, a, "1")), respond(200, page(true, b, "2")),
			respond(200, page(true, a, "3"))}, 3, "GET /sites/subdomain-x/accounts?cursor=a: the API's paging loops: the next link repeats"},
		{"next repeats the first request", []step{respond(200, page(true, "/sites/subdomain-x/accounts?limit=200&order=asc&sort=updated_at", "1"))},
			1, "repeats a link already followed"},
		{"empty pages with has_more", []step{respond(200, page(true, a+"1")), respond(200, page(true, a+"2")),
			respond(200, page(true, a+"3")), respond(200, page(true, a+"4")), respond(200, page(true, a+"5"))},
			4, "4 pages in a row said has_more and brought nothing new (no records, or only ids already seen, and no advance in updated_at)"},
		{"a fresh cursor with the same records every page", []step{freshCursor(func(int) []string { return []string{"1", "2"} })},
			5, "4 pages in a row said has_more and brought nothing new"},
		{"empty pages between one repeated record", []step{freshCursor(func(n int) []string {
			if n%2 == 1 {
				return nil
			}
			return []string{"1"}
		})}, 5, "4 pages in a row said has_more and brought nothing new"},
		{"the same records, their updated_at not advancing", []step{freshCursor(func(n int) []string {
			return []string{"2@2024-01-01T00:00:00Z", "1@2024-01-0" + strconv.Itoa(1+min(n, 2)) + "T00:00:00Z"}
		})}, 7, "4 pages in a row said has_more and brought nothing new"},
		{"a key in the link is redacted", []step{respond(200, page(true, a+"&api_key="+leakKey, "1")), respond(200, page(true, a+"&api_key="+leakKey, "2"))},
			2, "cursor=a&api_key=[redacted]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newScripted(t, tt.steps...)
			var logs logBuffer
			c := newLeakClient(t, srv.URL, WithLogger(logs.logger()))
			var lastErr error
			pages := 0
			for _, err := range c.List(context.Background(), "accounts", ListParams{}) {
				if err != nil {
					lastErr = err
					break
				}
				pages++
			}
			if !errors.Is(lastErr, ErrCursorLoop) || !strings.Contains(lastErr.Error(), tt.want) {
				t.Fatalf("err = %v, want ErrCursorLoop containing %q", lastErr, tt.want)
			}
			if n := len(srv.requests()); n != tt.requests || pages != tt.requests {
				t.Errorf("requests = %d, pages = %d; want %d", n, pages, tt.requests)
			}
			if leaks(lastErr.Error()) || leaks(logs.String()) {
				t.Errorf("the key leaks: %v\n%s", lastErr, logs.String())
			}
		})
	}
}

func TestInvalidUTF8Repaired(t *testing.T) {
	body := "{\"object\":\"list\",\"has_more\":false,\"next\":null,\"data\":[{\"id\":\"a\"},{\"id\":\"b\",\"name\":\"x\xff\xfey\"},{\"id\":\"c\"}]}"
	srv := newScripted(t, respond(200, body))
	c := newTestClient(t, srv.URL)
	p, _, err := c.ListPage(context.Background(), "accounts", ListParams{Fields: []string{"id", "name"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Records) != 3 || len(p.Repaired) != 1 || p.Repaired[0] != 1 {
		t.Fatalf("records %d, repaired %v", len(p.Records), p.Repaired)
	}
	for i, r := range p.Records {
		if !utf8.Valid(r) {
			t.Errorf("record %d is not valid UTF-8: %q", i, r)
		}
	}
	if want := "\"x\uFFFDy\""; string(p.Fields[1*2+1]) != want || string(p.Fields[1*2]) != `"b"` {
		t.Errorf("fields of the repaired record = %q, %q; want %q", p.Fields[2], p.Fields[3], want)
	}
	if n := len(srv.requests()); n != 1 {
		t.Errorf("requests = %d, want 1", n)
	}
}

// zeros reads n zero bytes, or forever when n < 0.
type zeros struct{ n int64 }

func (z *zeros) Read(p []byte) (int, error) {
	if z.n == 0 {
		return 0, io.EOF
	}
	if z.n > 0 && int64(len(p)) > z.n {
		p = p[:z.n]
	}
	clear(p)
	if z.n > 0 {
		z.n -= int64(len(p))
	}
	return len(p), nil
}

func TestBodyCapRefusedWhileReading(t *testing.T) {
	var bomb bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&bomb, gzip.BestCompression)
	if _, err := io.Copy(zw, &zeros{n: MaxBodyBytes + 16<<20}); err != nil {
		t.Fatal(err)
	}
	zw.Close()
	tests := []struct {
		name string
		s    step
	}{
		{"gzip bomb (no Content-Length)", func(w http.ResponseWriter, r *http.Request) {
			rateHeaders(w.Header())
			w.Header().Set("Content-Encoding", "gzip")
			w.Header().Set("Content-Type", "application/json")
			w.Write(bomb.Bytes())
		}},
		{"chunked, endless", func(w http.ResponseWriter, r *http.Request) {
			rateHeaders(w.Header())
			w.WriteHeader(200)
			io.Copy(w, &zeros{n: 300 << 20}) // stops when the client hangs up
		}},
		{"Content-Length over the cap", func(w http.ResponseWriter, r *http.Request) {
			rateHeaders(w.Header())
			w.Header().Set("Content-Length", fmt.Sprint(300<<20))
			w.WriteHeader(200)
			io.Copy(w, &zeros{n: 300 << 20})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newScripted(t, tt.s)
			c := newTestClient(t, srv.URL)
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, _, err := c.ListPage(context.Background(), "accounts", ListParams{})
			runtime.ReadMemStats(&after)
			if !errors.Is(err, errBodyTooLarge) || !strings.Contains(err.Error(), "exceeds 32 MiB") {
				t.Fatalf("err = %v", err)
			}
			if n := len(srv.requests()); n != 1 {
				t.Errorf("requests = %d, want 1 (not retried)", n)
			}
			// Everything the call allocated, garbage included: the body buffer never grows past the cap.
			if got := after.TotalAlloc - before.TotalAlloc; got > MaxBodyBytes+16<<20 {
				t.Errorf("the call allocated %d MiB for a cap of %d MiB", got>>20, MaxBodyBytes>>20)
			}
		})
	}
}

func TestReadAllSizedNeverPastLimit(t *testing.T) {
	for _, size := range []int64{-1, 0, 100, 1 << 20} {
		got, err := readAllSized(&zeros{n: 3000}, size, 3000, nil)
		if err != nil || len(got) != 3000 || cap(got) > 3001 {
			t.Errorf("size %d: %d bytes (cap %d), %v", size, len(got), cap(got), err)
		}
		if _, err := readAllSized(&zeros{n: 3001}, size, 3000, nil); !errors.Is(err, errBodyTooLarge) {
			t.Errorf("size %d: over the limit: %v", size, err)
		}
	}
}

func TestCountWithoutHEADIsErrNoCount(t *testing.T) {
	for _, status := range []int{405, 501} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			srv := newScripted(t, respond(status, ""))
			c := newTestClient(t, srv.URL)
			_, _, err := c.Count(context.Background(), "accounts", ListParams{})
			if !errors.Is(err, ErrNoCount) {
				t.Fatalf("err = %v, want ErrNoCount", err)
			}
			if n := len(srv.requests()); n != 1 {
				t.Errorf("requests = %d, want 1", n)
			}
		})
	}
}

func TestDeprecationWarnedOnce(t *testing.T) {
	dep := respond(200, page(false, "", "a"), "Recurly-Deprecated", "TRUE", "Recurly-Sunset-Date", "2027-03-01T00:00:00Z",
		"Recurly-Version", "recurly.v2018-08-09")
	srv := newScripted(t, respond(200, page(false, "", "a")), dep, dep)
	var logs logBuffer
	c := newTestClient(t, srv.URL, WithLogger(logs.logger()))
	for i := range 3 {
		if _, ok := c.Deprecation(); ok != (i >= 2) {
			t.Fatalf("before call %d: Deprecation ok = %v", i+1, ok)
		}
		if _, _, err := c.ListPage(context.Background(), "accounts", ListParams{}); err != nil {
			t.Fatal(err)
		}
	}
	d, ok := c.Deprecation()
	if !ok || d.Version != "v2018-08-09" || d.SunsetDate != "2027-03-01T00:00:00Z" {
		t.Fatalf("Deprecation = %+v, %v", d, ok)
	}
	warns := logs.lines("level=WARN")
	if len(warns) != 1 || !strings.Contains(warns[0], "v2018-08-09") || !strings.Contains(warns[0], "2027-03-01") {
		t.Fatalf("warn lines = %q", warns)
	}
}

func TestBadNextLinkRedacted(t *testing.T) {
	for _, next := range []string{"relative?api_key=" + leakKey, "/ok%zz?token=" + leakKey, "http://" + leakKey + "@evil.example/x"} {
		srv := newScripted(t, respond(200, page(true, next, "a")))
		c := newLeakClient(t, srv.URL)
		var lastErr error
		for _, err := range c.List(context.Background(), "accounts", ListParams{}) {
			lastErr = err
		}
		if lastErr == nil || !strings.Contains(lastErr.Error(), "next link") || leaks(lastErr.Error()) {
			t.Errorf("next %q: err = %v", next, lastErr)
		}
	}
}

// freshCursor answers every request with has_more, a next link never used before, and the records
// recs(n) gives for the n-th request (from 0): "id" or "id@updated_at".
func freshCursor(recs func(n int) []string) step {
	var n atomic.Int64
	return func(w http.ResponseWriter, r *http.Request) {
		k := int(n.Add(1)) - 1
		var out []string
		for _, rec := range recs(k) {
			id, at, ok := strings.Cut(rec, "@")
			if ok {
				out = append(out, fmt.Sprintf(`{"id":%q,"object":"account","updated_at":%q}`, id, at))
			} else {
				out = append(out, fmt.Sprintf(`{"id":%q,"object":"account"}`, id))
			}
		}
		body := fmt.Sprintf(`{"object":"list","has_more":true,"next":"/sites/subdomain-x/accounts?cursor=c%d","data":[%s]}`, k, strings.Join(out, ","))
		respond(200, body)(w, r)
	}
}

// TestListProgressHonest checks that what an honest site sends is never taken for a loop: pages of new
// ids that all share one updated_at (a bulk import), the same id again with a later updated_at (a record
// changed during the read), and a listing whose records carry no sort field, each for many pages.
func TestListProgressHonest(t *testing.T) {
	const pages = 3 * MaxStalePages
	tests := []struct {
		name string
		recs func(n int) []string
		p    ListParams
	}{
		{"new ids at one updated_at", func(n int) []string { return []string{fmt.Sprintf("a%d@2024-01-01T00:00:00Z", n)} }, ListParams{}},
		{"one id, later each page", func(n int) []string { return []string{fmt.Sprintf("a@2024-01-01T00:00:%02dZ", n)} }, ListParams{}},
		{"one id, earlier each page, descending", func(n int) []string { return []string{fmt.Sprintf("a@2024-01-01T00:00:%02dZ", 59-n)} }, ListParams{Order: "desc"}},
		{"no sort field, new ids", func(n int) []string { return []string{fmt.Sprintf("a%d", n)} }, ListParams{Fields: []string{"id"}}},
		{"unpaged, new ids", func(n int) []string { return []string{fmt.Sprintf("a%d@2024-01-01T00:00:00Z", n)} }, ListParams{Unpaged: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newScripted(t, freshCursor(tt.recs))
			c := newTestClient(t, srv.URL)
			n := 0
			for _, err := range c.List(context.Background(), "accounts", tt.p) {
				if err != nil {
					t.Fatalf("page %d: %v", n, err)
				}
				if n++; n == pages {
					break
				}
			}
			if n != pages || len(srv.requests()) != pages {
				t.Fatalf("%d pages, %d requests; want %d", n, len(srv.requests()), pages)
			}
		})
	}
}
