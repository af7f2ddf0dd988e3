package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/tap-recurly/tap-recurly/config"
	"github.com/tap-recurly/tap-recurly/layouts"
	"github.com/tap-recurly/tap-recurly/singer"
	"github.com/tap-recurly/tap-recurly/streams"
)

// Capabilities are what the tap supports, in Meltano's vocabulary.
var Capabilities = []string{"catalog", "discover", "state", "about", "properties", "test"}

// Discover builds the catalog of every stream of the default layout
// (streams); see DiscoverLayout.
func Discover() (*singer.Catalog, error) { return DiscoverLayout(layouts.Default()) }

// DiscoverLayout builds the catalog of every table of a layout, everything
// selected by default but the opt-in tables (selected-by-default false),
// each with a description naming its source and its request cost. It makes
// no network call.
func DiscoverLayout(lay *layouts.Layout) (*singer.Catalog, error) {
	cat := &singer.Catalog{}
	for _, st := range lay.All() {
		schema, err := lay.Schema(st.Name)
		if err != nil {
			return nil, err
		}
		entry, err := singer.NewCatalogEntry(st.Name, schema, st.KeyProperties(), st.ReplicationKey)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", st.Name, err)
		}
		entry.Description = streamDescription(st)
		if st.OptIn {
			entry.Metadata.Set([]string{}, singer.SelectedByDefault, false)
		}
		cat.Streams = append(cat.Streams, entry)
	}
	return cat, nil
}

// streamDescription is a stream's catalog description: its records, where
// they come from, and the requests a run spends on them.
func streamDescription(st streams.Stream) string {
	d := fmt.Sprintf("Recurly %s records from GET /sites/{site}/%s", st.Object, st.Path())
	if st.Embedded != "" {
		d = fmt.Sprintf("Recurly %s records embedded (%s) in each record of GET /sites/{site}/%s, read once with accounts", st.Object, st.Embedded, st.Path())
	}
	if st.Rows != nil {
		d = "dbt_recurly source table (Recurly " + st.Object + "): " + strings.ReplaceAll(rowsOrigin(st), "`", "")
	}
	if st.PerParent() {
		d += fmt.Sprintf(" for each record of %s", st.Parent)
	}
	d += ". Cost: " + strings.ReplaceAll(st.Cost(), "`", "") + "."
	if st.OptIn {
		d += fmt.Sprintf(" Not selected by default: a site with 10,000 %s spends 10,000 requests (25 minutes of a 2,000-per-5-minutes quota) on it every run.", st.Parent)
	}
	return d
}

// rowsOrigin says where a derived table's rows come from.
func rowsOrigin(st streams.Stream) string {
	from := fmt.Sprintf("each record of `GET /sites/{site}/%s`", st.Path())
	if st.PerParent() {
		from += " for each record of `" + st.Parent + "`"
	}
	switch {
	case st.Embedded != "":
		return fmt.Sprintf("one flat row from the `%s` object embedded in %s", st.Embedded, from)
	case st.Rows.Unpack != "":
		return fmt.Sprintf("one row per entry of `%s` in %s", st.Rows.Unpack, from)
	}
	return "one flat row from " + from
}

func writeDiscovery(w io.Writer, lay *layouts.Layout) error {
	cat, err := DiscoverLayout(lay)
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
	dbt, _ := layouts.Get(layouts.DBTRecurly)
	var names, optIn []string
	for _, st := range streams.All() {
		names = append(names, st.Name)
		if st.OptIn {
			optIn = append(optIn, st.Name)
		}
	}
	sort.Strings(names)
	return map[string]any{
		"name": "tap-recurly",
		"description": "Singer tap for Recurly (API v2018-08-09): " + strings.Join(names, ", ") + ". Incremental, quota-aware. " +
			"Opt-in (not selected by default): " + strings.Join(optIn, ", ") + ", which cost one request per account on every run " +
			"(10,000 accounts: 10,000 requests, 25 minutes at 2,000 requests per 5 minutes); unique_coupon_codes costs one request per bulk coupon per run. " +
			"With the setting layout dbt_recurly it writes instead the 18 source tables of Fivetran's dbt_recurly package (" + strings.Join(dbt.Names(), ", ") + "), from the same requests.",
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
