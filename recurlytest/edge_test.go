package recurlytest

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// rawDo sends a request without the transport's transparent gzip handling,
// so the test sees the answer as the wire carried it.
func rawDo(t *testing.T, srv *Server, method, path, acceptEncoding string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(srv.Site.APIKey(), "")
	req.Header.Set("Accept", "application/vnd.recurly.v2018-08-09")
	if acceptEncoding != "" {
		req.Header.Set("Accept-Encoding", acceptEncoding)
	}
	tr := &http.Transport{DisableCompression: true}
	defer tr.CloseIdleConnections()
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading: %v", method, path, err)
	}
	return resp, body
}

func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("not gzip: %v", err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("bad gzip: %v", err)
	}
	return out
}

func TestGzipWhenAskedStreamedWithoutContentLength(t *testing.T) {
	srv := newTestServer(t, Config{Seed: 31, Counts: smallCounts, RateLimit: 1 << 30})
	acct := srv.Site.Keys(Accounts)[0].ID
	for _, c := range []struct {
		name, path string
		status     int
	}{
		{"list page", "/sites/subdomain-demo/invoices?limit=200&sort=updated_at&order=asc", 200},
		{"single object", "/sites/subdomain-demo/accounts/" + acct, 200},
		{"not found", "/sites/subdomain-demo/accounts/m000000000000", 404},
		{"bad parameter", "/sites/subdomain-demo/accounts?limit=0", 400},
	} {
		t.Run(c.name, func(t *testing.T) {
			plain, want := rawDo(t, srv, "GET", c.path, "identity")
			if plain.Header.Get("Content-Encoding") != "" || plain.ContentLength != int64(len(want)) {
				t.Fatalf("identity: Content-Encoding %q, length %d for %d bytes", plain.Header.Get("Content-Encoding"), plain.ContentLength, len(want))
			}
			for _, ae := range []string{"gzip", "gzip, deflate, br", "br;q=1.0, gzip;q=0.8", "*"} {
				resp, body := rawDo(t, srv, "GET", c.path, ae)
				if resp.StatusCode != c.status || plain.StatusCode != c.status {
					t.Fatalf("status %d / %d, want %d", resp.StatusCode, plain.StatusCode, c.status)
				}
				if resp.Header.Get("Content-Encoding") != "gzip" || resp.ContentLength != -1 || resp.Header.Get("Content-Length") != "" {
					t.Fatalf("Accept-Encoding %q: Content-Encoding %q, Content-Length %d %q", ae, resp.Header.Get("Content-Encoding"), resp.ContentLength, resp.Header.Get("Content-Length"))
				}
				if len(resp.TransferEncoding) != 1 || resp.TransferEncoding[0] != "chunked" {
					t.Fatalf("Transfer-Encoding %v, want chunked", resp.TransferEncoding)
				}
				if got := gunzip(t, body); !bytes.Equal(got, want) {
					t.Fatalf("gzip body differs from the plain one:\n%.200s\n%.200s", got, want)
				}
			}
		})
	}
	t.Run("HEAD", func(t *testing.T) {
		resp, body := rawDo(t, srv, "HEAD", "/sites/subdomain-demo/accounts", "gzip")
		if len(body) != 0 || resp.Header.Get("Recurly-Total-Records") == "" || resp.Header.Get("Content-Encoding") != "gzip" {
			t.Fatalf("HEAD: %v, %d body bytes", resp.Header, len(body))
		}
	})
	t.Run("refused", func(t *testing.T) {
		for _, ae := range []string{"", "identity", "gzip;q=0", "br"} {
			resp, body := rawDo(t, srv, "GET", "/sites/subdomain-demo/plans", ae)
			if resp.Header.Get("Content-Encoding") != "" || resp.ContentLength != int64(len(body)) {
				t.Fatalf("Accept-Encoding %q: compressed anyway (%v)", ae, resp.Header)
			}
		}
	})
	t.Run("NoGzip", func(t *testing.T) {
		off := newTestServer(t, Config{Seed: 31, Counts: smallCounts, NoGzip: true})
		resp, body := rawDo(t, off, "GET", "/sites/subdomain-demo/plans", "gzip")
		if resp.Header.Get("Content-Encoding") != "" || resp.ContentLength != int64(len(body)) || body[0] != '{' {
			t.Fatalf("NoGzip site compressed: %v", resp.Header)
		}
	})
}

func TestTruncatedGzipBodyFailsToDecode(t *testing.T) {
	srv := newTestServer(t, Config{Seed: 32, Counts: smallCounts, Faults: Faults{Truncate: 1}})
	req, _ := http.NewRequest("GET", srv.URL+"/sites/subdomain-demo/line_items?limit=200", nil)
	req.SetBasicAuth(srv.Site.APIKey(), "")
	tr := &http.Transport{} // asks for gzip and decodes it, as Go clients do by default
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if !resp.Uncompressed {
		t.Fatal("the answer was not gzip")
	}
	_, err = io.ReadAll(resp.Body)
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("reading a truncated gzip body: %v, want unexpected EOF", err)
	}
	if log := srv.Site.Requests(); len(log) != 1 || log[0].Fault != "truncate" {
		t.Fatalf("log %+v", log)
	}
}

func TestRequestIDOnEveryAnswer(t *testing.T) {
	srv := newTestServer(t, Config{Seed: 33, Counts: smallCounts, RateLimit: 8})
	seen := map[string]bool{}
	check := func(what string, resp *http.Response) {
		t.Helper()
		id := resp.Header.Get("X-Request-Id")
		if id == "" || seen[id] {
			t.Fatalf("%s (%d): X-Request-Id %q (seen before: %v)", what, resp.StatusCode, id, seen[id])
		}
		seen[id] = true
	}
	for _, c := range []struct{ method, path, accept string }{
		{"GET", "/sites/subdomain-demo/accounts", ""},
		{"GET", "/sites/subdomain-demo/accounts?limit=900", ""},
		{"GET", "/sites/subdomain-demo/nothing", ""},
		{"GET", "/sites/subdomain-demo/accounts", "application/vnd.recurly.v2016-03-01"},
		{"POST", "/sites/subdomain-demo/accounts", ""},
		{"HEAD", "/sites/subdomain-demo/accounts", ""},
	} {
		req, _ := http.NewRequest(c.method, srv.URL+c.path, nil)
		req.SetBasicAuth(srv.Site.APIKey(), "")
		if c.accept != "" {
			req.Header.Set("Accept", c.accept)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		check(c.method+" "+c.path, resp)
	}
	resp, err := http.Get(srv.URL + "/sites/subdomain-demo/accounts") // no key: 401
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	check("unauthenticated", resp)
	for range 4 { // past the limit of 8: 429
		res := do(t, srv, "GET", "/sites/subdomain-demo/plans", nil)
		if id := res.header.Get("X-Request-Id"); id == "" || seen[id] {
			t.Fatalf("%d: X-Request-Id %q", res.status, id)
		}
		seen[res.header.Get("X-Request-Id")] = true
	}
	if res := do(t, srv, "GET", "/sites/subdomain-demo/plans", nil); res.status != 429 {
		t.Fatalf("status %d, want 429 past the limit", res.status)
	}
}

func TestCloudflareErrorPages(t *testing.T) {
	for _, c := range []struct {
		faults Faults
		status int
		fault  string
		title  string
	}{
		{Faults{CF520: 1}, 520, "cf520", "Web server is returning an unknown error"},
		{Faults{CF522: 1}, 522, "cf522", "Connection timed out"},
		{Faults{CF524: 1}, 524, "cf524", "A timeout occurred"},
	} {
		t.Run(c.fault, func(t *testing.T) {
			srv := newTestServer(t, Config{Seed: 34, Counts: smallCounts, Faults: c.faults, Deprecated: true})
			resp, body := rawDo(t, srv, "GET", "/sites/subdomain-demo/accounts", "gzip")
			if resp.StatusCode != c.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, c.status)
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") || resp.Header.Get("Server") != "cloudflare" || resp.Header.Get("Cf-Ray") == "" {
				t.Fatalf("headers %v", resp.Header)
			}
			for _, h := range []string{"Recurly-Version", "X-Request-Id", "X-Ratelimit-Limit", "X-Ratelimit-Remaining", "X-Ratelimit-Reset", "Recurly-Deprecated", "Content-Encoding"} {
				if v := resp.Header.Get(h); v != "" {
					t.Fatalf("edge page carries %s: %q", h, v)
				}
			}
			if !bytes.Contains(body, []byte("<title>")) || !bytes.Contains(body, []byte(c.title)) || !bytes.HasPrefix(body, []byte("<!DOCTYPE html>")) {
				t.Fatalf("body %s", body)
			}
			if log := srv.Site.Requests(); len(log) != 1 || log[0].Fault != c.fault || log[0].Status != c.status {
				t.Fatalf("log %+v", log)
			}
		})
	}
	if err := (Faults{CF520: 0.6, CF524: 0.6}).validate(); err == nil {
		t.Fatal("fault probabilities over 1 accepted")
	}
}

func TestDeprecationHeaders(t *testing.T) {
	sunset := time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		cfg        Config
		deprecated string
		sunset     string
	}{
		{Config{Seed: 35, Counts: smallCounts}, "", ""},
		{Config{Seed: 35, Counts: smallCounts, Deprecated: true}, "TRUE", "2026-12-31T00:00:00+00:00"},
		{Config{Seed: 35, Counts: smallCounts, Deprecated: true, SunsetDate: sunset}, "TRUE", "2027-03-01T00:00:00+00:00"},
	} {
		srv := newTestServer(t, c.cfg)
		for _, path := range []string{"/sites/subdomain-demo/accounts", "/sites/subdomain-demo/accounts/m000000000000"} {
			res := do(t, srv, "GET", path, nil)
			if res.header.Get("Recurly-Deprecated") != c.deprecated || res.header.Get("Recurly-Sunset-Date") != c.sunset {
				t.Fatalf("%+v %s: Recurly-Deprecated %q, Recurly-Sunset-Date %q", c.cfg.Deprecated, path,
					res.header.Get("Recurly-Deprecated"), res.header.Get("Recurly-Sunset-Date"))
			}
		}
	}
}
