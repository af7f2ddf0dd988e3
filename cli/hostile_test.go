package cli

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"
)

// A hostile API: every list of the site answers an empty page, except
// plans, which misbehaves as each case says. The tap runs in process
// against it with every stream selected (no catalog); each case asserts the
// exit code, the one error line, the requests spent on plans, the final
// STATE and that no form of the key reached any output.

// hostile is one misbehaving plans endpoint; n counts requests to it (from 1).
type hostile func(w http.ResponseWriter, r *http.Request, n int)

// hostileServer serves the site subdomain-hostile with plans (any path ending in /plans) answered by h.
func hostileServer(t *testing.T, h hostile, extra http.Header) (*httptest.Server, func() int) {
	t.Helper()
	var mu sync.Mutex
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Recurly's rate-limit headers, with plenty left, so the client
		// paces nothing.
		w.Header().Set("X-RateLimit-Limit", "2000")
		w.Header().Set("X-RateLimit-Remaining", "1999")
		w.Header().Set("X-RateLimit-Reset", fmt.Sprint(time.Now().Add(time.Minute).Unix()))
		for k, v := range extra {
			w.Header()[k] = v
		}
		if user, _, _ := r.BasicAuth(); user != testAPIKey {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if r.Method == http.MethodHead {
			// Every count says the listing is empty: a hint the tap must
			// not take for a verdict.
			w.Header().Set("Recurly-Total-Records", "0")
			return
		}
		if strings.HasSuffix(r.URL.Path, "/plans") { // another site's plans too, for a next link there
			mu.Lock()
			n++
			k := n
			mu.Unlock()
			h(w, r, k)
			return
		}
		listJSON(w, false, "", nil)
	}))
	t.Cleanup(srv.Close)
	return srv, func() int { mu.Lock(); defer mu.Unlock(); return n }
}

func listJSON(w http.ResponseWriter, hasMore bool, next string, records []string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	nx := "null"
	if next != "" {
		nx = fmt.Sprintf("%q", next)
	}
	fmt.Fprintf(w, `{"object":"list","has_more":%t,"next":%s,"data":[%s]}`, hasMore, nx, strings.Join(records, ","))
}

func plan(id, updated string) string {
	return fmt.Sprintf(`{"id":%q,"object":"plan","code":"p-%s","name":"Plan %s","state":"active","created_at":"2024-01-01T00:00:00Z","updated_at":%q}`, id, id, id, updated)
}

// escapedKeyForms are the API key and its Basic credential as a server may
// echo them inside JSON: raw, base64 with \/ escapes, and \u-escaped.
func escapedKeyForms() []string {
	b64 := base64.StdEncoding.EncodeToString([]byte(testAPIKey + ":"))
	var u strings.Builder
	for _, c := range testAPIKey {
		fmt.Fprintf(&u, `\u%04x`, c)
	}
	return []string{testAPIKey, strings.ReplaceAll(b64, "/", `\/`), u.String(), "Basic " + b64}
}

func TestHostileAPI(t *testing.T) {
	// The run's range is short (no time windows): every request to plans
	// is one step of one cursor chain.
	start := time.Now().UTC().AddDate(0, 0, -10).Format(time.RFC3339)
	day := time.Now().UTC().AddDate(0, 0, -5).Truncate(time.Second).Format(time.RFC3339)
	for _, tt := range []struct {
		name        string
		h           hostile
		code        int
		line        *regexp.Regexp // the one error line ("" for success)
		maxRequests int            // to plans
		warn        string         // a WARNING line that must appear once
		headers     http.Header    // sent on every answer
		longRange   bool           // start_date years back: the listing may be counted and split
		check       func(t *testing.T, out *output)
	}{
		{
			name: "next link repeats",
			h: func(w http.ResponseWriter, r *http.Request, n int) {
				listJSON(w, true, "/sites/subdomain-hostile/plans?cursor=same", []string{plan(fmt.Sprint(n), day)})
			},
			code: ExitFailure, maxRequests: 3,
			line: regexp.MustCompile(`^tap-recurly: plans: GET /sites/subdomain-hostile/plans\?cursor=same: the API's paging loops`),
		},
		{
			name: "has_more with empty pages forever",
			h: func(w http.ResponseWriter, r *http.Request, n int) {
				listJSON(w, true, fmt.Sprintf("/sites/subdomain-hostile/plans?cursor=c%d", n), nil)
			},
			code: ExitFailure, maxRequests: 6,
			line: regexp.MustCompile(`^tap-recurly: plans: .*paging loops`),
		},
		{
			name: "next link to another site's plans",
			h: func(w http.ResponseWriter, r *http.Request, n int) {
				if r.URL.Path != "/sites/subdomain-hostile/plans" { // the other site: a record not of this site, later
					listJSON(w, false, "", []string{plan("foreign", time.Now().UTC().AddDate(0, 0, -1).Format(time.RFC3339))})
					return
				}
				listJSON(w, true, "/sites/subdomain-other/plans?cursor=3", []string{plan("r0", day), plan("r1", day)})
			},
			code: ExitFailure, maxRequests: 1,
			line: regexp.MustCompile(`^tap-recurly: plans: GET /sites/subdomain-hostile/plans\?.*the API's next link leaves the listing: next link "/sites/subdomain-other/plans\?cursor=3" is not on the listing`),
			check: func(t *testing.T, out *output) {
				if got := len(out.records["plans"]); got != 2 {
					t.Errorf("%d plans, want the 2 of the first page (none from the other site)", got)
				}
				if bm, ok := out.lastState().Bookmarks["plans"]["updated_at"]; ok && bm > day {
					t.Errorf("plans bookmark %s passes the last record emitted (%s)", bm, day)
				}
			},
		},
		{
			name: "429 with Retry-After 3600",
			h: func(w http.ResponseWriter, r *http.Request, n int) {
				w.Header().Set("Retry-After", "3600")
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusTooManyRequests)
				fmt.Fprint(w, `{"error":{"type":"rate_limited","message":"slow down"}}`)
			},
			code: ExitFailure, maxRequests: 1,
			line: regexp.MustCompile(`^tap-recurly: plans: .*retry after 1h0m0s.*run it again after 20\d\d-`),
		},
		{
			name: "valid JSON that is not a list",
			h: func(w http.ResponseWriter, r *http.Request, n int) {
				w.Header().Set("Content-Type", "application/json")
				fmt.Fprint(w, `{"object":"plan","id":"x"}`)
			},
			code: ExitFailure, maxRequests: 1,
			line: regexp.MustCompile(`^tap-recurly: plans: .*valid JSON that is not what this endpoint returns.*application/json`),
		},
		{
			name: "list whose data is not an array",
			h: func(w http.ResponseWriter, r *http.Request, n int) {
				w.Header().Set("Content-Type", "application/json")
				fmt.Fprint(w, `{"object":"list","has_more":false,"next":null,"data":{"id":"x"}}`)
			},
			code: ExitFailure, maxRequests: 1,
			line: regexp.MustCompile(`^tap-recurly: plans: .*valid JSON that is not what this endpoint returns`),
		},
		{
			name: "HTML login page with 200",
			h: func(w http.ResponseWriter, r *http.Request, n int) {
				w.Header().Set("Content-Type", "text/html")
				fmt.Fprint(w, `<!DOCTYPE html><html><body>Please log in</body></html>`)
			},
			code: ExitFailure, maxRequests: 1,
			line: regexp.MustCompile(`^tap-recurly: plans: .*HTML page.*proxy or a login page`),
		},
		{
			name: "error body echoing the key in escaped forms",
			h: func(w http.ResponseWriter, r *http.Request, n int) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusBadRequest)
				fmt.Fprintf(w, `{"error":{"type":"bad_request","message":"bad credential %s"}}`, strings.Join(escapedKeyForms(), " / "))
			},
			code: ExitFailure, maxRequests: 1,
			line: regexp.MustCompile(`^tap-recurly: plans: .*bad credential`),
		},
		{
			name: "a record far in the future",
			h: func(w http.ResponseWriter, r *http.Request, n int) {
				listJSON(w, false, "", []string{plan("a", day), plan("z", "9999-12-31T23:59:59Z")})
			},
			code: ExitOK, maxRequests: 1,
			warn: `record "z" has updated_at 9999-12-31T23:59:59Z, after this run's end`,
			check: func(t *testing.T, out *output) {
				if got := len(out.records["plans"]); got != 2 {
					t.Errorf("%d plans, want both (the future one is emitted)", got)
				}
				bm := out.lastState().Bookmarks["plans"]["updated_at"]
				if bm < day || bm >= "9999" {
					t.Errorf("plans bookmark %q, want the run's end (after %s, not 9999)", bm, day)
				}
			},
		},
		{
			name: "rate-limit window resetting in 23 hours",
			h: func(w http.ResponseWriter, r *http.Request, n int) {
				listJSON(w, true, fmt.Sprintf("/sites/subdomain-hostile/plans?cursor=c%d", n), []string{plan(fmt.Sprint(n), day)})
			},
			// Every answer of the site says the same: the window is spent
			// and resets in 23 hours.
			headers: http.Header{"X-Ratelimit-Remaining": {"0"}, "X-Ratelimit-Reset": {fmt.Sprint(time.Now().Add(23 * time.Hour).Unix())}},
			code:    ExitFailure, maxRequests: 1,
			line: regexp.MustCompile(`^tap-recurly: .*quota: .*the next request may go at 20\d\d-.*\(in 2[23]h.*longer than the 15m0s the client may wait`),
		},
		{
			name: "a count of 0 for a listing with records",
			h: func(w http.ResponseWriter, r *http.Request, n int) {
				if n == 1 {
					listJSON(w, true, "/sites/subdomain-hostile/plans?cursor=two", []string{plan("a", day)})
					return
				}
				listJSON(w, false, "", []string{plan("b", day)})
			},
			longRange: true,
			code:      ExitOK, maxRequests: 2,
			check: func(t *testing.T, out *output) {
				if got := len(out.records["plans"]); got != 2 {
					t.Errorf("%d plans, want 2: a count must not hide records", got)
				}
			},
		},
		{
			name: "records out of order, then a failing page",
			h: func(w http.ResponseWriter, r *http.Request, n int) {
				if n == 1 {
					listJSON(w, true, "/sites/subdomain-hostile/plans?cursor=two", []string{plan("new", day), plan("old", "2024-01-01T00:00:00Z")})
					return
				}
				w.Header().Set("Content-Type", "text/html")
				fmt.Fprint(w, "<html>maintenance</html>")
			},
			code: ExitFailure, maxRequests: 2,
			line: regexp.MustCompile(`^tap-recurly: plans: .*HTML page`),
			warn: "out of updated_at order",
			check: func(t *testing.T, out *output) {
				if bm, ok := out.lastState().Bookmarks["plans"]["updated_at"]; ok {
					t.Errorf("plans bookmark %s, want none: the listing was out of order and did not complete", bm)
				}
			},
		},
		{
			name: "API version deprecated",
			h: func(w http.ResponseWriter, r *http.Request, n int) {
				listJSON(w, false, "", []string{plan("a", day)})
			},
			headers: http.Header{"Recurly-Deprecated": {"TRUE"}, "Recurly-Sunset-Date": {"2027-03-01T00:00:00Z"}},
			code:    ExitOK, maxRequests: 1,
			warn: "Recurly marks API version v2018-08-09 as deprecated; its sunset date is 2027-03-01T00:00:00Z",
		},
		{
			name: "invalid UTF-8 in a record",
			h: func(w http.ResponseWriter, r *http.Request, n int) {
				listJSON(w, false, "", []string{strings.Replace(plan("bad", day), "Plan bad", "Plan \xff\xfe", 1), plan("good", day)})
			},
			code: ExitOK, maxRequests: 1,
			warn: "invalid UTF-8",
			check: func(t *testing.T, out *output) {
				if got := len(out.records["plans"]); got != 2 {
					t.Errorf("%d plans, want both (the repaired one is kept)", got)
				}
			},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv, requests := hostileServer(t, tt.h, tt.headers)
			dir := t.TempDir()
			from := start
			if tt.longRange {
				from = "2019-01-01T00:00:00Z"
			}
			cfg := writeFile(t, dir, "config.json", map[string]any{"api_key": testAPIKey, "subdomain": "hostile", "start_date": from, "base_url": srv.URL})
			began := time.Now()
			r := runInProcess(t, "hostile: "+tt.name, env{clientOptions: fastRetries}, "--config", cfg)
			took := time.Since(began)
			if r.code != tt.code {
				t.Fatalf("exit %d, want %d; stderr:\n%s", r.code, tt.code, r.stderr)
			}
			lines := r.errorLines()
			switch {
			case tt.line == nil && len(lines) != 0:
				t.Errorf("error lines %q, want none", lines)
			case tt.line != nil && (len(lines) != 1 || !tt.line.MatchString(lines[0])):
				t.Errorf("error lines %q, want one matching %s", lines, tt.line)
			}
			if n := requests(); n > tt.maxRequests {
				t.Errorf("%d requests to plans, want at most %d", n, tt.maxRequests)
			}
			if took > 30*time.Second {
				t.Errorf("took %s; a misbehaving API must end the run within 30 s", took.Round(time.Second))
			}
			if tt.warn != "" {
				if n := strings.Count(string(r.stderr), tt.warn); n != 1 {
					t.Errorf("%d lines mention %q, want 1; stderr:\n%s", n, tt.warn, r.stderr)
				}
			}
			if !utf8.Valid(r.stdout) {
				t.Error("stdout is not valid UTF-8")
			}
			for _, form := range append(escapedKeyForms(), secretForms()...) {
				if strings.Contains(string(r.stdout), form) || strings.Contains(string(r.stderr), form) {
					t.Errorf("the key leaked in the form %q", form)
				}
			}
			noStackTrace(t, r.stderr)
			out := parseOutput(t, r.stdout, false)
			if out.lastType != "" && out.lastType != "STATE" {
				t.Errorf("last message %q, want a final STATE after what was written", out.lastType)
			}
			// No bookmark passes the run's end (its signpost is taken after
			// began and before the run returns).
			ended := began.Add(took)
			for _, st := range out.states {
				v, ok := st.Bookmarks["plans"]["updated_at"]
				if !ok {
					continue
				}
				if bm, err := time.Parse(time.RFC3339Nano, v); err != nil || bm.After(ended) {
					t.Errorf("plans bookmark %s passes the run's end %s", v, ended.UTC().Format(time.RFC3339Nano))
				}
			}
			if tt.check != nil {
				tt.check(t, out)
			}
		})
	}
}
