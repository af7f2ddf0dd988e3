package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// TestErrorBodyKeptWhenLong: an error answer's body over maxErrorBody is shown by its first part, with the
// key blanked and "(truncated)" said, and one cut off while read says so, rather than a message built from
// nothing.
func TestErrorBodyKeptWhenLong(t *testing.T) {
	long := strings.Repeat("x", maxErrorBody+6<<10)
	tests := []struct {
		name   string
		status int
		step   step
		want   []string
	}{
		{"long envelope", 400, respond(400, `{"error":{"type":"bad_request","message":"key `+testKey+` `+long+`"}}`),
			[]string{`{"error":{"type":"bad_request","message":"key [redacted] xxx`, "(truncated)"}},
		{"long text, 500", 500, respond(500, "upstream "+testKey+" failed "+long),
			[]string{"server error (500 internal server error) after 3 attempts: upstream [redacted] failed xxx", "(truncated)"}},
		{"short envelope", 400, respond(400, errBody("bad_request", "no such sort")), []string{"bad_request: no such sort [x: bad]"}},
		{"cut off", 400, cutOffError(400, `{"error":{"type":"bad_request","message":"half`),
			[]string{`{"error":{"type":"bad_request","message":"half (the body was cut off: unexpected EOF)`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newScripted(t, tt.step)
			c := newTestClient(t, srv.URL)
			_, _, err := c.ListPage(context.Background(), "accounts", ListParams{})
			var e *ErrorResponse
			if !errors.As(err, &e) || e.StatusCode != tt.status {
				t.Fatalf("err = %v, want a %d", err, tt.status)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("err = %.300s\nwant it to contain %q", err, w)
				}
			}
			if strings.Contains(err.Error(), testKey) || len(err.Error()) > 1000 {
				t.Errorf("err shows the key or the whole body (%d bytes)", len(err.Error()))
			}
			if tt.name == "short envelope" && strings.Contains(err.Error(), "truncated") {
				t.Errorf("err = %v says truncated", err)
			}
		})
	}
}

// cutOffError answers status with a Content-Length longer than the body it sends, then closes.
func cutOffError(status int, body string) step {
	return func(w http.ResponseWriter, r *http.Request) {
		conn, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		h := http.Header{}
		rateHeaders(h)
		fmt.Fprintf(buf, "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n", status, http.StatusText(status), len(body)+100)
		h.Write(buf)
		fmt.Fprint(buf, "\r\n", body)
		buf.Flush()
	}
}
