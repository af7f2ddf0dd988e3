package recurlytest

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"testing"
	"time"
)

// rawGet sends one authenticated GET on a fresh connection (so the
// transport never retries it) and reports the status, or the transport or
// body error.
func rawGet(t *testing.T, srv *Server, path string) (int, http.Header, []byte, error) {
	t.Helper()
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	req, _ := http.NewRequest("GET", srv.URL+path, nil)
	req.SetBasicAuth(srv.Site.APIKey(), "")
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b, err
}

func TestFaultsAppearAtTheirProbability(t *testing.T) {
	const n = 600
	f := Faults{Status500: 0.1, Status502: 0.1, Status503: 0.1, Status429: 0.1, ConnReset: 0.1, Truncate: 0.1, RetryAfter: 2500 * time.Millisecond}
	srv := newTestServer(t, Config{Seed: 21, Counts: smallCounts, RateLimit: 1 << 30, Faults: f})
	seen := map[string]int{}
	for i := range n {
		status, h, body, err := rawGet(t, srv, "/sites/subdomain-demo/accounts?limit=3")
		log := srv.Site.Requests()
		entry := log[len(log)-1]
		if len(log) != i+1 {
			t.Fatalf("log has %d entries after %d requests", len(log), i+1)
		}
		seen[entry.Fault]++
		switch entry.Fault {
		case "reset":
			if err == nil || entry.Status != 0 {
				t.Fatalf("reset: client got %d %v, log status %d", status, err, entry.Status)
			}
		case "truncate":
			if err == nil || !errors.Is(err, io.ErrUnexpectedEOF) || json.Valid(body) || entry.Status != 200 {
				t.Fatalf("truncate: status %d err %v valid json %v", status, err, json.Valid(body))
			}
		case "500", "502", "503", "429":
			if err != nil || http.StatusText(status) == "" || entry.Status != status || itoa(status) != entry.Fault {
				t.Fatalf("fault %s: got %d %v", entry.Fault, status, err)
			}
			var e errEnvelope
			if json.Unmarshal(body, &e) != nil || e.Error.Type == "" {
				t.Fatalf("fault %s body %s", entry.Fault, body)
			}
			if status == 429 && h.Get("Retry-After") != "3" {
				t.Fatalf("fault 429 Retry-After %q, want 3", h.Get("Retry-After"))
			}
		case "":
			if err != nil || status != 200 || !json.Valid(body) {
				t.Fatalf("no fault: %d %v", status, err)
			}
		default:
			t.Fatalf("unexpected fault %q", entry.Fault)
		}
	}
	for _, name := range []string{"500", "502", "503", "429", "reset", "truncate"} {
		// Expect 60 each; binomial sd ~7.3, so 30..95 is far outside chance.
		if seen[name] < 30 || seen[name] > 95 {
			t.Errorf("fault %s seen %d times in %d requests, want about 60", name, seen[name], n)
		}
	}
	if seen[""] < 180 || seen[""] > 300 {
		t.Errorf("%d requests without fault, want about 240", seen[""])
	}
}

func TestFaultSequenceIsReproducible(t *testing.T) {
	f := Faults{Status500: 0.2, Status503: 0.2, Status429: 0.2}
	run := func(seed int64) []string {
		srv := newTestServer(t, Config{Seed: seed, Counts: smallCounts, Faults: f})
		for range 40 {
			rawGet(t, srv, "/sites/subdomain-demo/plans?limit=1")
		}
		var out []string
		for _, r := range srv.Site.Requests() {
			out = append(out, r.Fault)
		}
		return out
	}
	a, b, c := run(5), run(5), run(6)
	if !slices.Equal(a, b) {
		t.Fatalf("same seed, different faults:\n%v\n%v", a, b)
	}
	if slices.Equal(a, c) {
		t.Fatalf("different seeds gave the same 40 faults: %v", a)
	}
}

func TestDownAndSetFaults(t *testing.T) {
	srv := newTestServer(t, Config{Seed: 1, Counts: smallCounts})
	srv.Site.SetFaults(Faults{Down: true})
	for _, auth := range []bool{true, false} {
		req, _ := http.NewRequest("GET", srv.URL+"/sites/subdomain-demo/accounts", nil)
		if auth {
			req.SetBasicAuth("sim-key", "")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 503 {
			t.Fatalf("down: status %d", resp.StatusCode)
		}
	}
	srv.Site.SetFaults(Faults{})
	if status, _, _, err := rawGet(t, srv, "/sites/subdomain-demo/accounts"); status != 200 || err != nil {
		t.Fatalf("after recovery: %d %v", status, err)
	}
	log := srv.Site.Requests()
	if len(log) != 3 || log[0].Fault != "down" || log[1].Fault != "down" || log[2].Fault != "" || log[0].Status != 503 || log[2].Status != 200 {
		t.Fatalf("log %+v", log)
	}
}

func TestRequestLog(t *testing.T) {
	clock := &fakeClock{t: t0}
	srv := newTestServer(t, Config{Seed: 1, Counts: smallCounts, Now: clock.Now, Latency: 20 * time.Millisecond})
	do(t, srv, "GET", "/sites/subdomain-demo/accounts?limit=2&order=asc", nil)
	clock.Set(t0.Add(time.Second))
	srv.Site.SetLatency(0)
	do(t, srv, "HEAD", "/sites/subdomain-demo/nothing", nil)
	got := srv.Site.Requests()
	want := []Request{
		{Method: "GET", Path: "/sites/subdomain-demo/accounts", RawQuery: "limit=2&order=asc", Status: 200, At: t0},
		{Method: "HEAD", Path: "/sites/subdomain-demo/nothing", Status: 404, At: t0.Add(time.Second)},
	}
	if len(got) != len(want) {
		t.Fatalf("log %+v", got)
	}
	for i := range want {
		g := got[i]
		g.Duration = 0
		if g != want[i] {
			t.Fatalf("entry %d = %+v, want %+v", i, g, want[i])
		}
	}
	if got[0].Duration < 20*time.Millisecond {
		t.Fatalf("latency not applied: %v", got[0].Duration)
	}
	srv.Site.ResetRequests()
	if len(srv.Site.Requests()) != 0 {
		t.Fatal("ResetRequests left entries")
	}
}

func TestInvalidConfig(t *testing.T) {
	tests := []Config{
		{Faults: Faults{Status500: 1.5}},
		{Faults: Faults{Status500: 0.6, Status503: 0.6}},
		{RateLimit: -1},
		{RateWindow: time.Second, RateBuckets: 5},
		{Start: t0, End: t0},
		{SiteID: "a/b"},
	}
	for i, cfg := range tests {
		if _, err := NewSite(cfg); err == nil {
			t.Errorf("config %d accepted: %+v", i, cfg)
		}
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func TestParseDrift(t *testing.T) {
	tests := []struct {
		in   string
		want Drift
		bad  bool
	}{
		{"", Drift{}, false},
		{"unknown-fields", Drift{UnknownFields: true}, false},
		{"string-total, bad-value", Drift{StringTotal: true, BadValue: true}, false},
		{"all", Drift{true, true, true, true}, false},
		{"string-valid", Drift{StringValid: true}, false},
		{"unknown", Drift{}, true},
	}
	for _, tc := range tests {
		got, err := ParseDrift(tc.in)
		if (err != nil) != tc.bad || got != tc.want {
			t.Errorf("ParseDrift(%q) = %+v, %v; want %+v (error %v)", tc.in, got, err, tc.want, tc.bad)
		}
	}
}

// TestSkipping: the records a listing skips are exactly skip of them (all
// when skip reaches n), the same for every listing.
func TestSkipping(t *testing.T) {
	all := func(int) bool { return true }
	for _, n := range []int{1, 2, 3, 7, 450, 1000, 4001} {
		for _, skip := range []int{1, 2, 3, 10, 449, 450, 5000} {
			keep := skipping(n, skip, all)
			want := map[int]bool{}
			for j := range min(skip, n) {
				want[n*(j+1)/(min(skip, n)+1)] = true
			}
			skipped := 0
			for i := range n {
				if !keep(i) {
					skipped++
					if !want[i] {
						t.Fatalf("n %d skip %d: skipped %d, not one of %v", n, skip, i, want)
					}
				}
			}
			if skipped != len(want) || skipped != min(skip, n) {
				t.Errorf("n %d skip %d: %d skipped, want %d", n, skip, skipped, min(skip, n))
			}
		}
	}
}

// TestSkipRecordsListing: with SkipRecords, a site-level list's pages leave
// out that many records its HEAD count still includes; a child list skips
// none, and the default skips nothing.
func TestSkipRecordsListing(t *testing.T) {
	for _, tt := range []struct {
		skip, wantListed int
	}{{0, 450}, {3, 447}} {
		srv := newTestServer(t, Config{Seed: 3, Counts: Counts{Accounts: 450, Coupons: 2, CouponRedemptions: 40}, SkipRecords: tt.skip})
		got, pages := pageAll(t, srv, "/sites/subdomain-demo/accounts?limit=200&sort=updated_at&order=asc")
		head := do(t, srv, "HEAD", "/sites/subdomain-demo/accounts?sort=updated_at", nil)
		if len(got) != tt.wantListed || pages != 3 || head.header.Get("Recurly-Total-Records") != "450" {
			t.Errorf("skip %d: %d accounts listed over %d pages, count %q; want %d over 3, count 450",
				tt.skip, len(got), pages, head.header.Get("Recurly-Total-Records"), tt.wantListed)
		}
		if n := len(pageKind(t, srv, kRedemption)); n != 40 {
			t.Errorf("skip %d: %d coupon redemptions over the child lists, want 40", tt.skip, n)
		}
	}
}
