package client

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tap-recurly/tap-recurly/internal/testutil"
)

const testKey = "sk-test-5ecret"

// step answers one request of a scripted server.
type step func(w http.ResponseWriter, r *http.Request)

// scripted is an httptest server answering request i with steps[i] (the last step repeats), recording
// every request it receives.
type scripted struct {
	*httptest.Server
	steps []step
	n     atomic.Int64
	mu    sync.Mutex
	reqs  []*http.Request
}

func newScripted(t *testing.T, steps ...step) *scripted {
	t.Helper()
	s := &scripted{steps: steps}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := int(s.n.Add(1)) - 1
		s.mu.Lock()
		s.reqs = append(s.reqs, r.Clone(context.Background()))
		s.mu.Unlock()
		if i >= len(s.steps) {
			i = len(s.steps) - 1
		}
		s.steps[i](w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *scripted) requests() []*http.Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*http.Request(nil), s.reqs...)
}

// rateHeaders are generous rate-limit headers, so quota pacing does not slow scripted tests down.
func rateHeaders(h http.Header) {
	h.Set("X-RateLimit-Limit", "100000")
	h.Set("X-RateLimit-Remaining", "99000")
	h.Set("X-RateLimit-Reset", strconv.FormatInt(time.Now().Add(time.Minute).Unix(), 10))
}

// respond writes status and body as JSON with rate headers plus the extra header pairs.
func respond(status int, body string, kv ...string) step {
	return func(w http.ResponseWriter, r *http.Request) {
		rateHeaders(w.Header())
		for i := 0; i+1 < len(kv); i += 2 {
			w.Header().Set(kv[i], kv[i+1])
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(status)
		fmt.Fprint(w, body)
	}
}

func page(hasMore bool, next string, ids ...string) string {
	var recs []string
	for _, id := range ids {
		recs = append(recs, fmt.Sprintf(`{"id":%q,"object":"account"}`, id))
	}
	n := "null"
	if next != "" {
		n = strconv.Quote(next)
	}
	return fmt.Sprintf(`{"object":"list","has_more":%v,"next":%s,"data":[%s]}`, hasMore, n, strings.Join(recs, ","))
}

func errBody(typ, msg string) string {
	return fmt.Sprintf(`{"error":{"type":%q,"message":%q,"params":[{"param":"x","message":"bad"}]}}`, typ, msg)
}

// connReset closes the connection without answering.
func connReset(w http.ResponseWriter, r *http.Request) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err == nil {
		conn.Close()
	}
}

// truncated answers 200 with a Content-Length longer than the body it sends, then closes the connection.
func truncated(w http.ResponseWriter, r *http.Request) {
	body := page(false, "", "a", "b")
	conn, buf, err := w.(http.Hijacker).Hijack()
	if err != nil {
		return
	}
	defer conn.Close()
	h := http.Header{}
	rateHeaders(h)
	fmt.Fprintf(buf, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n", len(body))
	h.Write(buf)
	fmt.Fprint(buf, "\r\n", body[:len(body)/2])
	buf.Flush()
}

// cutJSON answers 200 with a complete HTTP body that is a cut-off JSON document.
func cutJSON(w http.ResponseWriter, r *http.Request) {
	body := page(false, "", "a", "b")
	respond(200, body[:len(body)-7])(w, r)
}

// slow answers after d, or when the client gives up.
func slow(d time.Duration, then step) step {
	return func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(d):
			then(w, r)
		case <-r.Context().Done():
		}
	}
}

// logBuffer is a concurrency-safe buffer for a slog text handler.
type logBuffer struct{ testutil.Buffer }

func (l *logBuffer) lines(substr string) []string { return l.Lines(substr) }

func (l *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// hookRecorder collects RequestInfo from WithRequestHook.
type hookRecorder struct {
	mu    sync.Mutex
	infos []RequestInfo
}

func (h *hookRecorder) hook(ri RequestInfo) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.infos = append(h.infos, ri)
}

func (h *hookRecorder) all() []RequestInfo {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]RequestInfo(nil), h.infos...)
}

// newTestClient returns a client for the scripted server with fast retries (2 retries unless overridden).
func newTestClient(t *testing.T, base string, opts ...Option) *Client {
	t.Helper()
	all := append([]Option{WithBaseURL(base), WithRetries(2, 5*time.Millisecond, 50*time.Millisecond)}, opts...)
	c, err := New(testKey, "subdomain-x", all...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
