package cli

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tap-recurly/tap-recurly/recurlytest"
	"github.com/tap-recurly/tap-recurly/singer"
)

// badInputNow is the clock of the bad-input runs: after the simulated
// site's data, so the signpost (and the end_time in URLs) is fixed.
var badInputNow = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

// discoveredCatalog is the tap's own catalog as generic JSON, for tests to
// break in one place.
func discoveredCatalog(t *testing.T) map[string]any {
	t.Helper()
	cat, err := Discover()
	if err != nil {
		t.Fatal(err)
	}
	b, err := singer.MarshalCatalog(cat)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// catalogWith returns the discovered catalog with fn applied to the
// accounts entry, moved to streams[0].
func catalogWith(t *testing.T, fn func(entry map[string]any)) map[string]any {
	t.Helper()
	m := discoveredCatalog(t)
	all := m["streams"].([]any)
	for i, e := range all { // accounts first
		if e.(map[string]any)["tap_stream_id"] == "accounts" {
			all[0], all[i] = all[i], all[0]
		}
	}
	entry := all[0].(map[string]any)
	if entry["tap_stream_id"] != "accounts" {
		t.Fatalf("streams[0] is %v, not accounts", entry["tap_stream_id"])
	}
	fn(entry)
	return m
}

// TestBadInput holds every bad-input case of issue 5 item 4: bad config,
// state and catalog files (exit 2) and the API refusing the tap (exit 1).
// Each prints exactly one error line naming the file and key, or the API
// problem; no stack trace; and nothing at all on stdout. Input files are
// all refused before anything is logged, so for them stderr is that line
// alone. API refusals come before the first SCHEMA (SCHEMA is written when
// a stream's first page is answered), so stdout stays empty there too.
func TestBadInput(t *testing.T) {
	srv := newTestSite(t, recurlytest.Config{Seed: 71, Counts: smallCounts})
	forbidden := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusForbidden)
		w.Write([]byte(`{"error":{"type":"forbidden","message":"This API key is not permitted to access this resource."}}`))
	}))
	defer forbidden.Close()
	// A site that no longer accepts v2018-08-09: the front asks the
	// simulated site for another version, and it answers 406.
	versionGone := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Header.Set("Accept", "application/vnd.recurly.v2099-01-01")
		srv.Site.ServeHTTP(w, r)
	}))
	defer versionGone.Close()

	good := func(edit func(m map[string]any)) map[string]any {
		m := siteConfig(srv, "")
		m["max_workers"] = 1 // one request at a time: the first one (account_acquisitions) is the one refused
		if edit != nil {
			edit(m)
		}
		return m
	}
	const firstRequest = "GET /sites/subdomain-demo/acquisitions?begin_time=2019-01-01T00%3A00%3A00Z&end_time=2026-11-01T00%3A00%3A00Z&limit=200&order=asc&sort=updated_at"

	tests := []struct {
		name    string
		config  any // nil: no config file at the path given
		state   any // nil: no --state
		catalog any // nil: no --catalog
		code    int
		want    string // the error line; {dir} is the files' folder
	}{
		// Config file.
		{name: "config missing", code: ExitBadInput,
			want: "{dir}/config.json: cannot read: no such file"},
		{name: "config empty", config: "", code: ExitBadInput,
			want: "{dir}/config.json: file is empty; expected a JSON object"},
		{name: "config only white space", config: " \n\t\n", code: ExitBadInput,
			want: "{dir}/config.json: file is empty; expected a JSON object"},
		{name: "config not JSON", config: "api_key: abc\nsubdomain: demo\n", code: ExitBadInput,
			want: "{dir}/config.json: not a JSON object: invalid JSON at line 1"},
		{name: "config cut off", config: `{"api_key": "` + testAPIKey + `", "subdomain": `, code: ExitBadInput,
			want: "{dir}/config.json: not a JSON object: unexpected end of file"},
		{name: "config a JSON array", config: `["api_key"]`, code: ExitBadInput,
			want: "{dir}/config.json: not a JSON object: the top level is array, not an object"},
		{name: "required api_key missing", config: good(func(m map[string]any) { delete(m, "api_key") }), code: ExitBadInput,
			want: "{dir}/config.json: api_key: required"},
		{name: "required subdomain missing", config: good(func(m map[string]any) { delete(m, "subdomain") }), code: ExitBadInput,
			want: "{dir}/config.json: subdomain: required"},
		{name: "required start_date missing", config: good(func(m map[string]any) { delete(m, "start_date") }), code: ExitBadInput,
			want: "{dir}/config.json: start_date: required"},
		{name: "api_key empty", config: good(func(m map[string]any) { m["api_key"] = "  " }), code: ExitBadInput,
			want: "{dir}/config.json: api_key: required, got an empty string"},
		{name: "api_key a number", config: good(func(m map[string]any) { m["api_key"] = 12345 }), code: ExitBadInput,
			want: "{dir}/config.json: api_key: must be a string, got a number"},
		{name: "subdomain an object", config: good(func(m map[string]any) { m["subdomain"] = map[string]any{"name": "demo"} }), code: ExitBadInput,
			want: "{dir}/config.json: subdomain: must be a string, got an object"},
		{name: "start_date a boolean", config: good(func(m map[string]any) { m["start_date"] = true }), code: ExitBadInput,
			want: "{dir}/config.json: start_date: must be a string, got a boolean"},
		{name: "max_workers a float", config: good(func(m map[string]any) { m["max_workers"] = 2.5 }), code: ExitBadInput,
			want: "{dir}/config.json: max_workers: must be an integer, got 2.5"},
		{name: "start_date unparsable", config: good(func(m map[string]any) { m["start_date"] = "last tuesday" }), code: ExitBadInput,
			want: `{dir}/config.json: start_date: "last tuesday" is not an RFC 3339 timestamp or a YYYY-MM-DD date`},
		{name: "start_date in the future", config: good(func(m map[string]any) { m["start_date"] = "2027-01-01" }), code: ExitBadInput,
			want: "{dir}/config.json: start_date: 2027-01-01T00:00:00Z is in the future"},
		{name: "quota_limit 0", config: good(func(m map[string]any) { m["quota_limit"] = 0 }), code: ExitBadInput,
			want: "{dir}/config.json: quota_limit: must be between 1 and 100, got 0"},
		{name: "quota_limit 101", config: good(func(m map[string]any) { m["quota_limit"] = 101 }), code: ExitBadInput,
			want: "{dir}/config.json: quota_limit: must be between 1 and 100, got 101"},
		{name: "quota_limit abc", config: good(func(m map[string]any) { m["quota_limit"] = "abc" }), code: ExitBadInput,
			want: `{dir}/config.json: quota_limit: must be an integer, got "abc"`},

		// State file.
		{name: "state missing", config: good(nil), state: false, code: ExitBadInput,
			want: "{dir}/state.json: cannot read: no such file"},
		{name: "state not JSON", config: good(nil), state: "bookmarks=accounts", code: ExitBadInput,
			want: "{dir}/state.json: not a JSON object"},
		{name: "state a JSON array", config: good(nil), state: `[{"bookmarks":{}}]`, code: ExitBadInput,
			want: "{dir}/state.json: not a JSON object"},
		{name: "state bookmarks an array", config: good(nil), state: `{"bookmarks":["accounts"]}`, code: ExitBadInput,
			want: "{dir}/state.json: bookmarks: must be an object of streams"},
		{name: "state stream bookmark a string", config: good(nil), state: `{"bookmarks":{"accounts":"2024-01-01T00:00:00Z"}}`, code: ExitBadInput,
			want: "{dir}/state.json: bookmarks.accounts: must be an object"},
		{name: "state bookmark not a date", config: good(nil), state: `{"bookmarks":{"accounts":{"updated_at":"yesterday"}}}`, code: ExitBadInput,
			want: `{dir}/state.json: bookmarks.accounts.updated_at: "yesterday" is not an RFC 3339 timestamp`},
		{name: "state bookmark in the future", config: good(nil), state: `{"bookmarks":{"plans":{"updated_at":"2099-01-01T00:00:00Z"}}}`, code: ExitBadInput,
			want: "{dir}/state.json: bookmarks.plans.updated_at: 2099-01-01T00:00:00Z is in the future, more than a day past this run's start; a run from it would extract nothing: fix or remove the bookmark"},
		{name: "state bookmark a number", config: good(nil), state: `{"bookmarks":{"invoices":{"updated_at":1700000000}}}`, code: ExitBadInput,
			want: "{dir}/state.json: bookmarks.invoices.updated_at: must be an RFC 3339 timestamp string"},

		// Catalog file.
		{name: "catalog missing", config: good(nil), catalog: false, code: ExitBadInput,
			want: "{dir}/catalog.json: cannot read: no such file"},
		{name: "catalog not JSON", config: good(nil), catalog: `{"streams": [`, code: ExitBadInput,
			want: "{dir}/catalog.json: not valid JSON: unexpected end of JSON input (at byte 13)"},
		{name: "catalog unknown stream", config: good(nil), catalog: catalogWith(t, func(e map[string]any) { e["tap_stream_id"], e["stream"] = "widgets", "widgets" }), code: ExitBadInput,
			want: `{dir}/catalog.json: streams[0].tap_stream_id: unknown stream "widgets" (known: account_acquisitions, account_notes, accounts, adjustments, billing_info, coupon_redemptions, coupons, credit_payments, custom_field_definitions, invoices, plans, plans_add_ons, subscriptions, transactions, unique_coupon_codes)`},
		{name: "catalog unknown replication key", config: good(nil), catalog: catalogWith(t, func(e map[string]any) { e["replication_key"] = "created_at" }), code: ExitBadInput,
			want: `{dir}/catalog.json: streams[0].replication_key: "created_at" is not a replication key of accounts (valid: updated_at)`},

		// The API refusing the tap.
		{name: "API 401: wrong key", config: good(func(m map[string]any) { m["api_key"] = wrongAPIKey }), code: ExitFailure,
			want: "account_acquisitions: " + firstRequest + ": the API key was rejected (401 unauthorized); check the api_key setting: unauthorized: Please provide a valid API key. See https://dev.recurly.com/docs/getting-started for more information. (X-Request-Id {rid})"},
		{name: "API 403", config: good(func(m map[string]any) { m["base_url"] = forbidden.URL }), code: ExitFailure,
			want: "account_acquisitions: " + firstRequest + ": the API key lacks permission for /sites/subdomain-demo/acquisitions (403 forbidden): forbidden: This API key is not permitted to access this resource."},
		{name: "API 404: no such site", config: good(func(m map[string]any) { m["subdomain"] = "no-such-site" }), code: ExitFailure,
			want: "account_acquisitions: " + strings.Replace(firstRequest, "subdomain-demo", "subdomain-no-such-site", 1) + ": no site named subdomain-no-such-site (404 not found); check the subdomain setting (for mysite.recurly.com it is mysite): not_found: Couldn't find Site with id = subdomain-no-such-site [site_id] (X-Request-Id {rid})"},
		{name: "API 406", config: good(func(m map[string]any) { m["base_url"] = versionGone.URL }), code: ExitFailure,
			want: "account_acquisitions: " + firstRequest + ": the API does not accept the requested API version v2018-08-09 or Accept header (406 not acceptable): invalid_api_version: That accept header isn't in the format we use to specify an API version. Try one of these instead: (X-Request-Id {rid})"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			args := []string{"--config", dir + "/config.json"}
			if tt.config != nil {
				writeFile(t, dir, "config.json", tt.config)
			}
			if tt.state != nil {
				args = append(args, "--state", dir+"/state.json")
				if tt.state != false {
					writeFile(t, dir, "state.json", tt.state)
				}
			}
			if tt.catalog != nil {
				args = append(args, "--catalog", dir+"/catalog.json")
				if tt.catalog != false {
					writeFile(t, dir, "catalog.json", tt.catalog)
				}
			}
			r := runInProcess(t, "bad input: "+tt.name, env{now: func() time.Time { return badInputNow }, clientOptions: fastRetries}, args...)
			if r.code != tt.code {
				t.Errorf("exit %d, want %d", r.code, tt.code)
			}
			want := "tap-recurly: " + strings.ReplaceAll(tt.want, "{dir}", dir)
			lines := r.errorLines()
			for i, l := range lines { // the error names Recurly's request id, which the simulated site draws
				lines[i] = simRequestID.ReplaceAllString(l, "(X-Request-Id {rid})")
			}
			if len(lines) != 1 || lines[0] != want {
				t.Errorf("error lines:\n%q\nwant:\n%q", lines, want)
			}
			if tt.code == ExitBadInput && string(r.stderr) != want+"\n" {
				t.Errorf("stderr has more than the error line:\n%s", r.stderr)
			}
			noStackTrace(t, r.stderr)
			if len(r.stdout) != 0 {
				t.Errorf("stdout is not empty:\n%.500s", r.stdout)
			}
		})
	}
}

// simRequestID matches the X-Request-Id the simulated site sends, as an error line names it.
var simRequestID = regexp.MustCompile(`\(X-Request-Id [0-9a-f]+-SIM\)`)
