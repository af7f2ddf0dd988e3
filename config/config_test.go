package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v5"

	"github.com/tap-recurly/tap-recurly/client"
)

var now = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

const key = "sk_live_0123456789abcdef"

func TestParseValid(t *testing.T) {
	tests := []struct {
		name  string
		json  string
		check func(*Config) error
		warns int
	}{
		{"minimal with defaults", `{"api_key":"` + key + `","subdomain":"acme","start_date":"2020-01-01"}`,
			func(c *Config) error {
				if c.QuotaLimit != 100 || c.BaseURL != client.DefaultBaseURL || c.MaxWorkers != 4 || c.RequestTimeout != 300*time.Second {
					return fmt.Errorf("defaults: %+v", c)
				}
				if !c.StartDate.Equal(time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)) || c.SiteID() != "subdomain-acme" {
					return fmt.Errorf("start/site: %v %s", c.StartDate, c.SiteID())
				}
				return nil
			}, 0},
		{"layout", `{"api_key":"k","subdomain":"acme","start_date":"2020-01-01","layout":"dbt_recurly"}`,
			func(c *Config) error {
				if c.Layout != "dbt_recurly" {
					return fmt.Errorf("layout %q", c.Layout)
				}
				return nil
			}, 0},
		{"layout null is the default", `{"api_key":"k","subdomain":"acme","start_date":"2020-01-01","layout":null}`,
			func(c *Config) error {
				if c.Layout != "streams" {
					return fmt.Errorf("layout %q", c.Layout)
				}
				return nil
			}, 0},
		{"numbers as strings", `{"api_key":"k","subdomain":"acme","start_date":"2020-01-01T05:00:00+02:00","quota_limit":"30","max_workers":"2"}`,
			func(c *Config) error {
				if c.QuotaLimit != 30 || c.MaxWorkers != 2 || !c.StartDate.Equal(time.Date(2020, 1, 1, 3, 0, 0, 0, time.UTC)) {
					return fmt.Errorf("got %+v", c)
				}
				return nil
			}, 0},
		{"unknown key warns", `{"api_key":"k","subdomain":"subdomain-acme","start_date":"2020-01-01","colour":"blue"}`,
			func(c *Config) error {
				if c.Subdomain != "acme" {
					return fmt.Errorf("subdomain %q", c.Subdomain)
				}
				return nil
			}, 1},
		{"loopback http allowed", `{"api_key":"k","subdomain":"a","start_date":"2020-01-01","base_url":"http://127.0.0.1:8080/","end_date":"2021-01-01"}`,
			func(c *Config) error {
				if c.BaseURL != "http://127.0.0.1:8080" || c.EndDate.Year() != 2021 {
					return fmt.Errorf("got %+v", c)
				}
				return nil
			}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, warns, err := Parse("config.json", []byte(tt.json), now)
			if err != nil {
				t.Fatal(err)
			}
			if len(warns) != tt.warns {
				t.Fatalf("warnings = %q, want %d", warns, tt.warns)
			}
			if err := tt.check(c); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestParseProblems(t *testing.T) {
	tests := []struct {
		name string
		json string
		want []string // each must appear as a whole line
	}{
		{"empty", ``, []string{"config.json: file is empty; expected a JSON object"}},
		{"not json", `{"api_key": `, []string{"config.json: not a JSON object: unexpected end of file"}},
		{"array", `[1]`, []string{"config.json: not a JSON object: the top level is array, not an object"}},
		{"missing key and bad quota", `{"subdomain":"a","start_date":"2020-01-01","quota_limit":150}`,
			[]string{"config.json: api_key: required", "config.json: quota_limit: must be between 1 and 100, got 150"}},
		{"all required missing", `{}`, []string{"config.json: api_key: required", "config.json: subdomain: required", "config.json: start_date: required"}},
		{"quota 0", `{"api_key":"k","subdomain":"a","start_date":"2020-01-01","quota_limit":0}`, []string{"config.json: quota_limit: must be between 1 and 100, got 0"}},
		{"quota 101", `{"api_key":"k","subdomain":"a","start_date":"2020-01-01","quota_limit":"101"}`, []string{"config.json: quota_limit: must be between 1 and 100, got 101"}},
		{"quota abc", `{"api_key":"k","subdomain":"a","start_date":"2020-01-01","quota_limit":"abc"}`, []string{`config.json: quota_limit: must be an integer, got "abc"`}},
		{"quota float", `{"api_key":"k","subdomain":"a","start_date":"2020-01-01","quota_limit":1.5}`, []string{`config.json: quota_limit: must be an integer, got 1.5`}},
		{"wrong types", `{"api_key":5,"subdomain":true,"start_date":[]}`, []string{"config.json: api_key: must be a string, got a number", "config.json: subdomain: must be a string, got a boolean", "config.json: start_date: must be a string, got an array"}},
		{"bad start", `{"api_key":"k","subdomain":"a","start_date":"yesterday"}`, []string{`config.json: start_date: "yesterday" is not an RFC 3339 timestamp or a YYYY-MM-DD date`}},
		{"future start", `{"api_key":"k","subdomain":"a","start_date":"2030-01-01"}`, []string{"config.json: start_date: 2030-01-01T00:00:00Z is in the future"}},
		{"end before start", `{"api_key":"k","subdomain":"a","start_date":"2020-01-01","end_date":"2019-01-01"}`, []string{"config.json: end_date: must be after start_date"}},
		{"http remote", `{"api_key":"k","subdomain":"a","start_date":"2020-01-01","base_url":"http://example.com"}`, []string{`config.json: base_url: plain http is refused for non-loopback host "example.com" (the API key would travel unencrypted); use https`}},
		{"subdomain is a host", `{"api_key":"k","subdomain":"acme.recurly.com","start_date":"2020-01-01"}`, []string{`config.json: subdomain: must be the bare subdomain (for mysite.recurly.com use "mysite")`}},
		{"empty key", `{"api_key":"  ","subdomain":"a","start_date":"2020-01-01"}`, []string{"config.json: api_key: required, got an empty string"}},
		{"unknown layout", `{"api_key":"k","subdomain":"a","start_date":"2020-01-01","layout":"fivetran"}`, []string{`config.json: layout: unknown layout "fivetran" (want one of: streams, dbt_recurly)`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := Parse("config.json", []byte(tt.json), now)
			if err == nil {
				t.Fatal("want error")
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) != len(tt.want) {
				t.Fatalf("got %d lines %q, want %q", len(lines), lines, tt.want)
			}
			for i := range lines {
				if lines[i] != tt.want[i] {
					t.Errorf("line %d = %q, want %q", i, lines[i], tt.want[i])
				}
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, _, err := Load(filepath.Join(t.TempDir(), "nope.json"), now)
	if err == nil || !strings.HasSuffix(err.Error(), "nope.json: cannot read: no such file") {
		t.Fatalf("err = %v", err)
	}
}

func TestSecretNeverPrints(t *testing.T) {
	c, _, err := Parse("c.json", []byte(`{"api_key":"`+key+`","subdomain":"a","start_date":"2020-01-01"}`), now)
	if err != nil {
		t.Fatal(err)
	}
	js, _ := json.Marshal(c)
	for _, s := range []string{fmt.Sprint(c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c), string(js), c.APIKey.String()} {
		if strings.Contains(s, key) {
			t.Fatalf("key leaked: %s", s)
		}
	}
	if c.APIKey.Reveal() != key {
		t.Fatal("Reveal lost the key")
	}
}

func TestExampleConfigIsValid(t *testing.T) {
	data, err := os.ReadFile("../config.json.example")
	if err != nil {
		t.Fatal(err)
	}
	if _, warns, err := Parse("config.json.example", data, now); err != nil || len(warns) > 0 {
		t.Fatalf("config.json.example: %v %v", err, warns)
	}
}

func TestAboutSchemaCoversSettings(t *testing.T) {
	s := JSONSchema()
	props := s["properties"].(map[string]any)
	if len(props) != len(Settings) {
		t.Fatalf("%d properties for %d settings", len(props), len(Settings))
	}
	ak := props["api_key"].(map[string]any)
	if ak["writeOnly"] != true || ak["secret"] != true {
		t.Fatalf("api_key not marked secret: %v", ak)
	}
	if got := s["required"].([]string); strings.Join(got, ",") != "api_key,subdomain,start_date" {
		t.Fatalf("required = %v", got)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"api_key":"k","subdomain":"a","start_date":"2020-01-01","quota_limit":"30"}`))
	f.Add([]byte(`{"api_key":1}`))
	f.Add([]byte(`[`))
	f.Add([]byte(`{"base_url":"http://[::1]:80","start_date":"2020-01-01T00:00:00.5Z","end_date":"x"}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, _, err := Parse("fuzz.json", data, now)
		if (c == nil) == (err == nil) {
			t.Fatalf("config %v with error %v", c, err)
		}
		if err != nil && strings.Contains(err.Error(), "\n\n") {
			t.Fatalf("blank line in error %q", err)
		}
		if c != nil && (c.QuotaLimit < 1 || c.QuotaLimit > 100 || c.APIKey == "" || c.Subdomain == "") {
			t.Fatalf("invalid config accepted: %+v", c)
		}
	})
}

// TestSchemaEnforced: each problem a JSON Schema can state is found by the
// schema --about publishes (compiled here on its own, from its JSON), and
// Parse reports it under that key; the hand-written checks are left with
// what a schema cannot say.
func TestSchemaEnforced(t *testing.T) {
	doc, err := json.Marshal(JSONSchema())
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat = true
	if err := c.AddResource("about.json", bytes.NewReader(doc)); err != nil {
		t.Fatal(err)
	}
	published, err := c.Compile("about.json")
	if err != nil {
		t.Fatal(err)
	}
	base := `"api_key":"k","subdomain":"a","start_date":"2020-01-01"`
	tests := []struct {
		json, key string
		schema    bool // the published schema refuses it
	}{
		{`{"subdomain":"a","start_date":"2020-01-01"}`, "api_key", true},
		{`{` + base + `,"quota_limit":150}`, "quota_limit", true},
		{`{` + base + `,"quota_limit":1.5}`, "quota_limit", true},
		{`{` + base + `,"quota_limit":"abc"}`, "quota_limit", true},
		{`{` + base + `,"max_workers":{}}`, "max_workers", true},
		{`{"api_key":"  ","subdomain":"a","start_date":"2020-01-01"}`, "api_key", true},
		{`{"api_key":null,"subdomain":"a","start_date":"2020-01-01"}`, "api_key", true},
		{`{"api_key":"k","subdomain":"a.recurly.com","start_date":"2020-01-01"}`, "subdomain", true},
		{`{"api_key":"k","subdomain":"a","start_date":"yesterday"}`, "start_date", true},
		{`{` + base + `,"user_agent":"a\nb"}`, "user_agent", true},
		{`{` + base + `,"base_url":"ftp://x"}`, "base_url", true},
		{`{` + base + `,"layout":"fivetran"}`, "layout", true},
		{`{` + base + `,"layout":1}`, "layout", true},
		// What a schema cannot say stays hand-written.
		{`{` + base + `,"quota_limit":"150"}`, "quota_limit", false},
		{`{` + base + `,"base_url":"http://example.com"}`, "base_url", false},
		{`{` + base + `,"base_url":"https://u:p@example.com"}`, "base_url", false},
		{`{"api_key":"k","subdomain":"a","start_date":"2030-01-01"}`, "start_date", false},
	}
	for _, tc := range tests {
		var v any
		dec := json.NewDecoder(strings.NewReader(tc.json))
		dec.UseNumber()
		if err := dec.Decode(&v); err != nil {
			t.Fatal(err)
		}
		if refused := published.Validate(v) != nil; refused != tc.schema {
			t.Errorf("%s: the published schema refuses it: %v, want %v", tc.json, refused, tc.schema)
		}
		_, _, err := Parse("config.json", []byte(tc.json), now)
		if err == nil || !strings.HasPrefix(err.Error(), "config.json: "+tc.key+": ") {
			t.Errorf("%s: Parse error %v, want one about %s", tc.json, err, tc.key)
		}
	}
}
