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
	"net"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
)

// DefaultBaseURL is the v2018-08-09 ("partner") API host.
const DefaultBaseURL = "https://partner-api.recurly.com"

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
}

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
)

// Setting describes one config key.
type Setting struct {
	Name        string
	Kind        Kind
	Required    bool
	Secret      bool
	Default     any // nil when there is none
	Min, Max    int // for integers; 0,0 means unbounded
	Description string
}

// Settings lists every config key the tap reads, in documentation order.
var Settings = []Setting{
	{Name: "api_key", Kind: KindPassword, Required: true, Secret: true,
		Description: "Recurly private API key. Sent as the Basic auth user name; never logged."},
	{Name: "subdomain", Kind: KindString, Required: true,
		Description: "Site subdomain: for mysite.recurly.com use `mysite`. The site is addressed as `subdomain-<name>`."},
	{Name: "start_date", Kind: KindDate, Required: true,
		Description: "Earliest updated_at (collected_at for transactions) to extract, for streams without a bookmark. RFC 3339 or YYYY-MM-DD, UTC."},
	{Name: "end_date", Kind: KindDate,
		Description: "Optional latest timestamp to extract. Default: the time the sync starts."},
	{Name: "quota_limit", Kind: KindInteger, Default: 100, Min: 1, Max: 100,
		Description: "Percent of the site's API rate-limit window the tap may use (the rest stays for other integrations)."},
	{Name: "user_agent", Kind: KindString,
		Description: "Extra text for the User-Agent header, for example a contact address; `tap-recurly/<version>` is always sent."},
	{Name: "base_url", Kind: KindString, Default: DefaultBaseURL,
		Description: "API base URL. Plain http is refused unless the host is loopback (the simulated site)."},
	{Name: "max_workers", Kind: KindInteger, Default: 4, Min: 1, Max: 64,
		Description: "How many streams and time windows are fetched at once, all within the one quota."},
	{Name: "request_timeout", Kind: KindInteger, Default: 300, Min: 1, Max: 3600,
		Description: "Seconds one HTTP attempt may take before it is retried."},
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
		return nil, nil, &Problems{File: path, Lines: []string{"cannot read: " + describeFileError(err)}}
	}
	return Parse(path, data, now)
}

func describeFileError(err error) string {
	switch {
	case errors.Is(err, os.ErrNotExist):
		return "no such file"
	case errors.Is(err, os.ErrPermission):
		return "permission denied"
	}
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// Parse checks the JSON text of a config file named name. now is the time
// used to reject a start_date in the future.
func Parse(name string, data []byte, now time.Time) (*Config, []string, error) {
	probs := &Problems{File: name}
	if len(bytes.TrimSpace(data)) == 0 {
		probs.Lines = append(probs.Lines, "file is empty; expected a JSON object")
		return nil, nil, probs
	}
	var raw map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&raw); err != nil || raw == nil {
		probs.Lines = append(probs.Lines, "not a JSON object: "+jsonProblem(data, err))
		return nil, nil, probs
	}
	if dec.More() {
		probs.Lines = append(probs.Lines, "not a JSON object: trailing data after the object")
		return nil, nil, probs
	}

	var warnings []string
	known := map[string]bool{}
	for _, s := range Settings {
		known[s.Name] = true
	}
	var unknown []string
	for k := range raw {
		if !known[k] {
			unknown = append(unknown, k)
		}
	}
	sort.Strings(unknown)
	for _, k := range unknown {
		warnings = append(warnings, fmt.Sprintf("%s: %s: unknown key, ignored", name, k))
	}

	cfg := &Config{}
	for _, s := range Settings {
		v, present := raw[s.Name]
		if present && string(bytes.TrimSpace(v)) == "null" {
			present = false
		}
		if !present {
			if s.Required {
				probs.add(s.Name, "required")
			}
			continue
		}
		switch s.Kind {
		case KindInteger:
			n, err := parseInt(v)
			if err != nil {
				probs.add(s.Name, "%s", err)
				continue
			}
			if (s.Min != 0 || s.Max != 0) && (n < s.Min || n > s.Max) {
				probs.add(s.Name, "must be between %d and %d, got %d", s.Min, s.Max, n)
				continue
			}
			setInt(cfg, s.Name, n)
		default:
			var str string
			if err := json.Unmarshal(v, &str); err != nil {
				probs.add(s.Name, "must be a string, got %s", jsonKind(v))
				continue
			}
			str = strings.TrimSpace(str)
			if str == "" && s.Required {
				probs.add(s.Name, "required, got an empty string")
				continue
			}
			setString(cfg, s, str, probs)
		}
	}
	applyDefaults(cfg, raw)
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

func applyDefaults(cfg *Config, raw map[string]json.RawMessage) {
	if cfg.QuotaLimit == 0 {
		cfg.QuotaLimit = 100
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	if cfg.MaxWorkers == 0 {
		cfg.MaxWorkers = 4
	}
	if cfg.RequestTimeout == 0 {
		cfg.RequestTimeout = 300 * time.Second
	}
}

func setInt(cfg *Config, name string, n int) {
	switch name {
	case "quota_limit":
		cfg.QuotaLimit = n
	case "max_workers":
		cfg.MaxWorkers = n
	case "request_timeout":
		cfg.RequestTimeout = time.Duration(n) * time.Second
	}
}

func setString(cfg *Config, s Setting, v string, probs *Problems) {
	switch s.Name {
	case "api_key":
		cfg.APIKey = Secret(v)
	case "subdomain":
		v = strings.TrimPrefix(v, "subdomain-")
		if strings.ContainsAny(v, "/?#. :@") {
			probs.add(s.Name, "must be the bare subdomain (for mysite.recurly.com use \"mysite\")")
			return
		}
		cfg.Subdomain = v
	case "start_date", "end_date":
		t, err := ParseTime(v)
		if err != nil {
			probs.add(s.Name, "%q is not an RFC 3339 timestamp or a YYYY-MM-DD date", v)
			return
		}
		if s.Name == "start_date" {
			cfg.StartDate = t
		} else {
			cfg.EndDate = t
		}
	case "user_agent":
		if strings.ContainsAny(v, "\r\n") {
			probs.add(s.Name, "must be one line")
			return
		}
		cfg.UserAgent = v
	case "base_url":
		if err := checkBaseURL(v); err != nil {
			probs.add(s.Name, "%s", err)
			return
		}
		cfg.BaseURL = strings.TrimRight(v, "/")
	}
}

// checkBaseURL accepts https anywhere and plain http only on loopback.
func checkBaseURL(v string) error {
	u, err := url.Parse(v)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return fmt.Errorf("%q is not an http(s) URL", v)
	}
	if u.User != nil {
		return fmt.Errorf("must not contain credentials")
	}
	if u.Scheme == "http" && !IsLoopback(u.Hostname()) {
		return fmt.Errorf("plain http is refused for non-loopback host %q (the API key would travel unencrypted); use https", u.Hostname())
	}
	return nil
}

// IsLoopback reports whether host names this machine: localhost or an
// address in 127.0.0.0/8 or ::1.
func IsLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// ParseTime reads an RFC 3339 timestamp, or a YYYY-MM-DD date as midnight
// UTC. The result is in UTC.
func ParseTime(v string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t.UTC(), nil
	}
	t, err := time.Parse("2006-01-02", v)
	if err != nil {
		return time.Time{}, err
	}
	return t.UTC(), nil
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
		return 0, fmt.Errorf("must be an integer, got %s", clip(string(v)))
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

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
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
	if errors.Is(err, errors.New("EOF")) || strings.Contains(err.Error(), "EOF") {
		return "unexpected end of file"
	}
	return "invalid JSON"
}
