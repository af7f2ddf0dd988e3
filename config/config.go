// Package config reads and checks the tap's JSON config file.
//
// Every setting is declared once, in Settings; the parser, the --about
// document, the README's config table and the Meltano plugin definition are
// all derived from that list.
package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tap-recurly/tap-recurly/client"
	"github.com/tap-recurly/tap-recurly/internal/excerpt"
	"github.com/tap-recurly/tap-recurly/internal/fileerr"
	"github.com/tap-recurly/tap-recurly/internal/loopback"
	"github.com/tap-recurly/tap-recurly/state"
)

// Config is a checked config. The zero value is not usable; get one from
// Load or Parse.
type Config struct {
	APIKey         Secret
	Subdomain      string
	StartDate      time.Time
	EndDate        time.Time // zero when unset
	QuotaLimit     int       // percent of the site's rate-limit window, 1..100
	UserAgent      string    // extra User-Agent text, may be empty
	BaseURL        string
	MaxWorkers     int           // streams and time windows fetched at once
	RequestTimeout time.Duration // per HTTP attempt
	// MaxQuotaWait is the longest the tap waits for the API (a quota reset,
	// a Retry-After) before it stops with a final STATE instead.
	MaxQuotaWait time.Duration
	// Layout names the set of tables the tap emits: "streams" (the API's
	// records as-is) or "dbt_recurly" (the dbt_recurly package's source
	// tables).
	Layout string
}

// Layouts are the values the layout setting takes, the default first.
var Layouts = []string{"streams", "dbt_recurly"}

// SiteID is the site as addressed in API paths: "subdomain-<name>".
func (c *Config) SiteID() string { return "subdomain-" + c.Subdomain }

// Secret is a string that never prints itself: fmt, %v and JSON all show a
// mask, so the API key cannot leak through a log line by accident.
type Secret string

// String masks the secret.
func (Secret) String() string { return "********" }

// GoString masks the secret for %#v.
func (Secret) GoString() string { return `"********"` }

// MarshalJSON masks the secret.
func (Secret) MarshalJSON() ([]byte, error) { return []byte(`"********"`), nil }

// Reveal returns the secret itself, for the one place that must send it.
func (s Secret) Reveal() string { return string(s) }

// Kind is a setting's type, in Meltano's vocabulary.
type Kind string

// Setting kinds.
const (
	KindPassword Kind = "password"
	KindString   Kind = "string"
	KindDate     Kind = "date_iso8601"
	KindInteger  Kind = "integer"
	KindOptions  Kind = "options" // a string, one of Setting.Enum
)

// Setting describes one config key.
type Setting struct {
	Name        string
	Kind        Kind
	Required    bool
	Secret      bool
	Default     any      // nil when there is none
	Min, Max    int      // for integers; 0,0 means unbounded
	Enum        []string // for KindOptions: the values allowed
	Description string
	// Pattern, when set, is the regular expression (RE2, as jsonschema/v5
	// reads it) a string value must match; published in --about.
	Pattern string

	// setInt or setStr stores a checked value of the setting's kind into a
	// Config (setInt for KindInteger, setStr for the others); Parse applies
	// Default through it too. setStr returns the problem with a value it
	// refuses.
	setInt func(c *Config, n int)
	setStr func(c *Config, v string) error
}

// Settings lists every config key the tap reads, in documentation order.
var Settings = []Setting{
	{Name: "api_key", Kind: KindPassword, Required: true, Secret: true, Pattern: `\S`,
		Description: "Recurly private API key. Sent as the Basic auth user name; never logged.",
		setStr:      func(c *Config, v string) error { c.APIKey = Secret(v); return nil }},
	{Name: "subdomain", Kind: KindString, Required: true, Pattern: `^\s*[^/?#. :@\s][^/?#. :@]*\s*$`,
		Description: "Site subdomain: for mysite.recurly.com use `mysite`. The site is addressed as `subdomain-<name>`.",
		setStr:      setSubdomain},
	{Name: "start_date", Kind: KindDate, Required: true,
		Description: "Earliest updated_at (collected_at for transactions) to extract, for streams without a bookmark. RFC 3339 or YYYY-MM-DD, UTC.",
		setStr:      setTime(func(c *Config) *time.Time { return &c.StartDate })},
	{Name: "end_date", Kind: KindDate,
		Description: "Optional latest timestamp to extract. Default: the time the sync starts.",
		setStr:      setTime(func(c *Config) *time.Time { return &c.EndDate })},
	{Name: "quota_limit", Kind: KindInteger, Default: 100, Min: 1, Max: 100,
		Description: "Percent of the site's API rate-limit window the tap may use (the rest stays for other integrations).",
		setInt:      func(c *Config, n int) { c.QuotaLimit = n }},
	{Name: "user_agent", Kind: KindString, Pattern: `^\s*[^\r\n]*\s*$`,
		Description: "Extra text for the User-Agent header, for example a contact address; `tap-recurly/<version>` is always sent.",
		setStr:      setUserAgent},
	{Name: "base_url", Kind: KindString, Default: client.DefaultBaseURL, Pattern: `^\s*https?://[^/?#\s]`,
		Description: "API base URL. Plain http is refused unless the host is loopback (the simulated site).",
		setStr:      setBaseURL},
	{Name: "max_workers", Kind: KindInteger, Default: 4, Min: 1, Max: 64,
		Description: "How many streams and time windows are fetched at once, all within the one quota.",
		setInt:      func(c *Config, n int) { c.MaxWorkers = n }},
	{Name: "request_timeout", Kind: KindInteger, Default: 300, Min: 1, Max: 3600,
		Description: "Seconds one HTTP attempt may take before it is retried.",
		setInt:      func(c *Config, n int) { c.RequestTimeout = time.Duration(n) * time.Second }},
	{Name: "max_quota_wait", Kind: KindInteger, Default: 900, Min: 1, Max: 86400,
		Description: "Seconds the tap may wait for the rate-limit window to reset (X-RateLimit-Reset) before it stops with a final STATE and says when the quota resets, rather than sleep for hours.",
		setInt:      func(c *Config, n int) { c.MaxQuotaWait = time.Duration(n) * time.Second }},
	{Name: "layout", Kind: KindOptions, Default: "streams", Enum: Layouts,
		Description: "The tables the tap emits. `streams`: the API's records as-is, one stream per list (the default). `dbt_recurly`: the 18 source tables of Fivetran's dbt_recurly package, flat, one row per version, for its models (see README, dbt_recurly).",
		setStr:      setLayout},
}

func setLayout(c *Config, v string) error {
	if !slices.Contains(Layouts, v) {
		return fmt.Errorf("unknown layout %q (want one of: %s)", v, strings.Join(Layouts, ", "))
	}
	c.Layout = v
	return nil
}

// Problems is every problem found in one config file, one line each.
type Problems struct {
	File  string
	Lines []string // "key: problem"
}

func (p *Problems) Error() string {
	out := make([]string, len(p.Lines))
	for i, l := range p.Lines {
		out[i] = p.File + ": " + l
	}
	return strings.Join(out, "\n")
}

func (p *Problems) add(key, format string, args ...any) {
	p.Lines = append(p.Lines, key+": "+fmt.Sprintf(format, args...))
}

// Load reads and checks the config file at path. Warnings (unknown keys) are
// returned alongside a valid config; every problem is reported at once in a
// *Problems error.
func Load(path string, now time.Time) (*Config, []string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, &Problems{File: path, Lines: []string{"cannot read: " + fileerr.Describe(err)}}
	}
	return Parse(path, data, now)
}

// Parse checks the JSON text of a config file named name. now is the time
// used to reject a start_date in the future.
func Parse(name string, data []byte, now time.Time) (*Config, []string, error) {
	probs := &Problems{File: name}
	raw, problem := decodeObject(data)
	if problem != "" {
		probs.Lines = append(probs.Lines, problem)
		return nil, nil, probs
	}
	warnings := unknownKeys(name, raw)
	failed := schemaProblems(data, raw)
	cfg := &Config{}
	for _, s := range Settings {
		if keyword, bad := failed[s.Name]; bad {
			probs.add(s.Name, "%s", s.explain(keyword, raw[s.Name]))
			continue
		}
		s.apply(cfg, raw[s.Name], probs)
	}
	if !cfg.StartDate.IsZero() && cfg.StartDate.After(now) {
		probs.add("start_date", "%s is in the future", cfg.StartDate.Format(time.RFC3339))
	}
	if !cfg.EndDate.IsZero() && !cfg.StartDate.IsZero() && !cfg.EndDate.After(cfg.StartDate) {
		probs.add("end_date", "must be after start_date")
	}
	if len(probs.Lines) > 0 {
		return nil, warnings, probs
	}
	return cfg, warnings, nil
}

// decodeObject reads the file's one JSON object, or says what is wrong.
func decodeObject(data []byte) (map[string]json.RawMessage, string) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, "file is empty; expected a JSON object"
	}
	var raw map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&raw); err != nil || raw == nil {
		return nil, "not a JSON object: " + jsonProblem(data, err)
	}
	if dec.More() {
		return nil, "not a JSON object: trailing data after the object"
	}
	return raw, ""
}

// unknownKeys warns, in key order, about each key no setting declares.
func unknownKeys(name string, raw map[string]json.RawMessage) []string {
	var unknown []string
	for k := range raw {
		if !slices.ContainsFunc(Settings, func(s Setting) bool { return s.Name == k }) {
			unknown = append(unknown, k)
		}
	}
	sort.Strings(unknown)
	var warnings []string
	for _, k := range unknown {
		warnings = append(warnings, fmt.Sprintf("%s: %s: unknown key, ignored", name, k))
	}
	return warnings
}

// apply stores the setting's value (nil when absent), which the settings
// schema has accepted, or its default, into cfg. What the schema cannot
// say is checked here: the range of an integer given as a string, and the
// setters' own checks (a date that parses, http only for loopback hosts,
// no credentials in base_url).
func (s Setting) apply(cfg *Config, v json.RawMessage, probs *Problems) {
	if v == nil || string(bytes.TrimSpace(v)) == "null" {
		if s.Default != nil {
			s.store(cfg, s.Default, probs)
		}
		return
	}
	if s.Kind == KindInteger {
		n, err := parseInt(v)
		if err != nil {
			probs.add(s.Name, "%s", err)
			return
		}
		if (s.Min != 0 || s.Max != 0) && (n < s.Min || n > s.Max) {
			probs.add(s.Name, "must be between %d and %d, got %d", s.Min, s.Max, n)
			return
		}
		s.store(cfg, n, probs)
		return
	}
	var str string
	if err := json.Unmarshal(v, &str); err != nil {
		probs.add(s.Name, "must be a string, got %s", jsonKind(v))
		return
	}
	s.store(cfg, strings.TrimSpace(str), probs)
}

// store hands a checked value (int or string, by kind) to the setting's
// setter.
func (s Setting) store(cfg *Config, v any, probs *Problems) {
	switch v := v.(type) {
	case int:
		s.setInt(cfg, v)
	case string:
		if err := s.setStr(cfg, v); err != nil {
			probs.add(s.Name, "%s", err)
		}
	}
}

func setSubdomain(c *Config, v string) error {
	v = strings.TrimPrefix(v, "subdomain-")
	if strings.ContainsAny(v, "/?#. :@") {
		return errors.New(`must be the bare subdomain (for mysite.recurly.com use "mysite")`)
	}
	c.Subdomain = v
	return nil
}

// setTime returns the setter of a date setting stored at field(c).
func setTime(field func(*Config) *time.Time) func(*Config, string) error {
	return func(c *Config, v string) error {
		t, err := state.ParseTime(v)
		if err != nil {
			return fmt.Errorf("%q is not an RFC 3339 timestamp or a YYYY-MM-DD date", v)
		}
		*field(c) = t
		return nil
	}
}

func setUserAgent(c *Config, v string) error {
	if strings.ContainsAny(v, "\r\n") {
		return errors.New("must be one line")
	}
	c.UserAgent = v
	return nil
}

// setBaseURL accepts https anywhere and plain http only on loopback.
func setBaseURL(c *Config, v string) error {
	u, err := url.Parse(v)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return fmt.Errorf("%q is not an http(s) URL", v)
	}
	if u.User != nil {
		return errors.New("must not contain credentials")
	}
	if u.Scheme == "http" && !loopback.Host(u.Hostname()) {
		return fmt.Errorf("plain http is refused for non-loopback host %q (the API key would travel unencrypted); use https", u.Hostname())
	}
	c.BaseURL = strings.TrimRight(v, "/")
	return nil
}

// parseInt accepts a JSON integer or a string holding one ("30"), as Stitch
// and Meltano pass numbers.
func parseInt(v json.RawMessage) (int, error) {
	var n json.Number
	dec := json.NewDecoder(bytes.NewReader(v))
	dec.UseNumber()
	var x any
	if err := dec.Decode(&x); err != nil {
		return 0, fmt.Errorf("must be an integer, got %s", jsonKind(v))
	}
	switch t := x.(type) {
	case json.Number:
		n = t
	case string:
		n = json.Number(strings.TrimSpace(t))
	default:
		return 0, fmt.Errorf("must be an integer, got %s", jsonKind(v))
	}
	i, err := strconv.Atoi(string(n))
	if err != nil {
		return 0, fmt.Errorf("must be an integer, got %s", excerpt.Of(string(v), 40))
	}
	return i, nil
}

func jsonKind(v json.RawMessage) string {
	t := bytes.TrimSpace(v)
	if len(t) == 0 {
		return "nothing"
	}
	switch t[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	default:
		return "a number"
	}
}

// jsonProblem turns a decode error into a short description with a line
// number, never echoing file content (it may hold the key).
func jsonProblem(data []byte, err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		line := 1 + bytes.Count(data[:min(int(se.Offset), len(data))], []byte("\n"))
		return fmt.Sprintf("invalid JSON at line %d", line)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return "the top level is " + te.Value + ", not an object"
	}
	if err == nil {
		return "the top level is null"
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return "unexpected end of file"
	}
	return "invalid JSON"
}
