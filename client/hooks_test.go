package client

import (
	"context"
	"net/http"
	"slices"
	"testing"
	"time"
)

// TestRetryHooksContract pins down what the client takes from go-retryablehttp, and fails if the library
// changed the order or number of its hook calls in a way the client's accounting would notice: every
// attempt is recorded once (by the transport, not by a hook), Backoff runs exactly once per retry (it
// counts and logs retries), the response handler runs once per answer that is not retried (it keeps the
// call's body), and the ErrorHandler is told the number of attempts (the "giving up after N" text).
func TestRetryHooksContract(t *testing.T) {
	tests := []struct {
		name     string
		steps    []step
		statuses []int    // per attempt, as recorded
		calls    []string // the hook calls, in order
		wantErr  bool
	}{
		{"faults then success", []step{connReset, respond(503, ""), cutJSON, respond(200, page(false, "", "a"))},
			[]int{0, 503, 200, 200},
			[]string{"check", "backoff", "check", "backoff", "check", "handler", "check", "backoff", "check", "handler", "check"}, false},
		{"gives up on 503", []step{respond(503, "")}, []int{503, 503, 503, 503, 503, 503},
			[]string{"check", "backoff", "check", "backoff", "check", "backoff", "check", "backoff", "check", "backoff", "check", "errorHandler 6"}, true},
		// The handler leaves an error body for checkResponse, so only the second check shows it ran.
		{"not retried", []step{respond(404, errBody("not_found", "no"))}, []int{404},
			[]string{"check", "check"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newScripted(t, tt.steps...)
			var rec hookRecorder
			c := newTestClient(t, srv.URL, WithRequestHook(rec.hook), WithRetries(5, time.Millisecond, 5*time.Millisecond))
			var calls []string
			check, backoff, giveUp := c.retry.CheckRetry, c.retry.Backoff, c.retry.ErrorHandler
			c.retry.CheckRetry = func(ctx context.Context, resp *http.Response, err error) (bool, error) {
				if resp != nil {
					if _, spent := resp.Body.(*spentBody); spent {
						calls = append(calls, "handler") // the response handler read the body before this check
					}
				}
				calls = append(calls, "check")
				return check(ctx, resp, err)
			}
			c.retry.Backoff = func(min, max time.Duration, n int, resp *http.Response) time.Duration {
				calls = append(calls, "backoff")
				return backoff(min, max, n, resp)
			}
			c.retry.ErrorHandler = func(resp *http.Response, err error, n int) (*http.Response, error) {
				calls = append(calls, "errorHandler "+string(rune('0'+n)))
				return giveUp(resp, err, n)
			}
			_, _, err := c.ListPage(context.Background(), "accounts", ListParams{})
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v", err)
			}
			var statuses []int
			for _, ri := range rec.all() {
				statuses = append(statuses, ri.Status)
			}
			if !slices.Equal(statuses, tt.statuses) || len(srv.requests()) != len(tt.statuses) {
				t.Errorf("recorded attempts %v for %d requests, want %v", statuses, len(srv.requests()), tt.statuses)
			}
			if st := c.Stats(); st.Requests != int64(len(tt.statuses)) || st.Retries != int64(countOf(calls, "backoff")) {
				t.Errorf("stats = %+v for calls %q", st, calls)
			}
			if !slices.Equal(calls, tt.calls) {
				t.Errorf("hook calls = %q\nwant %q", calls, tt.calls)
			}
		})
	}
}

func countOf(s []string, v string) (n int) {
	for _, x := range s {
		if x == v {
			n++
		}
	}
	return n
}
