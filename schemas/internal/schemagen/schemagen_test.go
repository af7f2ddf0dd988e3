package schemagen

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/tap-recurly/tap-recurly/internal/testutil"
)

func TestGenerateRejectsBadStreams(t *testing.T) {
	spec := testutil.Spec(t)
	tests := []struct {
		name    string
		stream  Stream
		wantErr string
	}{
		{"unknown component", Stream{"x", "NoSuchObject", "id", "updated_at"}, "NoSuchObject"},
		{"missing primary key", Stream{"x", "Account", "uuid", "updated_at"}, "primary key Account.uuid"},
		{"non-string primary key", Stream{"x", "Account", "tax_exempt", "updated_at"}, "primary key Account.tax_exempt"},
		{"missing replication key", Stream{"x", "Transaction", "id", "updated_at"}, "replication key Transaction.updated_at"},
		{"component not an object", Stream{"x", "CustomFields", "id", "updated_at"}, "not an object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := Generate(spec, tt.stream)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Generate error = %v, want one mentioning %q", err, tt.wantErr)
			}
			if out != nil {
				t.Fatal("output returned with an error")
			}
		})
	}
}

// topLevelKeys reads the member names of the object at "properties" in
// document order.
func topLevelKeys(t *testing.T, doc []byte) []string {
	t.Helper()
	var top struct {
		Properties json.RawMessage `json:"properties"`
	}
	if err := json.Unmarshal(doc, &top); err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(top.Properties))
	if _, err := dec.Token(); err != nil { // {
		t.Fatal(err)
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}

func TestGenerateKeepsSpecOrderAndFormatting(t *testing.T) {
	spec := testutil.Spec(t)
	for _, s := range Streams() {
		t.Run(s.Name, func(t *testing.T) {
			comp, err := spec.Component(s.Object)
			if err != nil {
				t.Fatal(err)
			}
			out, err := Generate(spec, s)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := topLevelKeys(t, out), comp.FieldNames(); !reflect.DeepEqual(got, want) {
				t.Fatalf("property order = %v, want spec order %v", got, want)
			}
			if !bytes.HasPrefix(out, []byte("{\n  \"type\": \"object\",\n  \"additionalProperties\": true,\n  \"properties\": {\n")) {
				t.Fatalf("unexpected document head: %.80q", out)
			}
			if !bytes.HasSuffix(out, []byte("\n  \"required\": [\""+s.PrimaryKey+"\"]\n}\n")) {
				t.Fatalf("document does not end with required and a newline: %q", out[len(out)-60:])
			}
			if bytes.Contains(out, []byte("\t")) || bytes.Contains(out, []byte(`\u00`)) {
				t.Fatal("output has tabs or escaped characters")
			}
			again, err := Generate(spec, s)
			if err != nil || !bytes.Equal(out, again) {
				t.Fatalf("second run differs (err %v)", err)
			}
		})
	}
}

func TestGenerateNodeShapes(t *testing.T) {
	spec := testutil.Spec(t)
	gen := func(object string) map[string]any {
		for _, s := range Streams() {
			if s.Object == object {
				out, err := Generate(spec, s)
				if err != nil {
					t.Fatal(err)
				}
				var m map[string]any
				if err := json.Unmarshal(out, &m); err != nil {
					t.Fatal(err)
				}
				return m["properties"].(map[string]any)
			}
		}
		t.Fatalf("no stream for %s", object)
		return nil
	}
	field := func(props map[string]any, path ...string) map[string]any {
		n := props[path[0]].(map[string]any)
		for _, p := range path[1:] {
			if p == "[]" {
				n = n["items"].(map[string]any)
				continue
			}
			n = n["properties"].(map[string]any)[p].(map[string]any)
		}
		return n
	}
	nullable := func(types ...any) []any { return append([]any{"null"}, types...) }
	tests := []struct {
		object string
		path   []string
		want   map[string]any
	}{
		{"Account", []string{"id"}, map[string]any{"type": "string"}},
		{"Account", []string{"email"}, map[string]any{"type": nullable("string")}},
		{"Account", []string{"updated_at"}, map[string]any{"type": nullable("string"), "format": "date-time"}},
		{"Account", []string{"tax_exempt"}, map[string]any{"type": nullable("boolean")}},
		{"Account", []string{"bill_to"}, map[string]any{"type": nullable("string"), "description": "Known values (not enforced): self, parent"}},
		{"Account", []string{"custom_fields"}, map[string]any{"type": nullable("array"), "items": map[string]any{
			"type": nullable("object"),
			"properties": map[string]any{
				"name":  map[string]any{"type": nullable("string")},
				"value": map[string]any{"type": nullable("string")},
			},
		}}},
		{"BillingInfo", []string{"account_id"}, map[string]any{"type": "string"}},
		{"BillingInfo", []string{"id"}, map[string]any{"type": nullable("string")}},
		{"BillingInfo", []string{"payment_method", "routing_number"}, map[string]any{"type": nullable("string")}},
		{"BillingInfo", []string{"fraud", "score"}, map[string]any{"type": nullable("integer")}},
		{"BillingInfo", []string{"fraud", "risk_rules_triggered"}, map[string]any{"type": nullable("object")}},
		{"Transaction", []string{"gateway_response_values"}, map[string]any{"type": nullable("object")}},
		{"Transaction", []string{"amount"}, map[string]any{"type": nullable("number")}},
		{"Transaction", []string{"subscription_ids"}, map[string]any{"type": nullable("array"), "items": map[string]any{"type": nullable("string")}}},
		{"Coupon", []string{"plans"}, map[string]any{
			"type":        nullable("array", "string"),
			"description": stringAlternatives["Coupon"]["plans"],
			"items": map[string]any{
				"type": nullable("object"),
				"properties": map[string]any{
					"id":     map[string]any{"type": nullable("string")},
					"object": map[string]any{"type": nullable("string")},
					"code":   map[string]any{"type": nullable("string")},
					"name":   map[string]any{"type": nullable("string")},
				},
			},
		}},
		{"Coupon", []string{"discount", "trial", "length"}, map[string]any{"type": nullable("integer")}},
		{"Invoice", []string{"line_items", "data", "[]", "created_at"}, map[string]any{"type": nullable("string"), "format": "date-time"}},
		{"Subscription", []string{"pending_change", "add_ons", "[]", "add_on", "code"}, map[string]any{"type": nullable("string")}},
	}
	for _, tt := range tests {
		t.Run(tt.object+"."+strings.Join(tt.path, "."), func(t *testing.T) {
			got := field(gen(tt.object), tt.path...)
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %v\nwant %v", got, tt.want)
			}
		})
	}
}

func TestStreamsTable(t *testing.T) {
	seen := map[string]bool{}
	prev := ""
	for _, s := range Streams() {
		if s.Name <= prev {
			t.Errorf("streams not in name order at %s", s.Name)
		}
		prev = s.Name
		if seen[s.Name] {
			t.Errorf("duplicate stream %s", s.Name)
		}
		seen[s.Name] = true
		if s.Object == "" || s.PrimaryKey == "" || s.ReplicationKey == "" {
			t.Errorf("incomplete stream %+v", s)
		}
	}
	if len(seen) != 15 {
		t.Fatalf("%d streams, want 15", len(seen))
	}
	a := Streams()
	a[0].Name = "changed"
	if Streams()[0].Name == "changed" {
		t.Fatal("Streams shares its slice between calls")
	}
}
