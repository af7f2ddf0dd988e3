package client

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestRequestLineOnlyWhenLogged: an attempt's line (and so its redacted path) is written at Debug, not at
// Info; whichever the level, neither the log nor the hook's Path shows the key, which the link here
// carries in a query parameter and in the path.
func TestRequestLineOnlyWhenLogged(t *testing.T) {
	next := "/sites/subdomain-x/accounts?cursor=" + url.QueryEscape(leakKey) + "&api_key=" + url.QueryEscape(leakKey)
	for _, level := range []slog.Level{slog.LevelInfo, slog.LevelDebug} {
		t.Run(level.String(), func(t *testing.T) {
			srv := newScripted(t, respond(200, page(true, next, "a")), respond(200, page(false, "", "b")))
			var logs logBuffer
			var rec hookRecorder
			log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: level}))
			c := newLeakClient(t, srv.URL, WithLogger(log), WithRequestHook(rec.hook))
			for _, err := range c.List(context.Background(), "accounts", ListParams{}) {
				if err != nil {
					t.Fatal(err)
				}
			}
			lines := logs.lines("msg=request")
			if want := map[slog.Level]int{slog.LevelInfo: 0, slog.LevelDebug: 2}[level]; len(lines) != want {
				t.Fatalf("%d request lines at %s, want %d:\n%s", len(lines), level, want, logs.String())
			}
			infos := rec.all()
			if len(infos) != 2 || !strings.Contains(infos[1].Path(), "api_key=[redacted]") {
				t.Fatalf("hook paths: %+v", infos)
			}
			for _, ri := range infos {
				if leaks(ri.Path()) {
					t.Errorf("hook Path shows the key: %s", ri.Path())
				}
			}
			if leaks(logs.String()) {
				t.Errorf("the log shows the key:\n%s", logs.String())
			}
		})
	}
}

// TestNilContextRefused: a call with a nil Context fails at once, sending nothing, as net/http refuses one.
func TestNilContextRefused(t *testing.T) {
	srv := newScripted(t, respond(200, page(false, "", "a")))
	c := newTestClient(t, srv.URL)
	var ctx context.Context // nil
	_, _, errGet := c.Get(ctx, "accounts/a")
	_, _, errPage := c.ListPage(ctx, "accounts", ListParams{})
	_, _, errCount := c.Count(ctx, "accounts", ListParams{})
	for _, err := range []error{errGet, errPage, errCount} {
		if err == nil || !strings.Contains(err.Error(), "nil Context") {
			t.Errorf("err = %v, want a nil Context refused", err)
		}
	}
	if n := len(srv.requests()); n != 0 {
		t.Errorf("%d requests sent", n)
	}
}

// TestNoContentIsAContractError: a 204 to a list or a get is the wrong answer, not a cut-off body: it
// fails at once, one request, saying what came.
func TestNoContentIsAContractError(t *testing.T) {
	noContent := func(w http.ResponseWriter, r *http.Request) {
		rateHeaders(w.Header())
		w.WriteHeader(http.StatusNoContent)
	}
	for _, call := range []string{"list", "get"} {
		t.Run(call, func(t *testing.T) {
			srv := newScripted(t, noContent)
			c := newTestClient(t, srv.URL)
			var err error
			if call == "list" {
				_, _, err = c.ListPage(context.Background(), "accounts", ListParams{})
			} else {
				_, _, err = c.Get(context.Background(), "accounts/a1/billing_info")
			}
			var ce *ContractError
			if !errors.As(err, &ce) || !strings.Contains(err.Error(), "the API answered 204 No Content, where this endpoint answers with a JSON body") {
				t.Fatalf("err = %v, want a contract error for the 204", err)
			}
			if n := len(srv.requests()); n != 1 {
				t.Fatalf("%d requests, want 1 (not retried)", n)
			}
		})
	}
}
