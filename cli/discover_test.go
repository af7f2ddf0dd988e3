package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tap-recurly/tap-recurly/schemas"
	"github.com/tap-recurly/tap-recurly/singer"
	"github.com/tap-recurly/tap-recurly/streams"
)

func runCLI(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(args, env{stdout: &out, stderr: &errb, now: func() time.Time { return time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC) }})
	return out.String(), errb.String(), code
}

func TestCatalogExampleIsDiscoverOutput(t *testing.T) {
	out, stderr, code := runCLI(t, "--discover", "--config", "../config.json.example")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	want, err := os.ReadFile("../catalog.json.example")
	if err != nil {
		t.Fatal(err)
	}
	if out != string(want) {
		t.Fatal("catalog.json.example differs from --discover output; regenerate it with: bin/tap-recurly --discover > catalog.json.example")
	}
}

func TestDiscoverCatalog(t *testing.T) {
	out, _, code := runCLI(t, "-d")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	cat, err := singer.ParseCatalog("stdout", []byte(out))
	if err != nil {
		t.Fatal(err)
	}
	if len(cat.Streams) != len(streams.All()) {
		t.Fatalf("%d streams", len(cat.Streams))
	}
	for _, st := range streams.All() {
		e := cat.Entry(st.Name)
		if e == nil {
			t.Fatalf("%s missing", st.Name)
		}
		schema, _ := schemas.Get(st.Name)
		var a, b any
		_ = json.Unmarshal(schema, &a)
		_ = json.Unmarshal(e.Schema, &b)
		ja, _ := json.Marshal(a)
		jb, _ := json.Marshal(b)
		if !bytes.Equal(ja, jb) {
			t.Errorf("%s: catalog schema differs from schemas/%s.json", st.Name, st.Name)
		}
		if e.Stream != st.Name || !slices.Equal(e.KeyProperties, []string{st.KeyProperty}) || e.ReplicationKey != st.ReplicationKey || e.ReplicationMethod != "INCREMENTAL" {
			t.Errorf("%s: entry %+v", st.Name, e)
		}
		root := e.Metadata.Root()
		checks := map[string]any{
			"inclusion": "available", "selected-by-default": !st.OptIn, "forced-replication-method": "INCREMENTAL",
		}
		for k, v := range checks {
			if root[k] != v {
				t.Errorf("%s: metadata[] %s = %v, want %v", st.Name, k, root[k], v)
			}
		}
		if tk, _ := json.Marshal(root["table-key-properties"]); string(tk) != `["`+st.KeyProperty+`"]` {
			t.Errorf("%s: table-key-properties %s", st.Name, tk)
		}
		if rk, _ := json.Marshal(root["valid-replication-keys"]); string(rk) != `["`+st.ReplicationKey+`"]` {
			t.Errorf("%s: valid-replication-keys %s", st.Name, rk)
		}
		fields := 0
		for _, m := range e.Metadata {
			if len(m.Breadcrumb) != 2 {
				continue
			}
			fields++
			name := m.Breadcrumb[1]
			want := "available"
			if name == st.KeyProperty || name == st.ReplicationKey {
				want = "automatic"
			} else if m.Metadata["selected-by-default"] != true {
				t.Errorf("%s.%s: selected-by-default %v", st.Name, name, m.Metadata["selected-by-default"])
			}
			if m.Metadata["inclusion"] != want {
				t.Errorf("%s.%s: inclusion %v, want %s", st.Name, name, m.Metadata["inclusion"], want)
			}
		}
		var sc struct {
			Properties map[string]json.RawMessage `json:"properties"`
		}
		_ = json.Unmarshal(e.Schema, &sc)
		if fields != len(sc.Properties) {
			t.Errorf("%s: %d field metadata entries for %d properties", st.Name, fields, len(sc.Properties))
		}
	}
}

func TestDiscoverChecksConfigButNeedsNoNetwork(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "config.json")
	if err := os.WriteFile(bad, []byte(`{"subdomain":"a","start_date":"2020-01-01","quota_limit":150}`), 0o600); err != nil {
		t.Fatal(err)
	}
	out, stderr, code := runCLI(t, "--discover", "--config", bad)
	if code != ExitBadInput || out != "" {
		t.Fatalf("exit %d, stdout %q", code, out)
	}
	want := "tap-recurly: " + bad + ": api_key: required\ntap-recurly: " + bad + ": quota_limit: must be between 1 and 100, got 150\n"
	if stderr != want {
		t.Fatalf("stderr = %q, want %q", stderr, want)
	}
	// A config whose base_url points nowhere still discovers: no request is made.
	good := filepath.Join(dir, "good.json")
	_ = os.WriteFile(good, []byte(`{"api_key":"k","subdomain":"a","start_date":"2020-01-01","base_url":"http://127.0.0.1:1"}`), 0o600)
	if out, stderr, code := runCLI(t, "--discover", "--config", good); code != 0 || !strings.HasPrefix(out, `{`) {
		t.Fatalf("exit %d: %s", code, stderr)
	}
}

// TestDiscoverListsIssue13Streams checks --discover against the stream
// list of issue 13: fifteen streams, the six added ones with their keys,
// the two per-account streams not selected by default and their catalog
// description stating the request cost.
func TestDiscoverListsIssue13Streams(t *testing.T) {
	out, _, code := runCLI(t, "--discover")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	cat, err := singer.ParseCatalog("stdout", []byte(out))
	if err != nil {
		t.Fatal(err)
	}
	if len(cat.Streams) != 15 {
		t.Fatalf("%d streams, want 15", len(cat.Streams))
	}
	for _, tt := range []struct {
		name, key, rk string
		byDefault     bool
		cost          string
	}{
		{"credit_payments", "id", "updated_at", true, "one request per 200 records changed"},
		{"account_acquisitions", "id", "updated_at", true, "one request per 200 records changed"},
		{"custom_field_definitions", "id", "updated_at", true, "one request per 200 records changed"},
		{"unique_coupon_codes", "id", "updated_at", true, "one request for each record of coupons with coupon_type bulk on every run"},
		{"coupon_redemptions", "id", "updated_at", false, "a site with 10,000 accounts spends 10,000 requests"},
		{"account_notes", "id", "created_at", false, "a site with 10,000 accounts spends 10,000 requests"},
	} {
		e := cat.Entry(tt.name)
		if e == nil {
			t.Errorf("%s missing", tt.name)
			continue
		}
		if !slices.Equal(e.KeyProperties, []string{tt.key}) || e.ReplicationKey != tt.rk {
			t.Errorf("%s: keys %v, replication key %s", tt.name, e.KeyProperties, e.ReplicationKey)
		}
		if got := e.Metadata.Root()[singer.SelectedByDefault]; got != tt.byDefault {
			t.Errorf("%s: selected-by-default %v, want %v", tt.name, got, tt.byDefault)
		}
		if !strings.Contains(e.Description, tt.cost) {
			t.Errorf("%s: description %q does not state the cost (%q)", tt.name, e.Description, tt.cost)
		}
	}
}
