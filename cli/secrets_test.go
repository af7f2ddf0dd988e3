package cli

import (
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/tap-recurly/tap-recurly/recurlytest"
)

// TestSecretsNeverLeak runs the cases where a key is most likely to leak
// (debug logging, a rejected key, the connection test, a config that does
// not parse, an API error page echoing the request's headers), checks that
// plain http to a non-loopback host is refused, and then scans stdout and
// stderr of every run recorded so far in this package - the bad-input,
// fault, signal and bad-data cases included - for either API key, its
// Basic credential (base64 of "key:") and its bare base64. TestMain scans
// again after the last test, so runs of tests ordered after this one are
// covered too.
func TestSecretsNeverLeak(t *testing.T) {
	srv := newTestSite(t, recurlytest.Config{Seed: 73, Counts: smallCounts})
	// An error page that echoes the request headers, as some proxies and
	// debug endpoints do.
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		var b strings.Builder
		b.WriteString("<html><body><h1>400 Bad Request</h1><pre>")
		for k, v := range r.Header {
			b.WriteString(k + ": " + strings.Join(v, ",") + "\n")
		}
		b.WriteString("</pre></body></html>")
		w.Write([]byte(b.String()))
	}))
	defer echo.Close()
	// A redirect to another host: the key must not follow it there.
	var elsewhere atomic.Int64
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { elsewhere.Add(1) }))
	defer other.Close()
	redirect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+r.URL.RequestURI(), http.StatusFound)
	}))
	defer redirect.Close()

	conf := func(edit func(m map[string]any)) map[string]any {
		m := siteConfig(srv, "")
		if edit != nil {
			edit(m)
		}
		return m
	}
	tests := []struct {
		name   string
		config any
		args   []string
		code   int
		want   string // an error line that must be printed ("" for none); {dir} is the config's folder
		isTest bool   // a --test run (no records)
		// wantPart must be in the one error line, when want is not given.
		wantPart string
	}{
		{name: "sync at debug level", config: conf(nil), args: []string{"--log-level", "debug"}, code: ExitOK},
		{name: "sync at debug level, JSON logs", config: conf(nil), args: []string{"--log-level", "debug", "--log-format", "json"}, code: ExitOK},
		{name: "wrong key at debug level", config: conf(func(m map[string]any) { m["api_key"] = wrongAPIKey }), args: []string{"--log-level", "debug"}, code: ExitFailure},
		{name: "connection test with a wrong key", config: conf(func(m map[string]any) { m["api_key"] = wrongAPIKey }), args: []string{"--test", "--log-level", "debug"}, code: ExitFailure},
		{name: "connection test", config: conf(nil), args: []string{"--test"}, code: ExitOK, isTest: true},
		{name: "key under a misspelt name", config: conf(func(m map[string]any) { m["apikey"] = m["api_key"]; delete(m, "api_key") }), code: ExitBadInput,
			want: "{dir}/config.json: api_key: required"},
		{name: "config cut off after the key", config: `{"api_key": "` + testAPIKey + `", "subdomain": "demo", "start_date": `, code: ExitBadInput,
			want: "{dir}/config.json: not a JSON object: unexpected end of file"},
		{name: "key in the wrong type of field", config: conf(func(m map[string]any) { m["user_agent"] = map[string]any{"key": testAPIKey} }), code: ExitBadInput,
			want: "{dir}/config.json: user_agent: must be a string, got an object"},
		{name: "error page echoing the Authorization header", config: conf(func(m map[string]any) { m["base_url"] = echo.URL; m["max_workers"] = 1 }), code: ExitFailure,
			wantPart: ": the API rejected the request parameters (400 bad request): "},
		{name: "redirect to another host", config: conf(func(m map[string]any) { m["base_url"] = redirect.URL; m["max_workers"] = 1 }), code: ExitFailure, wantPart: ": unexpected status 302 found: "},
		{name: "plain http to a non-loopback host", config: conf(func(m map[string]any) { m["base_url"] = "http://api.example.com" }), code: ExitBadInput,
			want: `{dir}/config.json: base_url: plain http is refused for non-loopback host "api.example.com" (the API key would travel unencrypted); use https`},
		{name: "plain http to a private address", config: conf(func(m map[string]any) { m["base_url"] = "http://10.1.2.3:8080/" }), code: ExitBadInput,
			want: `{dir}/config.json: base_url: plain http is refused for non-loopback host "10.1.2.3" (the API key would travel unencrypted); use https`},
		{name: "credentials in base_url", config: conf(func(m map[string]any) { m["base_url"] = "https://" + testAPIKey + ":@partner-api.recurly.com" }), code: ExitBadInput,
			want: "{dir}/config.json: base_url: must not contain credentials"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			args := append([]string{"--config", writeFile(t, dir, "config.json", tt.config)}, tt.args...)
			r := runInProcess(t, "secrets: "+tt.name, env{clientOptions: fastRetries}, args...)
			if r.code != tt.code {
				t.Errorf("exit %d, want %d; %q", r.code, tt.code, r.errorLines())
			}
			if tt.code == ExitOK && !tt.isTest && !strings.Contains(string(r.stdout), `"type":"RECORD"`) {
				t.Error("no RECORD: the key was not in use")
			}
			if lines := r.errorLines(); tt.wantPart != "" && (len(lines) != 1 || !strings.Contains(lines[0], tt.wantPart)) {
				t.Errorf("error lines %q, want one containing %q", lines, tt.wantPart)
			}
			if tt.want != "" {
				want := "tap-recurly: " + strings.ReplaceAll(tt.want, "{dir}", dir)
				if lines := r.errorLines(); len(lines) != 1 || lines[0] != want {
					t.Errorf("error lines %q,\nwant [%q]", lines, want)
				}
			}
			if hits := (&recorder{runs: []transcript{{r.name, r.stdout, r.stderr}}}).leaks(secretForms()); len(hits) > 0 {
				t.Fatalf("secret leaked: %q", hits)
			}
		})
	}
	if n := elsewhere.Load(); n != 0 {
		t.Errorf("a redirect was followed to another host (%d requests)", n)
	}

	// The scan finds what it looks for.
	planted := &recorder{runs: []transcript{{"planted", nil, []byte("Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(testAPIKey+":")))}}}
	if hits := planted.leaks(secretForms()); len(hits) != 1 {
		t.Fatalf("the scan found %q in a planted leak, want one hit", hits)
	}

	all := transcripts.snapshot()
	if hits := transcripts.leaks(secretForms()); len(hits) > 0 {
		t.Errorf("secrets leaked:\n%s", strings.Join(hits, "\n"))
	}
	var bytesScanned int
	for _, tr := range all {
		bytesScanned += len(tr.stdout) + len(tr.stderr)
	}
	t.Logf("scanned %d runs (%d bytes) for %d secret forms", len(all), bytesScanned, len(secretForms()))
}
