package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v5"

	"github.com/tap-recurly/tap-recurly/internal/jsonscan"
	"github.com/tap-recurly/tap-recurly/recurlytest"
	"github.com/tap-recurly/tap-recurly/state"
)

// driftCounts: accounts and invoices over several pages.
var driftCounts = recurlytest.Counts{Accounts: 450, Invoices: 500, LineItems: 40, Plans: 3, Subscriptions: 20, Transactions: 20, Coupons: 2}

// compileSchemas compiles each SCHEMA a run sent, as a validating target
// would (draft 7, formats asserted).
func compileSchemas(t *testing.T, stdout string) map[string]*jsonschema.Schema {
	t.Helper()
	out := map[string]*jsonschema.Schema{}
	for stream, raw := range parseSync(t, stdout).schemas {
		c := jsonschema.NewCompiler()
		c.Draft = jsonschema.Draft7
		c.AssertFormat = true
		if err := c.AddResource(stream+".json", bytes.NewReader(raw)); err != nil {
			t.Fatal(err)
		}
		s, err := c.Compile(stream + ".json")
		if err != nil {
			t.Fatalf("%s: SCHEMA: %v", stream, err)
		}
		out[stream] = s
	}
	return out
}

// checkRecordsValidate fails the test on any RECORD its SCHEMA refuses.
func checkRecordsValidate(t *testing.T, o *output, stdout string) {
	t.Helper()
	compiled := compileSchemas(t, stdout)
	for stream, recs := range o.records {
		for _, r := range recs {
			dec := json.NewDecoder(bytes.NewReader(r))
			dec.UseNumber()
			var v any
			if err := dec.Decode(&v); err != nil {
				t.Fatal(err)
			}
			if err := compiled[stream].Validate(v); err != nil {
				t.Fatalf("%s RECORD violates its SCHEMA: %v\n%s", stream, err, r)
			}
		}
	}
}

// recordByID is the emitted record of stream with primary key id.
func recordByID(o *output, stream, id string) json.RawMessage {
	var f [1][]byte
	for _, r := range o.records[stream] {
		if jsonscan.Fields(r, []string{"id"}, f[:]) == nil && string(f[0]) == `"`+id+`"` {
			return r
		}
	}
	return nil
}

// TestDriftConforms: unknown fields on accounts are kept and reported once,
// the invoice total sent as "123.45" goes out as the number 123.45 and is
// reported once, and every RECORD validates against its SCHEMA.
func TestDriftConforms(t *testing.T) {
	srv := startSim(t, recurlytest.Config{Seed: 20, Counts: driftCounts, Drift: recurlytest.Drift{UnknownFields: true, StringTotal: true}})
	code, stdout, stderr := runCmd(t, "--config", writeSimConfig(t, srv, nil))
	if code != ExitOK {
		t.Fatalf("exit %d; stderr:\n%s", code, stderr)
	}
	o := parseOutput(t, []byte(stdout), false)
	checkRecordsValidate(t, o, stdout)

	drifted := srv.Site.Drifted()
	rec := recordByID(o, "invoices", drifted.StringTotal)
	var f [1][]byte
	if err := jsonscan.Fields(rec, []string{"total"}, f[:]); err != nil || string(f[0]) != "123.45" {
		t.Errorf("invoice %s: total %s, want the number 123.45", drifted.StringTotal, f[0])
	}
	for _, id := range drifted.UnknownFields {
		if rec := recordByID(o, "accounts", id); !bytes.Contains(rec, []byte(`"loyalty_tier":"gold","marketing":{"opted_in":true,"channel":"email"}`)) {
			t.Errorf("account %s lost its unknown fields: %s", id, rec)
		}
	}
	if len(drifted.UnknownFields) != 45 {
		t.Fatalf("%d accounts drifted, want 45", len(drifted.UnknownFields))
	}

	wantLines := []string{
		`stream invoices: 1 values converted without loss to their schema type: total (string to number) 1 (first in record "` + drifted.StringTotal + `")`,
		`stream accounts: 45 records carried fields its schema lacks, emitted as they are (the SCHEMA allows additional properties): loyalty_tier 45 (first in record `,
		`marketing 45 (first in record`,
	}
	for _, want := range wantLines {
		if n := strings.Count(stderr, want); n != 1 {
			t.Errorf("stderr holds %d times %q, want once:\n%s", n, want, stderr)
		}
	}
	if strings.Contains(stderr, "marketing.") {
		t.Errorf("members of an unknown object are reported as fields of their own:\n%s", stderr)
	}
}

// TestDriftInEmbeddedRecordConforms: every billing_info, embedded in its
// account, carries valid as a string; each is converted to a boolean and
// counted, in the billing_info stream (the embedded record fails its
// stream's fast check and goes to Conform) and in accounts, whose schema
// declares the embedded object too.
func TestDriftInEmbeddedRecordConforms(t *testing.T) {
	srv := startSim(t, recurlytest.Config{Seed: 21, Counts: driftCounts, Drift: recurlytest.Drift{StringValid: true}})
	code, stdout, stderr := runCmd(t, "--config", writeSimConfig(t, srv, nil))
	if code != ExitOK {
		t.Fatalf("exit %d; stderr:\n%s", code, stderr)
	}
	o := parseOutput(t, []byte(stdout), false)
	checkRecordsValidate(t, o, stdout)
	infos := o.records["billing_info"]
	if len(infos) == 0 {
		t.Fatal("no billing_info records")
	}
	var f [1][]byte
	converted := 0
	for _, rec := range infos {
		if err := jsonscan.Fields(rec, []string{"valid"}, f[:]); err != nil || f[0][0] == '"' {
			t.Fatalf("billing_info valid = %s, want a boolean or null: %s", f[0], rec)
		}
		if !jsonscan.IsNull(f[0]) {
			converted++
		}
	}
	for _, want := range []string{
		fmt.Sprintf("stream billing_info: %d values converted without loss to their schema type: valid (string to boolean) %d ", converted, converted),
		fmt.Sprintf("stream accounts: %d values converted without loss to their schema type: billing_info.valid (string to boolean) %d ", converted, converted),
	} {
		if n := strings.Count(stderr, want); n != 1 {
			t.Errorf("stderr holds %d times %q, want once:\n%s", n, want, stderr)
		}
	}
}

// TestDriftBadValueStops: a value that converts to no type of its schema
// stops the run with one line naming the stream, the record and the field,
// after a final STATE whose bookmark does not pass any record not emitted.
func TestDriftBadValueStops(t *testing.T) {
	srv := startSim(t, recurlytest.Config{Seed: 21, Counts: driftCounts, Drift: recurlytest.Drift{BadValue: true}})
	code, stdout, stderr := runCmd(t, "--config", writeSimConfig(t, srv, map[string]any{"max_workers": 1}))
	if code == ExitOK {
		t.Fatalf("exit 0 on a value that does not conform; stderr:\n%s", stderr)
	}
	keys := srv.Site.Keys(recurlytest.Invoices)
	var bad recurlytest.Key
	for _, k := range keys {
		if k.ID == srv.Site.Drifted().BadValue {
			bad = k
		}
	}
	want := fmt.Sprintf(`invoices: record %q: field /net_terms: %s does not convert without loss to integer or null`, bad.ID, recurlytest.DriftNetTerms)
	if n := strings.Count(stderr, want); n != 1 {
		t.Fatalf("stderr holds %d times %q, want once:\n%s", n, want, stderr)
	}
	noStackTrace(t, []byte(stderr))
	o := parseOutput(t, []byte(stdout), false)
	if o.lastType != "STATE" {
		t.Fatalf("the output ends in a %s, not a STATE", o.lastType)
	}
	checkRecordsValidate(t, o, stdout)
	if recordByID(o, "invoices", bad.ID) != nil {
		t.Fatalf("the record holding the bad value was emitted")
	}
	// Nothing lost: every invoice before the final bookmark was emitted (a
	// resume reads from the bookmark on, inclusive).
	bm, ok := o.lastState().Bookmark("invoices", "updated_at")
	if !ok || !bm.Before(*bad.Replication) {
		t.Fatalf("final invoices bookmark %v (set %v), want one before the bad record's %v", bm, ok, bad.Replication)
	}
	emitted := o.ids("invoices")
	for _, k := range keys {
		if k.Replication.Before(bm) && !emitted[k.ID] {
			t.Fatalf("invoice %s (updated %s) is before the bookmark %s but was not emitted", k.ID, k.Replication.Format(time.RFC3339), state.Format(bm))
		}
	}
}
