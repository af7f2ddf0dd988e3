package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v5"

	"github.com/tap-recurly/tap-recurly/layouts"
	"github.com/tap-recurly/tap-recurly/recurlytest"
	"github.com/tap-recurly/tap-recurly/streams"
)

// counterpart is the streams-layout stream that reads the same records a
// dbt_recurly table derives its rows from (same listing, same embedded
// record); false for none.
func counterpart(tbl streams.Stream) (streams.Stream, bool) {
	for _, st := range streams.All() {
		if st.Source == tbl.Source && st.Embedded == tbl.Embedded {
			return st, true
		}
	}
	return streams.Stream{}, false
}

// requestPaths is the sorted list of "METHOD path" of a run's requests
// (queries hold the run's own signpost, so they are left out).
func requestPaths(srv *recurlytest.Server) []string {
	var out []string
	for _, r := range srv.Site.Requests() {
		out = append(out, r.Method+" "+r.Path)
	}
	sort.Strings(out)
	return out
}

// TestDBTRecurlyLayoutSameRequestsSameData syncs one simulated site in both
// layouts: the dbt_recurly layout's default selection makes exactly the
// requests the streams layout makes for the streams whose records it reads
// (one listing feeds every table derived from it; unpacked child tables
// cost nothing), and each table's rows are those its rows derivation gives
// for the records the streams layout emitted. Every row validates against
// its table's SCHEMA, holds exactly its columns, and has no null key.
func TestDBTRecurlyLayoutSameRequestsSameData(t *testing.T) {
	srv := startSim(t, recurlytest.Config{Seed: 19, Counts: recurlytest.ScaledCounts(2500)})
	lay, err := layouts.Get(layouts.DBTRecurly)
	if err != nil {
		t.Fatal(err)
	}
	sources := map[string]bool{}
	for _, tbl := range lay.All() {
		if tbl.OptIn {
			continue
		}
		st, ok := counterpart(tbl)
		if !ok {
			t.Fatalf("%s: no stream reads its records", tbl.Name)
		}
		sources[st.Name] = true
	}
	var names []string
	for n := range sources {
		names = append(names, n)
	}
	code, stdout, stderr := runCmd(t, "--config", writeSimConfig(t, srv, nil), "--catalog", catalogSelecting(t, names...))
	if code != ExitOK {
		t.Fatalf("streams layout: exit %d; stderr:\n%s", code, stderr)
	}
	streamsOut, streamsReqs := parseSync(t, stdout), requestPaths(srv)
	srv.Site.ResetRequests()

	code, stdout, stderr = runCmd(t, "--config", writeSimConfig(t, srv, map[string]any{"layout": "dbt_recurly"}))
	if code != ExitOK {
		t.Fatalf("dbt_recurly layout: exit %d; stderr:\n%s", code, stderr)
	}
	dbtOut, dbtReqs := parseSync(t, stdout), requestPaths(srv)
	if !slices.Equal(dbtReqs, streamsReqs) {
		t.Errorf("dbt_recurly made %d requests, the streams layout %d for the same records:\n%v\nvs\n%v",
			len(dbtReqs), len(streamsReqs), dbtReqs, streamsReqs)
	}
	for _, tbl := range lay.All() {
		if tbl.OptIn {
			if _, ok := dbtOut.schemas[tbl.Name]; ok {
				t.Errorf("%s: opt-in, synced without a catalog", tbl.Name)
			}
			continue
		}
		t.Run(tbl.Name, func(t *testing.T) {
			st, _ := counterpart(tbl)
			var want []string
			for _, rec := range streamsOut.records[st.Name] {
				rows, err := tbl.Rows.Apply(rec, time.Unix(1, 0))
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range rows {
					want = append(want, withoutSynced(t, r))
				}
			}
			var got []string
			for _, r := range dbtOut.records[tbl.Name] {
				got = append(got, withoutSynced(t, r))
			}
			sort.Strings(want)
			sort.Strings(got)
			if len(got) == 0 {
				t.Fatalf("no rows")
			}
			if !slices.Equal(got, want) {
				t.Fatalf("%d rows, want the %d derived from the %d %s records", len(got), len(want), len(streamsOut.records[st.Name]), st.Name)
			}
			checkRows(t, tbl, dbtOut.schemas[tbl.Name], dbtOut.records[tbl.Name])
		})
	}
}

// withoutSynced is a row's JSON without _fivetran_synced (the runs differ
// in it), after checking that it is an RFC 3339 UTC time.
func withoutSynced(t *testing.T, raw json.RawMessage) string {
	t.Helper()
	var row map[string]any
	if err := json.Unmarshal(raw, &row); err != nil {
		t.Fatal(err)
	}
	if s, ok := row["_fivetran_synced"].(string); ok {
		if ts, err := time.Parse(time.RFC3339Nano, s); err != nil || !strings.HasSuffix(s, "Z") || ts.IsZero() {
			t.Fatalf("_fivetran_synced %q is not an RFC 3339 UTC time", s)
		}
	}
	delete(row, "_fivetran_synced")
	b, err := json.Marshal(row)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// checkRows validates each row against the table's SCHEMA and checks it
// holds exactly the table's columns with non-null keys, and that no two
// rows share a key (an upserting target would keep only one).
func checkRows(t *testing.T, tbl streams.Stream, schema json.RawMessage, rows []json.RawMessage) {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.Draft = jsonschema.Draft7
	c.AssertFormat = true
	if err := c.AddResource(tbl.Name+".json", bytes.NewReader(schema)); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile(tbl.Name + ".json")
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]bool{}
	for _, raw := range rows {
		var row map[string]any
		if err := json.Unmarshal(raw, &row); err != nil {
			t.Fatal(err)
		}
		if err := sch.Validate(row); err != nil {
			t.Fatalf("row does not validate: %v\n%s", err, raw)
		}
		if len(row) != len(tbl.Rows.Columns) {
			t.Fatalf("row has %d columns, want %d: %s", len(row), len(tbl.Rows.Columns), raw)
		}
		var key []string
		for _, k := range tbl.KeyProperties() {
			if row[k] == nil {
				t.Fatalf("key %s is null: %s", k, raw)
			}
			key = append(key, fmt.Sprint(row[k]))
		}
		if k := strings.Join(key, "|"); keys[k] {
			t.Errorf("two rows with key %s", k)
		} else {
			keys[k] = true
		}
	}
}

// TestDBTRecurlyDiscovery: with layout dbt_recurly, --discover lists the
// package's 18 tables, the per-parent ones opt-in with their cost, and a
// catalog naming a streams-layout stream is refused naming the layout.
func TestDBTRecurlyDiscovery(t *testing.T) {
	srv := startSim(t, recurlytest.Config{Seed: 3, Counts: recurlytest.ScaledCounts(300)})
	cfg := writeSimConfig(t, srv, map[string]any{"layout": "dbt_recurly"})
	code, stdout, stderr := runCmd(t, "--config", cfg, "--discover")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var cat struct {
		Streams []struct {
			Stream      string `json:"stream"`
			Description string `json:"description"`
			Metadata    []struct {
				Breadcrumb []string       `json:"breadcrumb"`
				Metadata   map[string]any `json:"metadata"`
			} `json:"metadata"`
		} `json:"streams"`
	}
	if err := json.Unmarshal([]byte(stdout), &cat); err != nil {
		t.Fatal(err)
	}
	lay, _ := layouts.Get(layouts.DBTRecurly)
	var got []string
	for _, s := range cat.Streams {
		got = append(got, s.Stream)
		tbl, _ := lay.ByName(s.Stream)
		root := s.Metadata[0].Metadata
		if tbl.OptIn != (root["selected-by-default"] == false) {
			t.Errorf("%s: selected-by-default %v, opt-in %v", s.Stream, root["selected-by-default"], tbl.OptIn)
		}
		if tbl.OptIn && !strings.Contains(s.Description, "one request for each record of "+tbl.Parent) {
			t.Errorf("%s: description does not state its cost: %s", s.Stream, s.Description)
		}
		if keys, _ := root["table-key-properties"].([]any); len(keys) != len(tbl.KeyProperties()) {
			t.Errorf("%s: table-key-properties %v, want %v", s.Stream, keys, tbl.KeyProperties())
		}
	}
	if !slices.Equal(got, lay.Names()) || len(got) != 18 {
		t.Errorf("discovered %v, want %v", got, lay.Names())
	}
	code, _, stderr = runCmd(t, "--config", cfg, "--catalog", catalogSelecting(t, "accounts"))
	if code == ExitOK || !strings.Contains(stderr, `(known in layout dbt_recurly: account_balance_history, `) {
		t.Errorf("a streams-layout catalog under layout dbt_recurly: exit %d, stderr:\n%s", code, stderr)
	}
}

// TestDBTRecurlyPerParentTables syncs the opt-in per-parent tables over
// more than a page of parents: each child row carries its own parent's id
// and updated_at (as account_history and invoice_history have them in the
// same run), and the balances of every account are read.
func TestDBTRecurlyPerParentTables(t *testing.T) {
	srv := startSim(t, recurlytest.Config{Seed: 23, Counts: recurlytest.ScaledCounts(2000)})
	lay, _ := layouts.Get(layouts.DBTRecurly)
	cat, err := DiscoverLayout(lay)
	if err != nil {
		t.Fatal(err)
	}
	for i := range cat.Streams {
		cat.Streams[i].Metadata.Set([]string{}, "selected", true)
	}
	b, err := json.Marshal(cat)
	if err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCmd(t, "--config", writeSimConfig(t, srv, map[string]any{"layout": "dbt_recurly"}),
		"--catalog", tempFile(t, "catalog.json", string(b)))
	if code != ExitOK {
		t.Fatalf("exit %d; stderr:\n%s", code, stderr)
	}
	out := parseSync(t, stdout)
	updated := func(table string) map[string]string {
		m := map[string]string{}
		for _, r := range out.records[table] {
			var row struct{ ID, UpdatedAt string }
			var raw map[string]any
			if err := json.Unmarshal(r, &raw); err != nil {
				t.Fatal(err)
			}
			row.ID, _ = raw["id"].(string)
			row.UpdatedAt, _ = raw["updated_at"].(string)
			m[row.ID] = row.UpdatedAt
		}
		return m
	}
	accounts, invoices := updated("account_history"), updated("invoice_history")
	if len(accounts) <= streams.PageSize {
		t.Fatalf("%d accounts: want more than a page", len(accounts))
	}
	for _, c := range []struct {
		table, idCol, atCol string
		parents             map[string]string
	}{
		{"account_balance_history", "account_id", "account_updated_at", accounts},
		{"account_note_history", "account_id", "account_updated_at", accounts},
		{"invoice_coupon_redemption_history", "invoice_id", "invoice_updated_at", invoices},
	} {
		rows := out.records[c.table]
		if len(rows) == 0 {
			t.Errorf("%s: no rows", c.table)
		}
		seen := map[string]bool{}
		for _, r := range rows {
			var row map[string]any
			if err := json.Unmarshal(r, &row); err != nil {
				t.Fatal(err)
			}
			id, _ := row[c.idCol].(string)
			seen[id] = true
			if want, ok := c.parents[id]; !ok || row[c.atCol] != want {
				t.Fatalf("%s: %s %q has %s %v, want its parent's updated_at %q", c.table, c.idCol, id, c.atCol, row[c.atCol], want)
			}
		}
		if c.table == "account_balance_history" && len(seen) != len(accounts) {
			t.Errorf("balances of %d accounts, want all %d", len(seen), len(accounts))
		}
		tbl, _ := lay.ByName(c.table)
		checkRows(t, tbl, out.schemas[c.table], rows)
	}
}

// dbtTablesTable renders the dbt_recurly layout as the README's table.
func dbtTablesTable() string {
	lay, _ := layouts.Get(layouts.DBTRecurly)
	var b strings.Builder
	b.WriteString("| table | rows | key_properties | bookmark | requests per run |\n")
	b.WriteString("|---|---|---|---|---|\n")
	for _, st := range lay.All() {
		name := fmt.Sprintf("`%s`", st.Name)
		cost := "none of its own: it shares the `" + st.Source + "` listing"
		if st.OptIn {
			name += " (opt-in)"
			cost = st.Cost()
		}
		fmt.Fprintf(&b, "| %s | %s | `%s` | `%s` | %s |\n", name, rowsOrigin(st), strings.Join(st.KeyProperties(), "`, `"), st.ReplicationKey, cost)
	}
	return b.String()
}

// TestReadmeDBTRecurly keeps the README's dbt_recurly table and its list of
// null columns equal to the layout.
func TestReadmeDBTRecurly(t *testing.T) {
	if got, want := marked(t, "dbt-tables"), dbtTablesTable(); got != want {
		t.Errorf("README.md's dbt_recurly table differs from the layout.\nReplace the text between <!-- dbt-tables:start --> and <!-- dbt-tables:end --> with:\n\n%s", want)
	}
	lay, _ := layouts.Get(layouts.DBTRecurly)
	want := "None: v2018-08-09 supplies every column the macros list.\n"
	if nulls := lay.NullColumns(); len(nulls) > 0 {
		want = "`" + strings.Join(nulls, "`, `") + "`\n"
	}
	if got := marked(t, "dbt-null-columns"); got != want {
		t.Errorf("README.md's null columns: %q, want %q", got, want)
	}
}
