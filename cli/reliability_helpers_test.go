package cli

// Shared helpers of the reliability tests (issue 5): a simulated site with a
// known API key, the tap run in-process or as a built binary, parsing of its
// Singer output, and the transcript recorder the secrets test scans.

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tap-recurly/tap-recurly/internal/testutil"

	"github.com/tap-recurly/tap-recurly/client"
	"github.com/tap-recurly/tap-recurly/internal/jsonscan"
	"github.com/tap-recurly/tap-recurly/recurlytest"
	"github.com/tap-recurly/tap-recurly/state"
	"github.com/tap-recurly/tap-recurly/streams"
)

// testAPIKey is the simulated site's key; wrongAPIKey is the one a config
// gets for the 401 case. Both are secrets the transcripts must never show.
const (
	testAPIKey  = "rk-sim-7d2a4b3c9e1f5a60c4"
	wrongAPIKey = "rk-sim-wrong-0b9e44f1d2c3"
	testStart   = "2019-01-01T00:00:00Z"
)

// fastRetries keeps in-process runs quick: the tap's real waits are seconds
// (Retry-After is clamped to the last bound, so simulated 429s wait 20ms).
var fastRetries = []client.Option{client.WithRetries(8, time.Millisecond, 20*time.Millisecond)}

// TestMain builds nothing up front; it removes the lazily built binary and
// checks, after every test ran, that no transcript leaked a secret.
func TestMain(m *testing.M) {
	code := m.Run()
	if hits := transcripts.leaks(secretForms()); len(hits) > 0 {
		fmt.Fprintln(os.Stderr, "FAIL: secrets leaked into tap output:")
		for _, h := range hits {
			fmt.Fprintln(os.Stderr, "  "+h)
		}
		code = 1
	}
	cleanupBinary()
	os.Exit(code)
}

// transcript is what one tap run printed.
type transcript struct {
	name           string
	stdout, stderr []byte
}

// recorder collects every run's output for the secrets scan.
type recorder struct {
	mu   sync.Mutex
	runs []transcript
}

var transcripts recorder

func (r *recorder) add(name string, stdout, stderr []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.runs = append(r.runs, transcript{name, bytes.Clone(stdout), bytes.Clone(stderr)})
}

func (r *recorder) snapshot() []transcript {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]transcript(nil), r.runs...)
}

// leaks lists "run: stream: form" for every secret form found.
func (r *recorder) leaks(forms []string) []string {
	var hits []string
	for _, tr := range r.snapshot() {
		for _, f := range forms {
			for _, out := range []struct {
				name string
				b    []byte
			}{{"stdout", tr.stdout}, {"stderr", tr.stderr}} {
				if bytes.Contains(out.b, []byte(f)) {
					hits = append(hits, fmt.Sprintf("%s: %s contains %q", tr.name, out.name, f))
				}
			}
		}
	}
	return hits
}

// secretForms are the strings that would mean a key leaked: each key, its
// Basic credential (base64 of "key:") and the base64 of the bare key.
func secretForms() []string {
	var out []string
	for _, k := range []string{testAPIKey, wrongAPIKey} {
		out = append(out, k,
			base64.StdEncoding.EncodeToString([]byte(k+":")),
			base64.StdEncoding.EncodeToString([]byte(k)))
	}
	return out
}

// result is one finished run of the tap.
type result struct {
	name           string
	code           int
	stdout, stderr []byte
}

// errorLines are the stderr lines the tap prints for a failure.
func (r result) errorLines() []string {
	var out []string
	for _, l := range strings.Split(string(r.stderr), "\n") {
		if strings.HasPrefix(l, "tap-recurly: ") {
			out = append(out, l)
		}
	}
	return out
}

// runInProcess runs the command through run() with e's writers replaced by
// buffers, and records the transcript.
func runInProcess(t testing.TB, name string, e env, args ...string) result {
	t.Helper()
	var stdout, stderr testutil.Buffer
	e.stdout, e.stderr = &stdout, &stderr
	if e.now == nil {
		e.now = time.Now
	}
	began := time.Now()
	code := run(args, e)
	t.Logf("%s: exit %d in %s", name, code, time.Since(began).Round(time.Millisecond))
	r := result{name: name, code: code, stdout: stdout.Bytes(), stderr: stderr.Bytes()}
	transcripts.add(name, r.stdout, r.stderr)
	return r
}

// newTestSite serves a simulated site with testAPIKey and a rate limit high
// enough that it never throttles unless a test asks.
func newTestSite(t testing.TB, cfg recurlytest.Config) *recurlytest.Server {
	t.Helper()
	if cfg.APIKey == "" {
		cfg.APIKey = testAPIKey
	}
	if cfg.RateLimit == 0 {
		cfg.RateLimit = 1_000_000
	}
	return testutil.StartSite(t, cfg)
}

// siteConfig is a config for srv (or for baseURL when not empty).
func siteConfig(srv *recurlytest.Server, baseURL string) map[string]any {
	if baseURL == "" {
		baseURL = srv.URL
	}
	return map[string]any{
		"api_key":    srv.Site.APIKey(),
		"subdomain":  strings.TrimPrefix(srv.Site.SiteID(), "subdomain-"),
		"start_date": testStart,
		"base_url":   baseURL,
	}
}

// writeFile writes content (a string is written as is, anything else as
// JSON) to name in dir and returns its path.
func writeFile(t testing.TB, dir, name string, content any) string {
	t.Helper()
	var b []byte
	switch c := content.(type) {
	case string:
		b = []byte(c)
	case []byte:
		b = c
	default:
		var err error
		if b, err = json.Marshal(c); err != nil {
			t.Fatal(err)
		}
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// output is a run's stdout, parsed.
type output struct {
	records  map[string][]json.RawMessage
	schemas  map[string]bool
	states   []state.State
	lastType string
	partial  bool // the last line had no newline (a killed process)
}

// parseOutput parses Singer lines. With allowPartial a final line without
// its newline is ignored (what a SIGKILL leaves); otherwise it is an error.
// Every complete line must be a known message and no RECORD may precede its
// stream's SCHEMA.
func parseOutput(t testing.TB, b []byte, allowPartial bool) *output {
	t.Helper()
	o := &output{records: map[string][]json.RawMessage{}, schemas: map[string]bool{}}
	if n := len(b); n > 0 && b[n-1] != '\n' {
		if !allowPartial {
			t.Fatalf("stdout ends in a partial line: %.200q", b[bytes.LastIndexByte(b, '\n')+1:])
		}
		o.partial = true
		b = b[:bytes.LastIndexByte(b, '\n')+1]
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	var f [4][]byte
	for sc.Scan() {
		line := sc.Bytes()
		if err := jsonscan.Fields(line, []string{"type", "stream", "record", "value"}, f[:]); err != nil || !json.Valid(line) {
			t.Fatalf("stdout line is not a JSON object: %.200s", line)
		}
		typ, _ := jsonscan.String(f[0])
		stream, _ := jsonscan.String(f[1])
		o.lastType = typ
		switch typ {
		case "SCHEMA":
			o.schemas[stream] = true
		case "RECORD":
			if !o.schemas[stream] {
				t.Fatalf("RECORD of %s before its SCHEMA", stream)
			}
			o.records[stream] = append(o.records[stream], bytes.Clone(f[2]))
		case "STATE":
			var st state.State
			if err := json.Unmarshal(f[3], &st); err != nil {
				t.Fatalf("STATE value: %v: %s", err, f[3])
			}
			o.states = append(o.states, st)
		default:
			t.Fatalf("unknown message type %q", typ)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return o
}

// lastState is the last STATE written, or nil.
func (o *output) lastState() *state.State {
	if len(o.states) == 0 {
		return nil
	}
	s := o.states[len(o.states)-1]
	return &s
}

// fields returns the primary key and the raw replication value of r.
func fields(st streams.Stream, r json.RawMessage) (id, rep string) {
	var f [2][]byte
	_ = jsonscan.Fields(r, []string{st.KeyProperty, st.ReplicationKey}, f[:])
	id, _ = jsonscan.String(f[0])
	return id, string(f[1])
}

// triples is the set of (stream, id, replication value) a run emitted.
func (o *output) triples() map[string]bool {
	out := map[string]bool{}
	for name, recs := range o.records {
		st, _ := streams.ByName(name)
		for _, r := range recs {
			id, rep := fields(st, r)
			out[name+" "+id+" "+rep] = true
		}
	}
	return out
}

// ids is the set of primary keys emitted for stream.
func (o *output) ids(stream string) map[string]bool {
	st, _ := streams.ByName(stream)
	out := map[string]bool{}
	for _, r := range o.records[stream] {
		id, _ := fields(st, r)
		out[id] = true
	}
	return out
}

// siteIDs is the set of primary keys the site holds for stream.
func siteIDs(srv *recurlytest.Server, stream string) map[string]bool {
	var keys []recurlytest.Key
	if stream == "billing_info" {
		keys = srv.Site.BillingInfoKeys()
	} else {
		st, _ := streams.ByName(stream)
		keys = srv.Site.Keys(st.Source)
	}
	out := map[string]bool{}
	for _, k := range keys {
		out[k.ID] = true
	}
	return out
}

// sitePositions maps each id of stream to its position in its listing's
// updated_at order (billing_info: its account's).
func sitePositions(srv *recurlytest.Server, stream string) map[string]time.Time {
	st, _ := streams.ByName(stream)
	out := map[string]time.Time{}
	for _, k := range srv.Site.Keys(st.Source) {
		out[k.ID] = k.Sort
	}
	return out
}

// checkCovers fails for every site record of every stream missing from seen.
func checkCovers(t testing.TB, srv *recurlytest.Server, seen map[string]map[string]bool) {
	t.Helper()
	missing := 0
	for _, st := range streams.All() {
		for id := range siteIDs(srv, st.Name) {
			if !seen[st.Name][id] {
				missing++
				if missing <= 10 {
					t.Errorf("%s: record %s was never emitted", st.Name, id)
				}
			}
		}
	}
	if missing > 10 {
		t.Errorf("... %d records missing in all", missing)
	}
}

// addSeen adds o's ids to seen.
func addSeen(seen map[string]map[string]bool, o *output) {
	for _, st := range streams.All() {
		if seen[st.Name] == nil {
			seen[st.Name] = map[string]bool{}
		}
		for id := range o.ids(st.Name) {
			seen[st.Name][id] = true
		}
	}
}

// checkResumedFrom fails if o (a run resumed from st) re-emitted a record
// positioned before that stream's bookmark: duplicates across runs may only
// come from at or after the bookmark.
func checkResumedFrom(t testing.TB, srv *recurlytest.Server, st *state.State, o *output) {
	t.Helper()
	if st == nil {
		return
	}
	for _, s := range streams.All() {
		bm, ok := st.Bookmark(s.Name, s.ReplicationKey)
		if !ok {
			continue
		}
		pos := sitePositions(srv, s.Name)
		for _, r := range o.records[s.Name] {
			id, _ := fields(s, r)
			if p := pos[id]; p.Before(bm) {
				t.Errorf("%s: resumed run re-emitted %s positioned at %s, before its bookmark %s", s.Name, id, p.Format(time.RFC3339), bm.Format(time.RFC3339))
			}
		}
	}
}

// stateFile writes st as a state file and returns its path ("" for nil).
func stateFile(t testing.TB, dir, name string, st *state.State) string {
	t.Helper()
	if st == nil {
		return ""
	}
	return writeFile(t, dir, name, st)
}

// noStackTrace fails if text looks like a Go panic or stack trace.
func noStackTrace(t testing.TB, text []byte) {
	t.Helper()
	for _, bad := range []string{"goroutine ", "panic", ".go:"} {
		if bytes.Contains(text, []byte(bad)) {
			t.Errorf("stderr has %q (a stack trace?):\n%s", bad, text)
		}
	}
}
