package cli

// Reliability tests of issue 5: fault soak, outage past the retry bound,
// SIGKILL and resume, SIGTERM/SIGINT, records changing during a run, and
// bad data from the API. All run the tap through its real command path
// (run() in-process, or the built binary where a process is needed)
// against the simulated site over loopback.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/tap-recurly/tap-recurly/client"
	"github.com/tap-recurly/tap-recurly/recurlytest"
	"github.com/tap-recurly/tap-recurly/state"
	"github.com/tap-recurly/tap-recurly/streams"
)

// TestFaultSoak: a full sync of about 12,000 records through 4% 500s, 4%
// 503s, 3% 429s with Retry-After, 3% connection resets, 3% bodies cut off
// mid-JSON and 2% each of Cloudflare's 520, 522 and 524 HTML pages exits 0
// and emits exactly the set of (stream, id, replication value) a fault-free
// run emits. It runs twice: with gzip bodies (what Recurly's edge answers
// Go's default Accept-Encoding with; a cut-off gzip stream is a cut-off
// body) and with plain JSON.
//
// max_workers 64 splits the big listings into time windows fetched at once,
// so faults land on counts and on pages of concurrent windows. The site's
// fault sequence is seeded, so which kinds are drawn is fixed: every kind is
// (the test checks it). At a 26% fault rate a request exhausts its 9
// attempts with odds of about 1 in 180,000.
// Retry waits are shortened through env (the 1 s Retry-After is clamped to
// 20 ms); the policy is the tap's own.
func TestFaultSoak(t *testing.T) {
	for _, tt := range []struct {
		name   string
		noGzip bool
	}{
		{"gzip", false}, // what Recurly's edge answers Go's default Accept-Encoding with
		{"plain JSON", true},
	} {
		t.Run(tt.name, func(t *testing.T) { faultSoak(t, tt.noGzip) })
	}
}

// faultSoak is TestFaultSoak with the site's compression on or off.
func faultSoak(t *testing.T, noGzip bool) {
	srv := newTestSite(t, recurlytest.Config{Seed: 43, Counts: recurlytest.ScaledCounts(12000), NoGzip: noGzip})
	dir := t.TempDir()
	cfg := siteConfig(srv, "")
	cfg["max_workers"] = 64
	cfgPath := writeFile(t, dir, "config.json", cfg)
	e := env{clientOptions: fastRetries}

	clean := runInProcess(t, "fault soak: fault-free", e, "--config", cfgPath)
	if clean.code != ExitOK {
		t.Fatalf("fault-free run: exit %d\n%s", clean.code, clean.stderr)
	}
	want := parseOutput(t, clean.stdout, false)
	seen := map[string]map[string]bool{}
	addSeen(seen, want)
	checkCovers(t, srv, seen)

	srv.Site.SetFaults(recurlytest.Faults{Status500: 0.04, Status503: 0.04, Status429: 0.03, ConnReset: 0.03, Truncate: 0.03,
		CF520: 0.02, CF522: 0.02, CF524: 0.02, RetryAfter: time.Second})
	srv.Site.ResetRequests()
	faulty := runInProcess(t, "fault soak: faults", e, "--config", cfgPath, "--log-level", "debug")
	if faulty.code != ExitOK {
		t.Fatalf("run with faults: exit %d; errors: %q", faulty.code, faulty.errorLines())
	}
	got := parseOutput(t, faulty.stdout, false)

	faults := map[string]int{}
	for _, r := range srv.Site.Requests() {
		faults[r.Fault]++
	}
	t.Logf("requests by fault: %v", faults)
	for _, f := range []string{"500", "503", "429", "reset", "truncate", "cf520", "cf522", "cf524"} {
		if faults[f] == 0 {
			t.Errorf("no %q fault was injected: the soak did not exercise it", f)
		}
	}
	if !strings.Contains(string(faulty.stderr), "retrying request") {
		t.Error("no retry was logged")
	}

	wantSet, gotSet := want.triples(), got.triples()
	for k := range wantSet {
		if !gotSet[k] {
			t.Errorf("missing under faults: %s", k)
		}
	}
	for k := range gotSet {
		if !wantSet[k] {
			t.Errorf("emitted only under faults: %s", k)
		}
	}
	if len(wantSet) < 3000 {
		t.Errorf("only %d distinct records: not a few thousand", len(wantSet))
	}
	wantState, _ := json.Marshal(want.lastState())
	gotState, _ := json.Marshal(got.lastState())
	if !bytes.Equal(wantState, gotState) {
		t.Errorf("final STATE differs:\nfault-free %s\nfaults     %s", wantState, gotState)
	}
}

// TestOutagePastRetryBound: the site goes down mid-run for longer than the
// retries last. The run fails with one clear line and exit 1, its last
// STATE is valid, and a run resumed from it against the healthy site
// covers everything.
func TestOutagePastRetryBound(t *testing.T) {
	srv := newTestSite(t, recurlytest.Config{Seed: 43})
	var n atomic.Int64
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 15 {
			srv.Site.SetFaults(recurlytest.Faults{Down: true})
		}
		srv.Site.ServeHTTP(w, r)
	}))
	defer front.Close()
	dir := t.TempDir()
	cfg := siteConfig(srv, front.URL)
	cfg["max_workers"] = 2
	cfgPath := writeFile(t, dir, "config.json", cfg)
	e := env{clientOptions: []client.Option{client.WithRetries(3, time.Millisecond, 5*time.Millisecond)}}

	r := runInProcess(t, "outage", e, "--config", cfgPath)
	if r.code != ExitFailure {
		t.Fatalf("exit %d, want %d; stderr:\n%s", r.code, ExitFailure, r.stderr)
	}
	noStackTrace(t, r.stderr)
	lines := r.errorLines()
	if len(lines) != 1 {
		t.Fatalf("want one error line, got %q", lines)
	}
	for _, want := range []string{"503 service unavailable", "after 4 attempts", "simulated outage", "GET /sites/subdomain-demo/"} {
		if !strings.Contains(lines[0], want) {
			t.Errorf("error line %q does not say %q", lines[0], want)
		}
	}
	first := parseOutput(t, r.stdout, false)
	if first.lastType != "STATE" {
		t.Fatalf("the failed run's last message is %s, want its final STATE", first.lastType)
	}
	last := first.lastState()
	bookmarks := 0
	for _, bm := range last.Bookmarks {
		bookmarks += len(bm)
	}
	if bookmarks == 0 {
		t.Fatalf("no bookmark survived the outage (%d requests answered): the test shows nothing", 14)
	}

	srv.Site.SetFaults(recurlytest.Faults{})
	resumed := runInProcess(t, "outage: resumed", e, "--config", cfgPath, "--state", stateFile(t, dir, "state.json", last))
	if resumed.code != ExitOK {
		t.Fatalf("resume: exit %d; %q", resumed.code, resumed.errorLines())
	}
	second := parseOutput(t, resumed.stdout, false)
	checkResumedFrom(t, srv, last, second)
	seen := map[string]map[string]bool{}
	addSeen(seen, first)
	addSeen(seen, second)
	checkCovers(t, srv, seen)
}

// killSite is a site slow enough (200ms latency per request) that a full
// run of the binary takes a few seconds and even a run with nothing left to
// read (one request per listing, two rounds of four workers) over 400ms.
func killSite(t *testing.T, seed int64, records int) (*recurlytest.Server, string) {
	t.Helper()
	// Slow enough that a signal or a kill lands after pages; records sets
	// how much a chain of killed runs has left to read.
	srv := newTestSite(t, recurlytest.Config{Seed: seed, Latency: 100 * time.Millisecond, Counts: recurlytest.ScaledCounts(records)})
	return srv, writeFile(t, t.TempDir(), "config.json", siteConfig(srv, ""))
}

// TestSIGKILLAndResume SIGKILLs the tap binary at 10 random points
// (seeded): a chain of runs, each resumed from the last complete STATE line
// the previous one wrote (a partial last line is what a kill leaves and is
// ignored), each killed 150-700ms in, then a last run that finishes. The
// union of records covers the whole site, and no resumed run re-emits a
// record positioned before the bookmark it resumed from: duplicates come
// only from at or after bookmarks.
func TestSIGKILLAndResume(t *testing.T) {
	srv, cfgPath := killSite(t, 47, 60000) // no run of the chain reads all that is left before its kill
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(47, 10))
	seen := map[string]map[string]bool{}
	var resumeFrom *state.State
	killed, partial, wrote := 0, 0, 0
	for i := 0; i <= 10; i++ {
		args := []string{"--config", cfgPath}
		if p := stateFile(t, dir, fmt.Sprintf("state-%d.json", i), resumeFrom); p != "" {
			args = append(args, "--state", p)
		}
		p := startTap(t, fmt.Sprintf("sigkill run %d", i), args...)
		if i < 10 {
			delay := time.Duration(150+rng.IntN(550)) * time.Millisecond
			select {
			case <-p.exited:
			case <-time.After(delay):
				p.cmd.Process.Kill()
			}
		}
		r := p.wait(t, 5*time.Minute) // a guard against a hang: the last run takes ~20 s alone, minutes on a busy machine
		out := parseOutput(t, r.stdout, i < 10)
		switch {
		case i == 10 && r.code != ExitOK:
			t.Fatalf("final run: exit %d; %q", r.code, r.errorLines())
		case r.code == 128+int(syscall.SIGKILL):
			killed++
			if len(out.triples()) > 0 {
				wrote++
			}
		case r.code != ExitOK:
			t.Fatalf("run %d: exit %d; %q", i, r.code, r.errorLines())
		}
		if out.partial {
			partial++
		}
		checkResumedFrom(t, srv, resumeFrom, out)
		addSeen(seen, out)
		if last := out.lastState(); last != nil {
			resumeFrom = last
		}
		t.Logf("run %d: exit %d, %d distinct records, %d STATEs, partial last line %v", i, r.code, len(out.triples()), len(out.states), out.partial)
	}
	if killed != 10 {
		t.Errorf("%d of 10 runs were killed; the others finished first", killed)
	}
	if wrote < 5 {
		t.Errorf("only %d of the killed runs wrote records before the kill: the kills do not land mid-run", wrote)
	}
	checkCovers(t, srv, seen)
}

// TestSignalsStopCleanly: on SIGTERM or SIGINT the tap stops issuing
// requests, writes the records it has and a final STATE, and exits 143 or
// 130 within 2 seconds; a run resumed from that STATE covers the site.
func TestSignalsStopCleanly(t *testing.T) {
	for _, tt := range []struct {
		name string
		sig  syscall.Signal
		code int
		line string
	}{
		{"SIGTERM", syscall.SIGTERM, ExitSIGTERM, "tap-recurly: stopped by SIGTERM; the last STATE written is safe to resume from"},
		{"SIGINT", syscall.SIGINT, ExitSIGINT, "tap-recurly: stopped by SIGINT; the last STATE written is safe to resume from"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv, cfgPath := killSite(t, 59, 6000)
			p := startTap(t, tt.name, "--config", cfgPath)
			p.waitForLine(t, `"type":"STATE"`, 30*time.Second)
			sent := time.Now()
			if err := p.cmd.Process.Signal(tt.sig); err != nil {
				t.Fatal(err)
			}
			r := p.wait(t, 30*time.Second)
			if took := p.exitAt.Sub(sent); took > 2*time.Second {
				t.Errorf("exited %s after %s; the bound is 2s", took.Round(time.Millisecond), tt.name)
			}
			if r.code != tt.code {
				t.Fatalf("exit %d, want %d; stderr:\n%s", r.code, tt.code, r.stderr)
			}
			if lines := r.errorLines(); len(lines) != 1 || lines[0] != tt.line {
				t.Errorf("error lines %q, want [%q]", lines, tt.line)
			}
			noStackTrace(t, r.stderr)
			// Requests are no longer issued once the signal is handled
			// (the slack of a second is for process scheduling on a busy
			// machine; a tap that kept going would send ~40 requests in it).
			for _, req := range srv.Site.Requests() {
				if req.At.After(sent.Add(time.Second)) {
					t.Errorf("request %s?%s arrived %s after the signal", req.Path, req.RawQuery, req.At.Sub(sent).Round(time.Millisecond))
				}
			}
			out := parseOutput(t, r.stdout, false)
			if out.lastType != "STATE" {
				t.Fatalf("last message %s, want the final STATE", out.lastType)
			}
			last := out.lastState()
			srv.Site.SetLatency(0)
			resumed := startTap(t, tt.name+": resumed", "--config", cfgPath, "--state", stateFile(t, t.TempDir(), "state.json", last)).wait(t, time.Minute)
			if resumed.code != ExitOK {
				t.Fatalf("resume: exit %d; %q", resumed.code, resumed.errorLines())
			}
			second := parseOutput(t, resumed.stdout, false)
			checkResumedFrom(t, srv, last, second)
			seen := map[string]map[string]bool{}
			addSeen(seen, out)
			addSeen(seen, second)
			checkCovers(t, srv, seen)
		})
	}
}

// TestRecordsUpdatedDuringRun touches records while a run is in progress;
// a second run from the first's STATE then picks up what changed. Across
// the two runs nothing is lost: every record's final (id, replication
// value) was emitted, and for every touched record (and a touched
// account's billing info) its final version, byte for byte.
//
// Untouched records are compared by (id, replication value), not bytes:
// the site renders embedded minis (an invoice's account) live, and such a
// change does not move the embedding record's updated_at, so no
// incremental tap can see it.
func TestRecordsUpdatedDuringRun(t *testing.T) {
	srv := newTestSite(t, recurlytest.Config{Seed: 53, Latency: 3 * time.Millisecond})
	dir := t.TempDir()
	cfgPath := writeFile(t, dir, "config.json", siteConfig(srv, ""))

	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	touched := map[string][]string{} // resource -> ids; written by the toucher until wg.Wait
	wg.Add(1)
	go func() {
		defer wg.Done()
		resources := []string{recurlytest.Accounts, recurlytest.Invoices, recurlytest.Transactions, recurlytest.LineItems, recurlytest.Subscriptions}
		for i := 0; ; i++ {
			select {
			case <-ctx.Done():
				return
			case <-time.After(2 * time.Millisecond):
			}
			res := resources[i%len(resources)]
			touched[res] = append(touched[res], srv.Site.Touch(res, 2)...)
		}
	}()
	first := runInProcess(t, "moving data: first", env{}, "--config", cfgPath)
	stop()
	wg.Wait()
	if first.code != ExitOK {
		t.Fatalf("first run: exit %d; %q", first.code, first.errorLines())
	}
	if len(touched) == 0 {
		t.Fatal("nothing was touched during the run")
	}
	o1 := parseOutput(t, first.stdout, false)
	second := runInProcess(t, "moving data: second", env{}, "--config", cfgPath, "--state", stateFile(t, dir, "state.json", o1.lastState()))
	if second.code != ExitOK {
		t.Fatalf("second run: exit %d; %q", second.code, second.errorLines())
	}
	o2 := parseOutput(t, second.stdout, false)

	emitted := map[string]bool{} // record bytes
	triples := o1.triples()
	for k := range o2.triples() {
		triples[k] = true
	}
	for _, o := range []*output{o1, o2} {
		for _, recs := range o.records {
			for _, r := range recs {
				emitted[string(r)] = true
			}
		}
	}
	lost := 0
	report := func(format string, args ...any) {
		if lost++; lost <= 10 {
			t.Errorf(format, args...)
		}
	}
	// Every record's final (id, replication value).
	for _, st := range streams.All() {
		for id := range siteIDs(srv, st.Name) {
			var rec json.RawMessage
			if st.Name == "billing_info" {
				rec, _ = srv.Site.BillingInfo(id)
			} else {
				rec, _ = srv.Site.Record(st.Source, id)
			}
			_, rep := fields(st, rec)
			if !triples[st.Name+" "+id+" "+rep] {
				report("%s: %s with %s %s was emitted by neither run", st.Name, id, st.ReplicationKey, rep)
			}
		}
	}
	// Every touched record's final version, byte for byte.
	changed := 0
	for resource, ids := range touched {
		for _, id := range ids {
			rec, ok := srv.Site.Record(resource, id)
			if !ok {
				t.Fatalf("%s %s vanished from the site", resource, id)
			}
			if !emitted[string(rec)] {
				report("%s: the final version of touched %s was emitted by neither run", resource, id)
			}
			if resource == recurlytest.Accounts {
				if bi, ok := srv.Site.BillingInfo(id); ok && !emitted[string(bi)] {
					report("billing_info: the final version of touched account %s's was emitted by neither run", id)
				}
			}
		}
	}
	for _, st := range streams.All() {
		before := o1.ids(st.Name)
		for id := range o2.ids(st.Name) {
			if before[id] {
				changed++
			}
		}
	}
	if changed == 0 {
		t.Error("the second run re-emitted nothing the first had: the updates did not land mid-run")
	}
	t.Logf("touched %d resources during the first run; %d records emitted again by the second; %d lost", len(touched), changed, lost)
}

// extraField is a field the spec does not have, added to every plan.
const extraField = `{"added":"2026-11-01","n":[1,2]}`

// addExtraField adds x_new_field to every plan the site lists.
func addExtraField(t *testing.T, r *http.Request, body []byte) []byte {
	if !strings.HasSuffix(r.URL.Path, "/plans") {
		return body
	}
	return editPage(t, body, func(_ map[string]json.RawMessage, recs []map[string]json.RawMessage) {
		for _, rec := range recs {
			rec["x_new_field"] = json.RawMessage(extraField)
		}
	})
}

// checkExtraField asserts every plan RECORD carries x_new_field unchanged
// and not the deselected field (if any).
func checkExtraField(t *testing.T, o *output, deselected string) {
	t.Helper()
	if len(o.records["plans"]) == 0 {
		t.Fatal("no plans emitted")
	}
	for _, r := range o.records["plans"] {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(r, &m); err != nil {
			t.Fatal(err)
		}
		if string(m["x_new_field"]) != extraField {
			t.Fatalf("extra field not passed through: %s", r)
		}
		if _, ok := m[deselected]; deselected != "" && ok {
			t.Fatalf("deselected field %s emitted: %s", deselected, r)
		}
	}
}

// smallCounts is a site with one listing (invoices) longer than a page.
var smallCounts = recurlytest.Counts{Accounts: 20, LineItems: 20, Coupons: 5, Invoices: 450, Plans: 25, AddOns: 10, Subscriptions: 20, Transactions: 20}

// rewritingFront serves srv's site through fn, which may change the body
// of a 200 answer for a request.
func rewritingFront(t *testing.T, srv *recurlytest.Server, fn func(r *http.Request, body []byte) []byte) *httptest.Server {
	t.Helper()
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		r.Header.Del("Accept-Encoding") // the front edits bodies: it asks the site for plain JSON
		srv.Site.ServeHTTP(rec, r)
		body := rec.Body.Bytes()
		if rec.Code == http.StatusOK {
			body = fn(r, body)
		}
		for k, v := range rec.Header() {
			if k != "Content-Length" {
				w.Header()[k] = v
			}
		}
		w.WriteHeader(rec.Code)
		w.Write(body)
	}))
	t.Cleanup(front.Close)
	return front
}

// firstPageOf reports whether r asks for the first page of a site list
// (a GET: a HEAD counting the list has no page).
func firstPageOf(r *http.Request, resource string) bool {
	return r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/"+resource) && r.URL.Query().Get("cursor") == ""
}

// editPage decodes a list page, lets fn change its envelope and records,
// and encodes it again.
func editPage(t *testing.T, body []byte, fn func(env map[string]json.RawMessage, recs []map[string]json.RawMessage)) []byte {
	var envl map[string]json.RawMessage
	if err := json.Unmarshal(body, &envl); err != nil {
		t.Errorf("front: page is not JSON: %v", err)
		return body
	}
	var recs []map[string]json.RawMessage
	if err := json.Unmarshal(envl["data"], &recs); err != nil {
		t.Errorf("front: data: %v", err)
		return body
	}
	fn(envl, recs)
	envl["data"], _ = json.Marshal(recs)
	out, _ := json.Marshal(envl)
	return out
}

// TestBadDataFromAPI: a record without its primary key or with an
// unparsable replication key stops the run with an error naming the
// stream and the record (nothing of that page is emitted); a next link to
// another host is refused (that host gets no request); an unknown extra
// field in a record is passed through in the RECORD.
func TestBadDataFromAPI(t *testing.T) {
	foreignHits := atomic.Int64{}
	var firstInvoices atomic.Pointer[string] // the first invoices request, which the next-link error names
	foreign := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		foreignHits.Add(1)
		if u, p, ok := r.BasicAuth(); ok {
			t.Errorf("the foreign host was sent credentials %q:%q", u, p)
		}
		w.WriteHeader(http.StatusTeapot)
	}))
	defer foreign.Close()

	var badID atomic.Value // string: the id of the plan given a bad updated_at (set by the front)
	tests := []struct {
		name     string
		catalog  bool // select plans only, without its name field
		rewrite  func(t *testing.T, r *http.Request, body []byte) []byte
		code     int
		wantLine func(front string) string
		check    func(t *testing.T, o *output)
	}{
		{
			name: "record without its primary key",
			rewrite: func(t *testing.T, r *http.Request, body []byte) []byte {
				if !firstPageOf(r, "plans") {
					return body
				}
				return editPage(t, body, func(_ map[string]json.RawMessage, recs []map[string]json.RawMessage) { delete(recs[2], "id") })
			},
			code:     ExitFailure,
			wantLine: func(string) string { return `tap-recurly: plans: record 2 of its page: missing primary key "id"` },
			check: func(t *testing.T, o *output) {
				if n := len(o.records["plans"]); n != 0 {
					t.Errorf("%d plans emitted from the refused page", n)
				}
				if _, ok := o.lastState().Bookmark("plans", "updated_at"); ok {
					t.Error("plans got a bookmark past the refused page")
				}
			},
		},
		{
			name: "unparsable replication key",
			rewrite: func(t *testing.T, r *http.Request, body []byte) []byte {
				if !firstPageOf(r, "plans") {
					return body
				}
				return editPage(t, body, func(_ map[string]json.RawMessage, recs []map[string]json.RawMessage) {
					var id string
					_ = json.Unmarshal(recs[1]["id"], &id)
					badID.Store(id)
					recs[1]["updated_at"] = json.RawMessage(`"last tuesday"`)
				})
			},
			code: ExitFailure,
			wantLine: func(string) string {
				id, _ := badID.Load().(string)
				return fmt.Sprintf(`tap-recurly: plans: record %q: updated_at "last tuesday" is not an RFC 3339 timestamp`, id)
			},
			check: func(t *testing.T, o *output) {
				if n := len(o.records["plans"]); n != 0 {
					t.Errorf("%d plans emitted from the refused page", n)
				}
			},
		},
		{
			name: "next link to another host",
			rewrite: func(t *testing.T, r *http.Request, body []byte) []byte {
				if !firstPageOf(r, "invoices") {
					return body
				}
				uri := r.URL.RequestURI()
				firstInvoices.Store(&uri)
				return editPage(t, body, func(envl map[string]json.RawMessage, _ []map[string]json.RawMessage) {
					envl["next"], _ = json.Marshal(foreign.URL + r.URL.RequestURI() + "&cursor=stolen")
				})
			},
			code: ExitFailure,
			wantLine: func(front string) string {
				return "tap-recurly: invoices: GET " + *firstInvoices.Load() + ": the API's next link leaves the listing: refusing to follow a next link to " +
					foreign.URL + ": not the API host " + strings.TrimPrefix(front, "http://") + "; stopped instead of reading it"
			},
			check: func(t *testing.T, o *output) {
				if n := foreignHits.Load(); n != 0 {
					t.Errorf("the foreign host got %d requests", n)
				}
			},
		},
		{
			name:     "unknown extra field",
			rewrite:  addExtraField,
			code:     ExitOK,
			wantLine: func(string) string { return "" },
			check:    func(t *testing.T, o *output) { checkExtraField(t, o, "") },
		},
		{
			name:     "unknown extra field with a field deselected",
			catalog:  true,
			rewrite:  addExtraField,
			code:     ExitOK,
			wantLine: func(string) string { return "" },
			check:    func(t *testing.T, o *output) { checkExtraField(t, o, "name") },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newTestSite(t, recurlytest.Config{Seed: 61, Counts: smallCounts})
			front := rewritingFront(t, srv, func(r *http.Request, b []byte) []byte { return tt.rewrite(t, r, b) })
			dir := t.TempDir()
			cfg := siteConfig(srv, front.URL)
			cfg["max_workers"] = 1 // one window per listing: the first page has more after it
			args := []string{"--config", writeFile(t, dir, "config.json", cfg)}
			if tt.catalog {
				cat := discoveredCatalog(t)
				var keep []any
				for _, e := range cat["streams"].([]any) {
					if e.(map[string]any)["tap_stream_id"] == "plans" {
						keep = append(keep, e)
					}
				}
				cat["streams"] = keep
				entry := keep[0].(map[string]any)
				for _, md := range entry["metadata"].([]any) {
					m := md.(map[string]any)
					switch bc := m["breadcrumb"].([]any); {
					case len(bc) == 0:
						m["metadata"].(map[string]any)["selected"] = true
					case len(bc) == 2 && bc[1] == "name":
						m["metadata"].(map[string]any)["selected"] = false
					}
				}
				args = append(args, "--catalog", writeFile(t, dir, "catalog.json", cat))
			}
			r := runInProcess(t, "bad data: "+tt.name, env{clientOptions: fastRetries}, args...)
			if r.code != tt.code {
				t.Fatalf("exit %d, want %d; %q", r.code, tt.code, r.errorLines())
			}
			noStackTrace(t, r.stderr)
			lines := r.errorLines()
			if want := tt.wantLine(front.URL); want == "" && len(lines) != 0 || want != "" && (len(lines) != 1 || lines[0] != want) {
				t.Errorf("error lines %q,\nwant %q", lines, want)
			}
			tt.check(t, parseOutput(t, r.stdout, false))
		})
	}
}
