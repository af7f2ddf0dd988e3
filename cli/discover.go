package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/tap-recurly/tap-recurly/config"
	"github.com/tap-recurly/tap-recurly/schemas"
	"github.com/tap-recurly/tap-recurly/singer"
	"github.com/tap-recurly/tap-recurly/streams"
)

// Capabilities are what the tap supports, in Meltano's vocabulary.
var Capabilities = []string{"catalog", "discover", "state", "about", "properties", "test"}

// Discover builds the catalog of every stream, with everything selected by
// default. It makes no network call.
func Discover() (*singer.Catalog, error) {
	cat := &singer.Catalog{}
	for _, st := range streams.All() {
		schema, err := schemas.Get(st.Name)
		if err != nil {
			return nil, err
		}
		entry, err := singer.NewCatalogEntry(st.Name, schema, st.KeyProperties(), st.ReplicationKey)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", st.Name, err)
		}
		cat.Streams = append(cat.Streams, entry)
	}
	return cat, nil
}

func writeDiscovery(w io.Writer) error {
	cat, err := Discover()
	if err != nil {
		return err
	}
	b, err := singer.MarshalCatalog(cat)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// About is the --about document.
func About() map[string]any {
	names := make([]string, 0, 9)
	for _, st := range streams.All() {
		names = append(names, st.Name)
	}
	sort.Strings(names)
	return map[string]any{
		"name":         "tap-recurly",
		"description":  "Singer tap for Recurly (API v2018-08-09): " + strings.Join(names, ", ") + ". Incremental, quota-aware.",
		"version":      Version,
		"capabilities": Capabilities,
		"settings":     config.JSONSchema(),
	}
}

func writeAbout(w io.Writer, format string) error {
	switch format {
	case "json", "":
		b, err := json.MarshalIndent(About(), "", "  ")
		if err != nil {
			return err
		}
		_, err = w.Write(append(b, '\n'))
		return err
	case "markdown":
		a := About()
		_, err := fmt.Fprintf(w, "# tap-recurly\n\n%s\n\nVersion: %s\n\nCapabilities: %s\n\n## Settings\n\n%s",
			a["description"], Version, strings.Join(Capabilities, ", "), config.MarkdownTable())
		return err
	}
	return inputError{fmt.Errorf("--format: unknown format %q (want json or markdown)", format)}
}
