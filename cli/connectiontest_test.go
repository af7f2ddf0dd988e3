package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tap-recurly/tap-recurly/recurlytest"
	"github.com/tap-recurly/tap-recurly/streams"
)

// cliTinyCounts keeps CLI tests quick: every list has a record or two pages.
var cliTinyCounts = recurlytest.Counts{Accounts: 60, LineItems: 80, Coupons: 5, Invoices: 70, Plans: 4, AddOns: 8, Subscriptions: 50, Transactions: 90}

// newSim serves a simulated site on loopback for the test's lifetime.
func startSim(t *testing.T, cfg recurlytest.Config) *recurlytest.Server {
	t.Helper()
	srv, err := recurlytest.NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return srv
}

// simConfig writes a config file pointing at srv and returns its path.
// overrides replace or add keys.
func writeSimConfig(t *testing.T, srv *recurlytest.Server, overrides map[string]any) string {
	t.Helper()
	cfg := map[string]any{
		"api_key":    srv.Site.APIKey(),
		"subdomain":  strings.TrimPrefix(srv.Site.SiteID(), "subdomain-"),
		"start_date": "2019-01-01T00:00:00Z",
		"base_url":   srv.URL,
	}
	for k, v := range overrides {
		cfg[k] = v
	}
	return tempFile(t, "config.json", cfg)
}

// writeFile writes v as JSON (or a string as is) to a new file in a
// temporary folder and returns its path.
func tempFile(t *testing.T, name string, v any) string {
	t.Helper()
	var data []byte
	if s, ok := v.(string); ok {
		data = []byte(s)
	} else {
		var err error
		if data, err = json.Marshal(v); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// runTap runs the command line in-process and returns its exit code,
// stdout and stderr.
func runCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(args, env{stdout: &stdout, stderr: &stderr, now: time.Now})
	return code, stdout.String(), stderr.String()
}

// testTable parses the --test table on stderr: stream -> result and detail.
func reportRows(t *testing.T, stderr string) map[string][2]string {
	t.Helper()
	rows := map[string][2]string{}
	inTable := false
	for _, line := range strings.Split(stderr, "\n") {
		f := strings.Fields(line)
		if len(f) >= 3 && f[0] == "STREAM" && f[1] == "RESULT" && f[2] == "DETAIL" {
			inTable = true
			continue
		}
		if !inTable || len(f) < 2 {
			continue
		}
		if _, ok := streams.ByName(f[0]); !ok {
			continue
		}
		rows[f[0]] = [2]string{f[1], strings.Join(f[2:], " ")}
	}
	return rows
}

func TestConnectionTest(t *testing.T) {
	srv := startSim(t, recurlytest.Config{Seed: 1})
	const badKey = "bad-key-0123456789abcdef"
	tests := []struct {
		name       string
		overrides  map[string]any
		wantCode   int
		wantResult string
		wantDetail []string // substrings of every row's detail
		secret     string   // must appear nowhere in the output
	}{
		{name: "good key", wantCode: ExitOK, wantResult: testOK,
			wantDetail: []string{"GET /sites/" + srv.Site.SiteID() + "/", "?limit=1&order=asc&sort=updated_at: 1 record(s) on the first page"},
			secret:     srv.Site.APIKey()},
		{name: "bad key", overrides: map[string]any{"api_key": badKey}, wantCode: ExitFailure, wantResult: testFailed,
			wantDetail: []string{"401", "the API key was rejected"},
			secret:     badKey},
		{name: "unknown site", overrides: map[string]any{"subdomain": "nosuchsite"}, wantCode: ExitFailure, wantResult: testFailed,
			wantDetail: []string{"404", "no site named subdomain-nosuchsite"},
			secret:     srv.Site.APIKey()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := writeSimConfig(t, srv, tc.overrides)
			code, stdout, stderr := runCmd(t, "--config", cfg, "--test")
			if code != tc.wantCode {
				t.Fatalf("exit code %d, want %d; stderr:\n%s", code, tc.wantCode, stderr)
			}
			if stdout != "" {
				t.Errorf("--test wrote to stdout: %q", stdout)
			}
			if strings.Contains(stdout+stderr, tc.secret) {
				t.Errorf("the API key %q appears in the output:\n%s", tc.secret, stderr)
			}
			rows := reportRows(t, stderr)
			defaults := 0
			for _, st := range streams.All() {
				if st.OptIn {
					continue // not selected without a catalog
				}
				defaults++
				row, ok := rows[st.Name]
				if !ok {
					t.Errorf("no row for %s in:\n%s", st.Name, stderr)
					continue
				}
				if row[0] != tc.wantResult {
					t.Errorf("%s: result %s, want %s (%s)", st.Name, row[0], tc.wantResult, row[1])
				}
				want := tc.wantDetail
				if st.PerParent() && tc.wantCode == ExitOK {
					// The first bulk coupon's codes: its count on a page of one may be 0.
					want = []string{"GET /sites/" + srv.Site.SiteID() + "/coupons/", "/unique_coupon_codes?limit=1&", "(the first coupon with coupon_type bulk;"}
				}
				for _, want := range want {
					if !strings.Contains(row[1], want) {
						t.Errorf("%s: detail %q lacks %q", st.Name, row[1], want)
					}
				}
			}
			if len(rows) != defaults {
				t.Errorf("%d rows, want %d:\n%s", len(rows), defaults, stderr)
			}
			if tc.wantCode != ExitOK && !strings.Contains(stderr, fmt.Sprintf("tap-recurly: connection test: %d of %d selected streams failed", defaults, defaults)) {
				t.Errorf("no summary error line in:\n%s", stderr)
			}
		})
	}
}

// TestConnectionTestRequests checks what --test asks of the site: one list
// page with limit=1 per distinct listing (billing_info shares the accounts
// request), for the selected streams only.
func TestConnectionTestRequests(t *testing.T) {
	srv := startSim(t, recurlytest.Config{Seed: 1, Counts: cliTinyCounts})
	cfg := writeSimConfig(t, srv, nil)
	catalog := catalogSelecting(t, "accounts", "billing_info", "invoices")
	code, stdout, stderr := runCmd(t, "--config", cfg, "--catalog", catalog, "--test")
	if code != ExitOK {
		t.Fatalf("exit code %d; stderr:\n%s", code, stderr)
	}
	if stdout != "" {
		t.Errorf("stdout: %q", stdout)
	}
	rows := reportRows(t, stderr)
	if len(rows) != 3 || rows["accounts"][0] != testOK || rows["billing_info"][0] != testOK || rows["invoices"][0] != testOK {
		t.Errorf("rows %v, want accounts, billing_info and invoices OK", rows)
	}
	got := map[string]int{}
	for _, r := range srv.Site.Requests() {
		if !queryHasLimit1(r.RawQuery) {
			t.Errorf("request %s?%s does not ask for limit=1", r.Path, r.RawQuery)
		}
		got[r.Path]++
	}
	site := "/sites/" + srv.Site.SiteID()
	want := map[string]int{site + "/accounts": 1, site + "/invoices": 1}
	if len(got) != len(want) || got[site+"/accounts"] != 1 || got[site+"/invoices"] != 1 {
		t.Errorf("requests %v, want %v", got, want)
	}
}

// TestConnectionTestPerParent checks --test on the per-parent streams: one
// request for each stream's child list of the first parent, with only the
// parameters that list takes, after one request finding that parent (per
// parent list).
func TestConnectionTestPerParent(t *testing.T) {
	srv := startSim(t, recurlytest.Config{Seed: 1})
	catalog := catalogSelecting(t, "unique_coupon_codes", "coupon_redemptions", "account_notes")
	code, stdout, stderr := runCmd(t, "--config", writeSimConfig(t, srv, nil), "--catalog", catalog, "--test")
	if code != ExitOK || stdout != "" {
		t.Fatalf("exit code %d, stdout %q; stderr:\n%s", code, stdout, stderr)
	}
	rows := reportRows(t, stderr)
	if len(rows) != 3 {
		t.Errorf("rows %v, want the three per-parent streams", rows)
	}
	firstAccount := srv.Site.Keys(recurlytest.Accounts)[0].ID
	site := "/sites/" + srv.Site.SiteID()
	for name, detail := range map[string]string{
		"coupon_redemptions": "GET " + site + "/accounts/" + firstAccount + "/coupon_redemptions: ",
		"account_notes":      "GET " + site + "/accounts/" + firstAccount + "/notes: ",
	} {
		if rows[name][0] != testOK || !strings.Contains(rows[name][1], detail) {
			t.Errorf("%s: %v, want OK with %q", name, rows[name], detail)
		}
	}
	got := map[string]string{}
	for _, r := range srv.Site.Requests() {
		if _, dup := got[r.Path]; dup || r.Status != http.StatusOK {
			t.Errorf("request %s?%s: status %d, or asked twice", r.Path, r.RawQuery, r.Status)
		}
		got[r.Path] = r.RawQuery
	}
	if len(got) != 5 || got[site+"/accounts"] != "limit=1&order=asc&sort=created_at" || got[site+"/coupons"] != "limit=200&order=asc&sort=created_at" ||
		got[site+"/accounts/"+firstAccount+"/notes"] != "" || got[site+"/accounts/"+firstAccount+"/coupon_redemptions"] != "" {
		t.Errorf("requests %v, want the first account, a page of coupons, and one child list each", got)
	}
}

func queryHasLimit1(rawQuery string) bool {
	for _, kv := range strings.Split(rawQuery, "&") {
		if kv == "limit=1" {
			return true
		}
	}
	return false
}

func TestConnectionTestNothingSelected(t *testing.T) {
	srv := startSim(t, recurlytest.Config{Seed: 1, Counts: cliTinyCounts})
	code, stdout, stderr := runCmd(t, "--config", writeSimConfig(t, srv, nil), "--catalog", catalogSelecting(t), "--test")
	if code != ExitFailure || stdout != "" || !strings.Contains(stderr, "no stream is selected") {
		t.Errorf("exit %d, stdout %q, stderr:\n%s", code, stdout, stderr)
	}
	if n := len(srv.Site.Requests()); n != 0 {
		t.Errorf("%d requests made with nothing selected", n)
	}
}

// selectOnly writes a catalog (the discovered one) with only the named
// streams selected and returns its path.
func catalogSelecting(t *testing.T, names ...string) string {
	t.Helper()
	cat, err := Discover()
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Streams []map[string]any `json:"streams"`
	}
	b, err := json.Marshal(cat)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	for _, s := range doc.Streams {
		for _, md := range s["metadata"].([]any) {
			m := md.(map[string]any)
			if len(m["breadcrumb"].([]any)) == 0 {
				m["metadata"].(map[string]any)["selected"] = want[s["tap_stream_id"].(string)]
			}
		}
	}
	return tempFile(t, "catalog.json", doc)
}

// TestConnectionTestWarnsDeprecation checks that --test prints Recurly's
// deprecation notice, with the version and the sunset date, under its table,
// when the site marks the API version deprecated.
func TestConnectionTestWarnsDeprecation(t *testing.T) {
	srv := startSim(t, recurlytest.Config{Seed: 1})
	target, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.ModifyResponse = func(r *http.Response) error {
		r.Header.Set("Recurly-Deprecated", "TRUE")
		r.Header.Set("Recurly-Sunset-Date", "2027-03-01T00:00:00Z")
		return nil
	}
	deprecated := httptest.NewServer(proxy)
	t.Cleanup(deprecated.Close)
	cfg := writeSimConfig(t, srv, map[string]any{"base_url": deprecated.URL})
	code, _, stderr := runCmd(t, "--config", cfg, "--test")
	if code != ExitOK {
		t.Fatalf("exit %d; stderr:\n%s", code, stderr)
	}
	table := strings.Index(stderr, "STREAM")
	note := strings.LastIndex(stderr, "WARNING: Recurly marks API version v2018-08-09 as deprecated; its sunset date is 2027-03-01T00:00:00Z")
	if table < 0 || note < table {
		t.Fatalf("no deprecation notice under the table:\n%s", stderr)
	}
}

// TestConnectionTestRetriesBriefly checks that --test gives up on an API
// that keeps failing after testRetries retries per request, not after the
// sync's eight.
func TestConnectionTestRetriesBriefly(t *testing.T) {
	srv := startSim(t, recurlytest.Config{Seed: 1})
	var mu sync.Mutex
	perPath := map[string]int{}
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		perPath[r.URL.RequestURI()]++ // one request may share its path with another (a parent list)
		mu.Unlock()
		// Generous rate-limit headers, so the quota layer does not slow the test to one request a second.
		w.Header().Set("X-RateLimit-Limit", "100000")
		w.Header().Set("X-RateLimit-Remaining", "99000")
		w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(time.Now().Add(time.Minute).Unix(), 10))
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	t.Cleanup(down.Close)
	cfg := writeSimConfig(t, srv, map[string]any{"base_url": down.URL})
	code, _, stderr := runCmd(t, "--config", cfg, "--test")
	if code != ExitFailure || !strings.Contains(stderr, "after 3 attempts") {
		t.Fatalf("exit %d; stderr:\n%s", code, stderr)
	}
	mu.Lock()
	defer mu.Unlock()
	for path, n := range perPath {
		if n != testRetries+1 {
			t.Errorf("%s: %d requests, want %d", path, n, testRetries+1)
		}
	}
	if len(perPath) == 0 {
		t.Fatal("no request reached the server")
	}
}
