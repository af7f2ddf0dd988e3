package cli

// Tests that keep the tap's self-description and its mirrors in agreement:
// --about, the README's config and streams tables, the Meltano plugin
// definition in meltano.yml (and its copy in the README), and the wrapped
// state Meltano may pass.

import (
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/tap-recurly/tap-recurly/config"
	"github.com/tap-recurly/tap-recurly/recurlytest"
	"github.com/tap-recurly/tap-recurly/state"
	"github.com/tap-recurly/tap-recurly/streams"
)

// readRepoFile reads a file at the repository root.
func readRepoFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("../" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// marked returns the text between the markers <!-- name:start --> and
// <!-- name:end --> in whichever of README.md and the docs/ pages holds
// them: exactly one must, so the generated blocks can move between pages.
func marked(t *testing.T, name string) string {
	t.Helper()
	var found []string
	for _, file := range docFiles(t) {
		if strings.Contains(readRepoFile(t, file), "<!-- "+name+":start -->") {
			found = append(found, file)
		}
	}
	if len(found) != 1 {
		t.Fatalf("the %s markers are in %d of README.md and docs/*.md (%v), want exactly one", name, len(found), found)
	}
	return between(t, readRepoFile(t, found[0]), name)
}

// between returns the text between the markers <!-- name:start --> and
// <!-- name:end -->, without the newline after the start marker.
func between(t *testing.T, doc, name string) string {
	t.Helper()
	start, end := "<!-- "+name+":start -->\n", "<!-- "+name+":end -->"
	i := strings.Index(doc, start)
	j := strings.Index(doc, end)
	if i < 0 || j < i {
		t.Fatalf("the document lacks the markers %q ... %q", strings.TrimSpace(start), end)
	}
	if strings.Count(doc, start) != 1 || strings.Count(doc, end) != 1 {
		t.Fatalf("the document has the %s markers more than once", name)
	}
	return doc[i+len(start) : j]
}

func TestAboutJSON(t *testing.T) {
	code, stdout, stderr := runCmd(t, "--about")
	if code != ExitOK || stderr != "" {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	var about struct {
		Name         string   `json:"name"`
		Version      string   `json:"version"`
		Capabilities []string `json:"capabilities"`
		Settings     struct {
			Properties map[string]map[string]any `json:"properties"`
			Required   []string                  `json:"required"`
		} `json:"settings"`
	}
	if err := json.Unmarshal([]byte(stdout), &about); err != nil {
		t.Fatalf("--about is not JSON: %v\n%s", err, stdout)
	}
	if about.Name != "tap-recurly" || about.Version != Version {
		t.Errorf("name %q version %q", about.Name, about.Version)
	}
	if !slices.Equal(about.Capabilities, Capabilities) {
		t.Errorf("capabilities %v, want %v", about.Capabilities, Capabilities)
	}
	for _, want := range []string{"catalog", "discover", "state", "about", "test"} {
		if !slices.Contains(about.Capabilities, want) {
			t.Errorf("capability %q missing", want)
		}
	}
	var required []string
	for _, s := range config.Settings {
		p, ok := about.Settings.Properties[s.Name]
		if !ok {
			t.Errorf("setting %s missing from --about", s.Name)
			continue
		}
		if p["description"] != s.Description {
			t.Errorf("%s: description %q, want %q", s.Name, p["description"], s.Description)
		}
		secret := p["secret"] == true && p["writeOnly"] == true
		if secret != s.Secret {
			t.Errorf("%s: marked secret %v, want %v", s.Name, secret, s.Secret)
		}
		if s.Required {
			required = append(required, s.Name)
		}
	}
	if len(about.Settings.Properties) != len(config.Settings) {
		t.Errorf("--about has %d settings, config.Settings %d", len(about.Settings.Properties), len(config.Settings))
	}
	if !slices.Equal(about.Settings.Required, required) {
		t.Errorf("required %v, want %v", about.Settings.Required, required)
	}
}

func TestAboutMarkdownHasTheConfigTable(t *testing.T) {
	code, stdout, stderr := runCmd(t, "--about", "--format", "markdown")
	if code != ExitOK || stderr != "" {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	if !strings.Contains(stdout, config.MarkdownTable()) {
		t.Errorf("--about --format markdown lacks config.MarkdownTable():\n%s", stdout)
	}
	if code, _, stderr := runCmd(t, "--about", "--format", "yaml"); code != ExitBadInput || !strings.Contains(stderr, "unknown format") {
		t.Errorf("--format yaml: exit %d, stderr %q", code, stderr)
	}
}

// TestReadmeConfigTable keeps the README's config reference equal to the
// table --about --format markdown prints.
func TestReadmeConfigTable(t *testing.T) {
	got := marked(t, "config-table")
	want := config.MarkdownTable()
	if got != want {
		t.Errorf("README.md's config table differs from config.MarkdownTable() (the --about source).\n"+
			"Replace the text between <!-- config-table:start --> and <!-- config-table:end --> with:\n\n%s", want)
	}
}

// streamsTable renders streams.All() as the README's streams table.
func streamsTable() string {
	var b strings.Builder
	b.WriteString("| stream | API object | primary key | replication key | API source | requests per run |\n")
	b.WriteString("|---|---|---|---|---|---|\n")
	for _, st := range streams.All() {
		src := fmt.Sprintf("`GET /sites/{site}/%s`", st.Path())
		if st.Embedded != "" {
			src = fmt.Sprintf("the `%s` object embedded in each record of `GET /sites/{site}/%s` (one read serves both streams)",
				st.Embedded, st.Source)
			if st.Fallback != "" {
				src += fmt.Sprintf("; `GET /sites/{site}/%s` only for a record that lacks the key (404: none)",
					strings.ReplaceAll(st.Fallback, "%s", "{id}"))
			}
		}
		if st.PerParent() {
			src += " for each record of `" + st.Parent + "`"
			if w := st.ParentWhere; w.Field != "" {
				src += fmt.Sprintf(" with `%s: %s`", w.Field, w.Value)
			}
		}
		name := fmt.Sprintf("`%s`", st.Name)
		if st.OptIn {
			name += " (opt-in)"
		}
		fmt.Fprintf(&b, "| %s | %s | `%s` | `%s` | %s | %s |\n", name, st.Object, st.KeyProperty, st.ReplicationKey, src, st.Cost())
	}
	return b.String()
}

// TestReadmeStreamsTable keeps the README's streams table equal to the
// stream table the sync runs on.
func TestReadmeStreamsTable(t *testing.T) {
	got := marked(t, "streams-table")
	if want := streamsTable(); got != want {
		t.Errorf("README.md's streams table differs from streams.All().\n"+
			"Replace the text between <!-- streams-table:start --> and <!-- streams-table:end --> with:\n\n%s", want)
	}
}

// TestReadmeNamesEveryPackage checks the architecture section names every
// package of the module.
func TestReadmeNamesEveryPackage(t *testing.T) {
	arch := marked(t, "architecture")
	var missing []string
	for _, dir := range goPackageDirs(t) {
		if !strings.Contains(arch, "`"+dir+"`") {
			missing = append(missing, dir)
		}
	}
	if len(missing) > 0 {
		t.Errorf("the README's architecture section does not name: %s", strings.Join(missing, ", "))
	}
}

// goPackageDirs lists the module's package folders (with non-test .go
// files), relative to the repository root.
func goPackageDirs(t *testing.T) []string {
	t.Helper()
	var dirs []string
	seen := map[string]bool{}
	var walk func(dir string)
	walk = func(dir string) {
		entries, err := os.ReadDir("../" + dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			name := e.Name()
			rel := strings.TrimPrefix(dir+"/"+name, "./")
			switch {
			case e.IsDir():
				if strings.HasPrefix(name, ".") || name == "testdata" || name == "bin" || name == "out" || name == "vendor" {
					continue
				}
				walk(rel)
			case strings.HasSuffix(name, ".go") && !strings.HasSuffix(name, "_test.go") && dir != "." && !seen[dir]:
				seen[dir] = true
				dirs = append(dirs, dir)
			}
		}
	}
	walk(".")
	sort.Strings(dirs)
	return dirs
}

// meltanoProject is the part of meltano.yml the tests read.
type meltanoProject struct {
	Plugins struct {
		Extractors []map[string]any `yaml:"extractors"`
		Loaders    []map[string]any `yaml:"loaders"`
	} `yaml:"plugins"`
}

// meltanoSetting is one entry of an extractor's settings.
type meltanoSetting struct {
	Name        string `yaml:"name"`
	Kind        string `yaml:"kind"`
	Sensitive   bool   `yaml:"sensitive"`
	Value       any    `yaml:"value"`
	Label       string `yaml:"label"`
	Description string `yaml:"description"`
	Options     []struct {
		Label string `yaml:"label"`
		Value string `yaml:"value"`
	} `yaml:"options"`
}

// meltanoExtractor is the tap-recurly plugin definition.
type meltanoExtractor struct {
	Name                    string           `yaml:"name"`
	Namespace               string           `yaml:"namespace"`
	Label                   string           `yaml:"label"`
	Executable              string           `yaml:"executable"`
	PipURL                  string           `yaml:"pip_url"`
	Capabilities            []string         `yaml:"capabilities"`
	SettingsGroupValidation [][]string       `yaml:"settings_group_validation"`
	Settings                []meltanoSetting `yaml:"settings"`
	Config                  map[string]any   `yaml:"config"`
	Select                  []string         `yaml:"select"`
}

func parseExtractor(t *testing.T, name string, m map[string]any) meltanoExtractor {
	t.Helper()
	b, err := yaml.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	var ex meltanoExtractor
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(true)
	if err := dec.Decode(&ex); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return ex
}

func loadMeltano(t *testing.T) (meltanoProject, meltanoExtractor) {
	t.Helper()
	var p meltanoProject
	if err := yaml.Unmarshal([]byte(readRepoFile(t, "meltano.yml")), &p); err != nil {
		t.Fatalf("meltano.yml: %v", err)
	}
	if len(p.Plugins.Extractors) != 1 {
		t.Fatalf("meltano.yml has %d extractors, want 1", len(p.Plugins.Extractors))
	}
	return p, parseExtractor(t, "meltano.yml", p.Plugins.Extractors[0])
}

// TestMeltanoPlugin checks meltano.yml's extractor definition against the
// tap: executable, capabilities (cli.Capabilities), and every setting of
// config.Settings with its kind, secrecy, default and description.
func TestMeltanoPlugin(t *testing.T) {
	p, ex := loadMeltano(t)
	if ex.Name != "tap-recurly" || ex.Namespace != "tap_recurly" || ex.Executable != "tap-recurly" || ex.PipURL != "" {
		t.Errorf("name %q namespace %q executable %q pip_url %q", ex.Name, ex.Namespace, ex.Executable, ex.PipURL)
	}
	if !slices.Equal(ex.Capabilities, Capabilities) {
		t.Errorf("capabilities %v, want cli.Capabilities %v", ex.Capabilities, Capabilities)
	}
	if len(ex.Settings) != len(config.Settings) {
		t.Errorf("%d settings, want %d", len(ex.Settings), len(config.Settings))
	}
	var required []string
	for i, s := range config.Settings {
		if s.Required {
			required = append(required, s.Name)
		}
		if i >= len(ex.Settings) {
			t.Errorf("setting %s missing", s.Name)
			continue
		}
		m := ex.Settings[i]
		if m.Name != s.Name || m.Kind != string(s.Kind) || m.Sensitive != s.Secret {
			t.Errorf("setting %d: name %q kind %q sensitive %v, want %q %q %v", i, m.Name, m.Kind, m.Sensitive, s.Name, s.Kind, s.Secret)
		}
		if !reflect.DeepEqual(m.Value, s.Default) {
			t.Errorf("%s: value %#v, want the default %#v", s.Name, m.Value, s.Default)
		}
		if m.Description != s.Description {
			t.Errorf("%s: description %q, want %q", s.Name, m.Description, s.Description)
		}
		if m.Label == "" {
			t.Errorf("%s: no label", s.Name)
		}
		var options []string
		for _, o := range m.Options {
			options = append(options, o.Value)
		}
		if !slices.Equal(options, s.Enum) {
			t.Errorf("%s: options %v, want %v", s.Name, options, s.Enum)
		}
	}
	if len(ex.SettingsGroupValidation) != 1 || !slices.Equal(ex.SettingsGroupValidation[0], required) {
		t.Errorf("settings_group_validation %v, want [%v]", ex.SettingsGroupValidation, required)
	}
	known := map[string]bool{}
	for _, s := range config.Settings {
		known[s.Name] = true
	}
	for k := range ex.Config {
		if !known[k] {
			t.Errorf("config key %q is not a setting", k)
		}
		if k == "api_key" {
			t.Errorf("meltano.yml must not hold the API key")
		}
	}
	for _, sel := range ex.Select {
		stream, _, _ := strings.Cut(strings.TrimPrefix(sel, "!"), ".")
		if _, ok := streams.ByName(stream); !ok {
			t.Errorf("select %q names no stream", sel)
		}
	}
	if len(p.Plugins.Loaders) != 1 || p.Plugins.Loaders[0]["name"] != "target-jsonl" {
		t.Errorf("loaders %v, want target-jsonl", p.Plugins.Loaders)
	}
}

// TestReadmeMeltanoSnippet keeps the plugin definition shown in the README
// equal to meltano.yml's.
func TestReadmeMeltanoSnippet(t *testing.T) {
	_, want := loadMeltano(t)
	block := marked(t, "meltano-plugin")
	block = strings.TrimPrefix(strings.TrimSpace(block), "```yaml")
	block = strings.TrimSuffix(block, "```")
	var doc struct {
		Plugins struct {
			Extractors []map[string]any `yaml:"extractors"`
		} `yaml:"plugins"`
	}
	if err := yaml.Unmarshal([]byte(block), &doc); err != nil {
		t.Fatalf("README's meltano snippet: %v", err)
	}
	if len(doc.Plugins.Extractors) != 1 {
		t.Fatalf("README's meltano snippet has %d extractors", len(doc.Plugins.Extractors))
	}
	if got := parseExtractor(t, "README", doc.Plugins.Extractors[0]); !reflect.DeepEqual(got, want) {
		t.Errorf("README's meltano snippet differs from meltano.yml:\n%+v\nwant\n%+v", got, want)
	}
}

// TestMeltanoStateIsAcceptedWrappedOrNot runs a sync from the same
// bookmarks given bare, wrapped the way `meltano state get` prints them, as
// a STATE message and as {"value": ...}, and checks each run resumes from
// the bookmarks: requests begin there, no record before them is emitted.
func TestMeltanoStateIsAcceptedWrappedOrNot(t *testing.T) {
	srv := startSim(t, recurlytest.Config{Seed: 3, Counts: cliTinyCounts})
	cfg := writeSimConfig(t, srv, nil)
	catalog := catalogSelecting(t, "accounts", "transactions")
	mid := func(resource string) string {
		var ts []string
		for _, k := range srv.Site.Keys(resource) {
			if k.Replication != nil {
				ts = append(ts, state.Format(*k.Replication))
			}
		}
		sort.Strings(ts)
		return ts[len(ts)/2]
	}
	bookmarks := map[string]map[string]string{
		"accounts":     {"updated_at": mid("accounts")},
		"transactions": {"collected_at": mid("transactions")},
	}
	inner := map[string]any{"bookmarks": bookmarks, "currently_syncing": nil}
	forms := []struct {
		name string
		doc  any
	}{
		{"bare", inner},
		{"meltano singer_state", map[string]any{"singer_state": inner}},
		{"STATE message", map[string]any{"type": "STATE", "value": inner}},
		{"value", map[string]any{"value": inner}},
	}
	for _, f := range forms {
		t.Run(f.name, func(t *testing.T) {
			srv.Site.ResetRequests()
			code, stdout, stderr := runCmd(t, "--config", cfg, "--catalog", catalog, "--state", tempFile(t, "state.json", f.doc))
			if code != ExitOK {
				t.Fatalf("exit %d; stderr:\n%s", code, stderr)
			}
			for stream, bm := range bookmarks {
				for key, v := range bm {
					if want := fmt.Sprintf("stream %s: from bookmark %s", stream, v); !strings.Contains(stderr, want) {
						t.Errorf("stderr lacks %q:\n%s", want, stderr)
					}
					if key == "updated_at" { // the field the API filters on; transactions filter on their hidden updated_at
						checkRecordsFrom(t, stdout, stream, key, v)
					}
				}
			}
			begins := map[string][]string{}
			for _, r := range srv.Site.Requests() {
				if m := regexp.MustCompile(`(?:^|&)begin_time=([^&]+)`).FindStringSubmatch(r.RawQuery); m != nil && !strings.Contains(r.RawQuery, "cursor=") {
					res := r.Path[strings.LastIndex(r.Path, "/")+1:]
					begins[res] = append(begins[res], strings.ReplaceAll(m[1], "%3A", ":"))
				}
			}
			for res, stream := range map[string]string{"accounts": "accounts", "transactions": "transactions"} {
				var want string
				for _, v := range bookmarks[stream] {
					want = v
				}
				if len(begins[res]) == 0 {
					t.Errorf("no %s request with begin_time", res)
					continue
				}
				sort.Strings(begins[res])
				if begins[res][0] != want {
					t.Errorf("%s requests begin at %v, want the earliest at the bookmark %s", res, begins[res], want)
				}
			}
		})
	}
}

// checkRecordsFrom fails if stdout has a RECORD of stream whose key is
// before from, or has no RECORD of stream at all.
func checkRecordsFrom(t *testing.T, stdout, stream, key, from string) {
	t.Helper()
	n := 0
	for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
		var msg struct {
			Type   string         `json:"type"`
			Stream string         `json:"stream"`
			Record map[string]any `json:"record"`
		}
		if err := json.Unmarshal([]byte(line), &msg); err != nil {
			t.Fatalf("stdout line is not JSON: %v: %.200s", err, line)
		}
		if msg.Type != "RECORD" || msg.Stream != stream {
			continue
		}
		n++
		v, ok := msg.Record[key].(string)
		if ok && v < from {
			t.Errorf("%s record %v has %s %s, before the bookmark %s", stream, msg.Record["id"], key, v, from)
		}
	}
	if n == 0 {
		t.Errorf("no %s records emitted", stream)
	}
}
