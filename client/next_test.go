package client

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
)

// TestListNextStaysOnListing runs a plans listing against a loopback server whose first page links on to
// each next value: a link on the listing is followed (to the listing's own path, with the link's query);
// any other ends the listing with ErrBadNext after that one request, naming what was wrong.
func TestListNextStaysOnListing(t *testing.T) {
	tests := []struct {
		name, next string
		want       string // "" : followed; else the error says this
	}{
		{"root path", "/sites/subdomain-x/plans?cursor=3&limit=200", ""},
		{"absolute URL on the API host", "{srv}/sites/subdomain-x/plans?cursor=3&limit=200", ""},
		{"unscoped path (later API versions)", "/plans?cursor=3&limit=200", ""},
		{"escaped letters", "/sites/subdomain-x/pl%61ns?cursor=3&limit=200", ""},
		{"another site", "/sites/subdomain-other/plans?cursor=3", "is not on the listing /sites/subdomain-x/plans"},
		{"another resource", "/sites/subdomain-x/invoices?cursor=3", "is not on the listing"},
		{"a sub-resource", "/sites/subdomain-x/plans/p1/add_ons?cursor=3", "is not on the listing"},
		{"an admin path", "/admin/users", "is not on the listing"},
		{"dot-dot segments", "/sites/subdomain-x/plans/../../admin", "is not on the listing"},
		{"dot-dot back onto the listing", "/sites/subdomain-x/x/../plans?cursor=3", "is not on the listing"},
		{"escaped dot-dot", "/sites/subdomain-x/plans/%2e%2e/%2E%2E/admin", "is not on the listing"},
		{"escaped slashes", "/sites%2Fsubdomain-x%2Fplans?cursor=3", "is not on the listing"},
		{"trailing slash", "/sites/subdomain-x/plans/?cursor=3", "is not on the listing"},
		{"backslash host", `/\evil.example/sites/subdomain-x/plans`, "is not on the listing"},
		{"bad escape", "/sites/subdomain-x/plans%zz?cursor=3", "is not a URL"},
		{"relative resource", "invoices?limit=200", "is relative; the API sends a path from the host's root"},
		{"relative same resource", "plans?cursor=3", "is relative"},
		{"query only", "?cursor=3", "is relative"},
		{"scheme-relative host", "//evil.example/sites/subdomain-x/plans?cursor=3", "to another host //evil.example: not the API host"},
		{"other host", "http://evil.example/sites/subdomain-x/plans?cursor=3", "to http://evil.example: not the API host"},
		{"other scheme", "https://{host}/sites/subdomain-x/plans?cursor=3", "to https://127.0.0.1"},
		{"user info", "http://u:p@{host}/sites/subdomain-x/plans?cursor=3", "carries user info"},
		{"host with no path", "{srv}?cursor=3", "is not on the listing"},
		{"opaque URL", "mailto:x@example.com", "not the API host"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var srv *scripted
			srv = newScripted(t,
				func(w http.ResponseWriter, r *http.Request) {
					next := strings.NewReplacer("{srv}", srv.URL, "{host}", srv.Listener.Addr().String()).Replace(tt.next)
					respond(200, page(true, next, "a", "b"))(w, r)
				},
				respond(200, page(false, "", "c")))
			c := newTestClient(t, srv.URL)
			var ids []string
			var lastErr error
			for p, err := range c.List(context.Background(), "plans", ListParams{}) {
				if err != nil {
					lastErr = err
					continue
				}
				for _, r := range p.Records {
					ids = append(ids, string(r[7:8]))
				}
			}
			reqs := srv.requests()
			if tt.want == "" {
				if lastErr != nil || len(reqs) != 2 || strings.Join(ids, "") != "abc" {
					t.Fatalf("err = %v, %d requests, ids %v; want the link followed", lastErr, len(reqs), ids)
				}
				if got := reqs[1].URL.RequestURI(); got != "/sites/subdomain-x/plans?cursor=3&limit=200" {
					t.Fatalf("second request %s, want the listing's path with the link's query", got)
				}
				return
			}
			if !errors.Is(lastErr, ErrBadNext) || !strings.Contains(lastErr.Error(), tt.want) {
				t.Fatalf("err = %v, want ErrBadNext saying %q", lastErr, tt.want)
			}
			if len(reqs) != 1 || strings.Join(ids, "") != "ab" {
				t.Fatalf("%d requests, ids %v; want the first page only and nothing followed", len(reqs), ids)
			}
			if strings.Contains(lastErr.Error(), "u:p") || strings.Contains(lastErr.Error(), "://127.0.0.1") && strings.Contains(tt.want, "//evil") {
				t.Fatalf("err = %v shows user info or a made-up scheme", lastErr)
			}
		})
	}
}
