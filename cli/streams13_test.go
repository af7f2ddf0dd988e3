package cli

import (
	"bufio"
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v5"

	"github.com/tap-recurly/tap-recurly/recurlytest"
	"github.com/tap-recurly/tap-recurly/streams"
)

// syncOutput is a sync's stdout, parsed: each stream's SCHEMA and records.
type syncOutput struct {
	schemas map[string]json.RawMessage
	records map[string][]json.RawMessage
}

func parseSync(t *testing.T, stdout string) syncOutput {
	t.Helper()
	out := syncOutput{schemas: map[string]json.RawMessage{}, records: map[string][]json.RawMessage{}}
	sc := bufio.NewScanner(strings.NewReader(stdout))
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		var m struct {
			Type, Stream string
			Schema       json.RawMessage
			Record       json.RawMessage
		}
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("stdout line is not JSON: %v", err)
		}
		switch m.Type {
		case "SCHEMA":
			out.schemas[m.Stream] = m.Schema
		case "RECORD":
			if out.schemas[m.Stream] == nil {
				t.Fatalf("RECORD of %s before its SCHEMA", m.Stream)
			}
			out.records[m.Stream] = append(out.records[m.Stream], m.Record)
		}
	}
	return out
}

// TestOptInStreamsNeedACatalog: without a catalog the two per-account
// streams are neither synced nor asked for, and the log says why.
func TestOptInStreamsNeedACatalog(t *testing.T) {
	srv := startSim(t, recurlytest.Config{Seed: 5, Counts: recurlytest.ScaledCounts(1500)})
	code, stdout, stderr := runCmd(t, "--config", writeSimConfig(t, srv, nil))
	if code != ExitOK {
		t.Fatalf("exit %d; stderr:\n%s", code, stderr)
	}
	out := parseSync(t, stdout)
	for _, st := range streams.All() {
		_, synced := out.schemas[st.Name]
		if synced == st.OptIn {
			t.Errorf("%s: synced %v without a catalog, want %v", st.Name, synced, !st.OptIn)
		}
		if st.OptIn && !strings.Contains(stderr, st.Name+" (opt-in: one request per record of accounts per run; select it in a catalog)") {
			t.Errorf("%s: the log does not say it was skipped as opt-in:\n%s", st.Name, stderr)
		}
	}
	for _, r := range srv.Site.Requests() {
		if strings.HasSuffix(r.Path, "/notes") || strings.HasSuffix(r.Path, "/coupon_redemptions") {
			t.Fatalf("asked for %s without a catalog selecting it", r.Path)
		}
	}
}

// TestCatalogSelectingAllStreams syncs all fifteen streams from the
// simulated site and checks every record against its stream's SCHEMA.
func TestCatalogSelectingAllStreams(t *testing.T) {
	srv := startSim(t, recurlytest.Config{Seed: 6, Counts: recurlytest.ScaledCounts(1200)})
	var names []string
	for _, st := range streams.All() {
		names = append(names, st.Name)
	}
	code, stdout, stderr := runCmd(t, "--config", writeSimConfig(t, srv, nil), "--catalog", catalogSelecting(t, names...))
	if code != ExitOK {
		t.Fatalf("exit %d; stderr:\n%s", code, stderr)
	}
	out := parseSync(t, stdout)
	if len(names) != 15 {
		t.Fatalf("%d streams, want 15", len(names))
	}
	for _, name := range names {
		c := jsonschema.NewCompiler()
		c.Draft = jsonschema.Draft7
		c.AssertFormat = true
		if err := c.AddResource(name+".json", bytes.NewReader(out.schemas[name])); err != nil {
			t.Fatalf("%s: SCHEMA: %v", name, err)
		}
		schema, err := c.Compile(name + ".json")
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(out.records[name]) == 0 {
			t.Errorf("%s: no records synced", name)
		}
		for _, r := range out.records[name] {
			var v any
			if err := json.Unmarshal(r, &v); err != nil {
				t.Fatal(err)
			}
			if err := schema.Validate(v); err != nil {
				t.Fatalf("%s record does not validate: %v\n%s", name, err, r)
			}
		}
	}
}
