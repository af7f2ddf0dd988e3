package recurlytest

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestErrors(t *testing.T) {
	srv := newTestServer(t, Config{Seed: 1, Counts: smallCounts})
	acctNoBilling, acctWithBilling := "", ""
	withBilling := map[string]bool{}
	for _, k := range srv.Site.BillingInfoKeys() {
		withBilling[k.ID] = true
	}
	for _, k := range srv.Site.Keys(Accounts) {
		if withBilling[k.ID] {
			acctWithBilling = k.ID
		} else {
			acctNoBilling = k.ID
		}
	}
	tampered := tamperedCursor(t, srv)
	setAccept := func(v string) func(*http.Request) {
		return func(r *http.Request) {
			if v == "" {
				r.Header.Del("Accept")
			} else {
				r.Header.Set("Accept", v)
			}
		}
	}
	tests := []struct {
		name   string
		method string
		path   string
		edit   func(*http.Request)
		status int
		typ    string
		param  string
	}{
		{"limit 0", "GET", "/sites/subdomain-demo/accounts?limit=0", nil, 400, "bad_request", "limit"},
		{"limit 201", "GET", "/sites/subdomain-demo/accounts?limit=201", nil, 400, "bad_request", "limit"},
		{"limit not a number", "GET", "/sites/subdomain-demo/accounts?limit=ten", nil, 400, "bad_request", "limit"},
		{"sort collected_at", "GET", "/sites/subdomain-demo/transactions?sort=collected_at", nil, 400, "bad_request", "sort"},
		{"order up", "GET", "/sites/subdomain-demo/accounts?order=up", nil, 400, "bad_request", "order"},
		{"bad begin_time", "GET", "/sites/subdomain-demo/accounts?begin_time=yesterday", nil, 400, "bad_request", "begin_time"},
		{"bad end_time", "GET", "/sites/subdomain-demo/accounts?end_time=2020-13-45", nil, 400, "bad_request", "end_time"},
		{"ids with limit", "GET", "/sites/subdomain-demo/accounts?ids=a,b&limit=5", nil, 400, "bad_request", "ids"},
		{"ids with sort", "GET", "/sites/subdomain-demo/accounts?ids=a&sort=updated_at", nil, 400, "bad_request", "ids"},
		{"too many ids", "GET", "/sites/subdomain-demo/accounts?ids=" + strings.Repeat("x,", 201), nil, 400, "bad_request", "ids"},
		{"unknown param", "GET", "/sites/subdomain-demo/accounts?color=blue", nil, 400, "bad_request", "color"},
		{"filter of another list", "GET", "/sites/subdomain-demo/coupons?state=active", nil, 400, "bad_request", "state"},
		{"bad filter value", "GET", "/sites/subdomain-demo/plans?state=gone", nil, 400, "bad_request", "state"},
		{"garbage cursor", "GET", "/sites/subdomain-demo/accounts?cursor=garbage", nil, 400, "bad_request", "cursor"},
		{"tampered cursor", "GET", "/sites/subdomain-demo/accounts?cursor=" + tampered, nil, 400, "bad_request", "cursor"},
		{"no auth", "GET", "/sites/subdomain-demo/accounts", func(r *http.Request) { r.Header.Del("Authorization") }, 401, "unauthorized", ""},
		{"wrong key", "GET", "/sites/subdomain-demo/accounts", func(r *http.Request) { r.SetBasicAuth("nope", "") }, 401, "unauthorized", ""},
		{"key as password", "GET", "/sites/subdomain-demo/accounts", func(r *http.Request) { r.SetBasicAuth("", "sim-key") }, 401, "unauthorized", ""},
		{"old version", "GET", "/sites/subdomain-demo/accounts", setAccept("application/vnd.recurly.v2018-06-06"), 406, "invalid_api_version", ""},
		{"newer version", "GET", "/sites/subdomain-demo/accounts", setAccept("application/vnd.recurly.v2019-10-10"), 406, "invalid_api_version", ""},
		{"malformed version", "GET", "/sites/subdomain-demo/accounts", setAccept("application/vnd.recurly.latest"), 406, "invalid_api_version", ""},
		{"unknown site", "GET", "/sites/subdomain-nope/accounts", nil, 404, "not_found", "site_id"},
		{"unknown account", "GET", "/sites/subdomain-demo/accounts/mzzzzzzzzzzzz", nil, 404, "not_found", "account_id"},
		{"no billing info", "GET", "/sites/subdomain-demo/accounts/" + acctNoBilling + "/billing_info", nil, 404, "not_found", "account_id"},
		{"unknown route", "GET", "/sites/subdomain-demo/widgets", nil, 404, "not_found", ""},
		{"post", "POST", "/sites/subdomain-demo/accounts", nil, 405, "bad_request", ""},
		{"ok +json", "GET", "/sites/subdomain-demo/accounts?limit=1", setAccept("application/vnd.recurly.v2018-08-09+json"), 200, "", ""},
		{"ok no accept", "GET", "/sites/subdomain-demo/accounts?limit=1", setAccept(""), 200, "", ""},
		{"ok application/json", "GET", "/sites/subdomain-demo/accounts?limit=1", setAccept("application/json"), 200, "", ""},
		{"ok plain site id", "GET", "/sites/" + srv.Site.PlainSiteID() + "/accounts?limit=1", nil, 200, "", ""},
		{"ok billing info with list params", "GET", "/sites/subdomain-demo/accounts/" + acctWithBilling + "/billing_info?limit=200&sort=updated_at&order=asc", nil, 200, "", ""},
		{"ok single account", "GET", "/sites/subdomain-demo/accounts/" + acctWithBilling, nil, 200, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := do(t, srv, tt.method, tt.path, tt.edit)
			if res.status != tt.status {
				t.Fatalf("status %d, want %d: %.300s", res.status, tt.status, res.body)
			}
			for _, h := range []string{"Recurly-Version", "Content-Type", "X-Request-Id", "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"} {
				if res.header.Get(h) == "" {
					t.Errorf("missing header %s", h)
				}
			}
			if res.header.Get("Recurly-Version") != "recurly.v2018-08-09" || res.header.Get("Content-Type") != "application/json; charset=utf-8" {
				t.Errorf("headers: %v", res.header)
			}
			if tt.status == 200 {
				var m map[string]any
				if err := json.Unmarshal(res.body, &m); err != nil {
					t.Fatalf("body: %v", err)
				}
				return
			}
			var e errEnvelope
			if err := json.Unmarshal(res.body, &e); err != nil {
				t.Fatalf("error body %s: %v", res.body, err)
			}
			if e.Error.Type != tt.typ || e.Error.Message == "" {
				t.Fatalf("error %+v, want type %s", e.Error, tt.typ)
			}
			if tt.param != "" && (len(e.Error.Params) == 0 || e.Error.Params[0].Param != tt.param) {
				t.Fatalf("params %+v, want %s", e.Error.Params, tt.param)
			}
			if tt.status == 406 && (len(e.Error.Acceptable) != 10 || e.Error.Acceptable[9] != "application/vnd.recurly.v2018-08-09") {
				t.Fatalf("acceptable_accept_headers = %v", e.Error.Acceptable)
			}
			if tt.name == "unknown site" && e.Error.Message != "Couldn't find Site with id = subdomain-nope" {
				t.Fatalf("message %q", e.Error.Message)
			}
		})
	}
}

func TestCursorOfAnotherSortIsRejected(t *testing.T) {
	srv := newTestServer(t, Config{Seed: 1, Counts: smallCounts})
	res := do(t, srv, "GET", "/sites/subdomain-demo/accounts?limit=1&sort=updated_at", nil)
	var env envelope
	if err := json.Unmarshal(res.body, &env); err != nil || env.Next == nil {
		t.Fatalf("%s", res.body)
	}
	swapped := strings.Replace(*env.Next, "sort=updated_at", "sort=created_at", 1)
	if res := do(t, srv, "GET", swapped, nil); res.status != 400 {
		t.Fatalf("cursor with another sort: %d", res.status)
	}
	if res := do(t, srv, "GET", *env.Next, nil); res.status != 200 {
		t.Fatalf("next: %d %s", res.status, res.body)
	}
}

func TestRequestIDsAreUnique(t *testing.T) {
	srv := newTestServer(t, Config{Seed: 1, Counts: smallCounts})
	seen := map[string]bool{}
	for i := range 20 {
		id := do(t, srv, "HEAD", "/sites/subdomain-demo/plans", nil).header.Get("X-Request-Id")
		if seen[id] {
			t.Fatalf("request %d: duplicate X-Request-Id %s", i, id)
		}
		seen[id] = true
	}
}

// tamperedCursor takes a real cursor and changes one character of it.
func tamperedCursor(t *testing.T, srv *Server) string {
	res := do(t, srv, "GET", "/sites/subdomain-demo/accounts?limit=1", nil)
	var env envelope
	if err := json.Unmarshal(res.body, &env); err != nil || env.Next == nil {
		t.Fatalf("no next: %.300s", res.body)
	}
	u, err := url.Parse(*env.Next)
	if err != nil {
		t.Fatal(err)
	}
	c := []byte(u.Query().Get("cursor"))
	if c[5] == 'A' {
		c[5] = 'B'
	} else {
		c[5] = 'A'
	}
	return string(c)
}
