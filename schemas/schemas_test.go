package schemas_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v5"

	"github.com/tap-recurly/tap-recurly/internal/openapi"
	"github.com/tap-recurly/tap-recurly/internal/testutil"
	"github.com/tap-recurly/tap-recurly/schemas"
	"github.com/tap-recurly/tap-recurly/schemas/internal/schemagen"
)

// wantFields is the number of top-level fields per stream, as the spec lists
// them (NOTES.md section 7).
var wantFields = map[string]int{
	"accounts":      24,
	"adjustments":   41,
	"billing_info":  14,
	"coupons":       27,
	"invoices":      33,
	"plans":         21,
	"plans_add_ons": 14,
	"subscriptions": 40,
	"transactions":  36,

	"account_acquisitions":     9,
	"account_notes":            6,
	"coupon_redemptions":       10,
	"credit_payments":          14,
	"custom_field_definitions": 10,
	"unique_coupon_codes":      8,
}

func component(t *testing.T, s schemagen.Stream) *openapi.Schema {
	t.Helper()
	sc, err := testutil.Spec(t).Component(s.Object)
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

func decode(t *testing.T, data []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("schema is not a JSON object: %v", err)
	}
	return m
}

func mustGet(t *testing.T, stream string) json.RawMessage {
	t.Helper()
	data, err := schemas.Get(stream)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func compile(t *testing.T, stream string) *jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.Draft = jsonschema.Draft7
	c.AssertFormat = true
	url := "mem:///" + stream + ".json"
	if err := c.AddResource(url, bytes.NewReader(mustGet(t, stream))); err != nil {
		t.Fatalf("%s: add resource: %v", stream, err)
	}
	sch, err := c.Compile(url)
	if err != nil {
		t.Fatalf("%s: compile: %v", stream, err)
	}
	return sch
}

// validate round-trips record through JSON (numbers kept as json.Number) and
// validates it, as a tap would validate a record read off the wire.
func validate(t *testing.T, sch *jsonschema.Schema, record any) error {
	t.Helper()
	raw, err := json.Marshal(record)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	return sch.Validate(v)
}

// schemaFiles returns the names of the schema files in this directory
// (<stream>.json, the files the package embeds), sorted.
func schemaFiles(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if name, ok := strings.CutSuffix(e.Name(), ".json"); ok && !e.IsDir() {
			names = append(names, name)
		}
	}
	return names
}

// TestStreamsListsEveryGeneratedStream: there is one schema file per
// stream, and no other.
func TestStreamsListsEveryGeneratedStream(t *testing.T) {
	var want []string
	for _, s := range schemagen.Streams() {
		want = append(want, s.Name)
	}
	sort.Strings(want)
	got := schemaFiles(t)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Streams() = %v, want %v", got, want)
	}
	if !sort.StringsAreSorted(got) {
		t.Fatalf("Streams() not sorted: %v", got)
	}
	if len(got) != len(wantFields) {
		t.Fatalf("Streams() has %d names, want %d", len(got), len(wantFields))
	}
}

func TestGet(t *testing.T) {
	tests := []struct {
		stream  string
		wantErr bool
	}{
		{"accounts", false},
		{"transactions", false},
		{"plans_add_ons", false},
		{"", true},
		{"nope", true},
		{"accounts.json", true},
		{"../schemas/accounts", true},
		{"Accounts", true},
	}
	for _, tt := range tests {
		t.Run(tt.stream, func(t *testing.T) {
			got, err := schemas.Get(tt.stream)
			if tt.wantErr {
				if !errors.Is(err, schemas.ErrUnknownStream) {
					t.Fatalf("Get(%q) error = %v, want ErrUnknownStream", tt.stream, err)
				}
				if got != nil {
					t.Fatalf("Get(%q) returned data with an error", tt.stream)
				}
				return
			}
			if err != nil {
				t.Fatalf("Get(%q): %v", tt.stream, err)
			}
			if m := decode(t, got); m["type"] != "object" {
				t.Fatalf("Get(%q) top-level type = %v", tt.stream, m["type"])
			}
		})
	}
}

func TestGetReturnsACopy(t *testing.T) {
	a := mustGet(t, "plans")
	for i := range a {
		a[i] = 'x'
	}
	b := mustGet(t, "plans")
	if bytes.Contains(b, []byte("xxxx")) {
		t.Fatal("modifying Get's result changed the embedded schema")
	}
}

// diffFields compares the property tree of schema node n with the spec
// schema sc and reports every missing or extra field by path.
func diffFields(path string, sc *openapi.Schema, n map[string]any) []string {
	var out []string
	types := nonNullTypes(n)
	if !slices.Contains(types, sc.Type) {
		out = append(out, fmt.Sprintf("%s: schema type %v, spec type %q", path, n["type"], sc.Type))
	}
	switch sc.Type {
	case "object":
		props, _ := n["properties"].(map[string]any)
		seen := map[string]bool{}
		for _, p := range sc.Properties {
			seen[p.Name] = true
			sub, ok := props[p.Name].(map[string]any)
			if !ok {
				out = append(out, fmt.Sprintf("%s.%s: in spec, missing from schema", path, p.Name))
				continue
			}
			out = append(out, diffFields(path+"."+p.Name, p.Schema, sub)...)
		}
		var extra []string
		for name := range props {
			if !seen[name] {
				extra = append(extra, fmt.Sprintf("%s.%s: in schema, not in spec", path, name))
			}
		}
		sort.Strings(extra)
		out = append(out, extra...)
	case "array":
		items, ok := n["items"].(map[string]any)
		if !ok {
			return append(out, path+"[]: schema has no items")
		}
		out = append(out, diffFields(path+"[]", sc.Items, items)...)
	default:
		if _, ok := n["properties"]; ok {
			out = append(out, path+": scalar with properties in schema")
		}
		if _, ok := n["items"]; ok {
			out = append(out, path+": scalar with items in schema")
		}
	}
	return out
}

func nonNullTypes(n map[string]any) []string {
	switch t := n["type"].(type) {
	case string:
		return []string{t}
	case []any:
		var out []string
		for _, e := range t {
			if s, ok := e.(string); ok && s != "null" {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

func TestSchemaFieldsMatchSpec(t *testing.T) {
	for _, s := range schemagen.Streams() {
		t.Run(s.Name, func(t *testing.T) {
			sc := component(t, s)
			m := decode(t, mustGet(t, s.Name))
			for _, d := range diffFields(s.Name, sc, m) {
				t.Error(d)
			}
			props, _ := m["properties"].(map[string]any)
			if len(props) != wantFields[s.Name] || len(sc.Properties) != wantFields[s.Name] {
				t.Errorf("%s: %d schema fields, %d spec fields, want %d", s.Name, len(props), len(sc.Properties), wantFields[s.Name])
			}
		})
	}
}

// TestDiffFieldsCatchesDrift proves the drift check fails, naming the path,
// when a field is missing, extra or retyped at any depth.
func TestDiffFieldsCatchesDrift(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(m map[string]any)
		want   string
	}{
		{"missing top-level", func(m map[string]any) {
			delete(props(m), "email")
		}, "accounts.email: in spec, missing from schema"},
		{"extra top-level", func(m map[string]any) {
			props(m)["nickname"] = map[string]any{"type": []any{"null", "string"}}
		}, "accounts.nickname: in schema, not in spec"},
		{"missing nested", func(m map[string]any) {
			delete(props(props(props(m)["billing_info"].(map[string]any))["payment_method"].(map[string]any)), "routing_number")
		}, "accounts.billing_info.payment_method.routing_number: in spec, missing from schema"},
		{"extra in array items", func(m map[string]any) {
			items := props(m)["custom_fields"].(map[string]any)["items"].(map[string]any)
			props(items)["label"] = map[string]any{"type": []any{"null", "string"}}
		}, "accounts.custom_fields[].label: in schema, not in spec"},
		{"array lost its items", func(m map[string]any) {
			delete(props(m)["shipping_addresses"].(map[string]any), "items")
		}, "accounts.shipping_addresses[]: schema has no items"},
		{"retyped", func(m map[string]any) {
			props(m)["tax_exempt"] = map[string]any{"type": []any{"null", "string"}}
		}, `accounts.tax_exempt: schema type [null string], spec type "boolean"`},
	}
	var acc schemagen.Stream
	for _, s := range schemagen.Streams() {
		if s.Name == "accounts" {
			acc = s
		}
	}
	if acc.Name != "accounts" {
		t.Fatal("no accounts stream")
	}
	sc := component(t, acc)
	if d := diffFields("accounts", sc, decode(t, mustGet(t, "accounts"))); len(d) != 0 {
		t.Fatalf("unmutated schema differs: %v", d)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := decode(t, mustGet(t, "accounts"))
			tt.mutate(m)
			got := diffFields("accounts", sc, m)
			if !slices.Contains(got, tt.want) {
				t.Fatalf("diff = %q, want it to contain %q", got, tt.want)
			}
		})
	}
}

func props(n map[string]any) map[string]any {
	p, _ := n["properties"].(map[string]any)
	return p
}

func TestCommittedFilesAreGeneratorOutput(t *testing.T) {
	spec := testutil.Spec(t)
	for _, s := range schemagen.Streams() {
		t.Run(s.Name, func(t *testing.T) {
			want, err := schemagen.Generate(spec, s)
			if err != nil {
				t.Fatal(err)
			}
			got := mustGet(t, s.Name)
			if !bytes.Equal(got, want) {
				t.Fatalf("schemas/%s.json differs from the generator's output; run `go generate ./schemas`", s.Name)
			}
		})
	}
}

func TestSchemasCompile(t *testing.T) {
	for _, name := range schemaFiles(t) {
		t.Run(name, func(t *testing.T) {
			compile(t, name)
		})
	}
}

// walkNodes calls fn for every schema node below the top level with its
// path and its spec counterpart.
func walkNodes(path string, sc *openapi.Schema, n map[string]any, fn func(path string, sc *openapi.Schema, n map[string]any)) {
	fn(path, sc, n)
	for _, p := range sc.Properties {
		if sub, ok := props(n)[p.Name].(map[string]any); ok {
			walkNodes(path+"."+p.Name, p.Schema, sub, fn)
		}
	}
	if sc.Items != nil {
		if items, ok := n["items"].(map[string]any); ok {
			walkNodes(path+"[]", sc.Items, items, fn)
		}
	}
}

func TestNullabilityFormatsAndKeywords(t *testing.T) {
	allowed := map[string]bool{"type": true, "format": true, "description": true, "properties": true, "items": true}
	for _, s := range schemagen.Streams() {
		t.Run(s.Name, func(t *testing.T) {
			sc := component(t, s)
			m := decode(t, mustGet(t, s.Name))
			if m["type"] != "object" || m["additionalProperties"] != true {
				t.Errorf("top level: type %v, additionalProperties %v", m["type"], m["additionalProperties"])
			}
			if req, _ := m["required"].([]any); !reflect.DeepEqual(req, []any{s.PrimaryKey}) {
				t.Errorf("required = %v, want [%s]", m["required"], s.PrimaryKey)
			}
			if pk, _ := props(m)[s.PrimaryKey].(map[string]any); !reflect.DeepEqual(pk, map[string]any{"type": "string"}) {
				t.Errorf("primary key %s = %v, want a non-null string", s.PrimaryKey, pk)
			}
			dateTimes := 0
			for _, p := range sc.Properties {
				sub, _ := props(m)[p.Name].(map[string]any)
				walkNodes(s.Name+"."+p.Name, p.Schema, sub, func(path string, node *openapi.Schema, n map[string]any) {
					for k := range n {
						if !allowed[k] {
							t.Errorf("%s: keyword %q is not allowed (enums, lengths and ranges are never enforced)", path, k)
						}
					}
					wantFormat := node.Format == "date-time"
					if wantFormat {
						dateTimes++
					}
					if got := n["format"] == "date-time"; got != wantFormat {
						t.Errorf("%s: format %v, spec format %q", path, n["format"], node.Format)
					}
					if _, ok := n["format"]; ok && !wantFormat {
						t.Errorf("%s: unexpected format %v", path, n["format"])
					}
					if path == s.Name+"."+s.PrimaryKey {
						return
					}
					types, _ := n["type"].([]any)
					if !slices.Contains(types, any("null")) {
						t.Errorf("%s: type %v does not accept null", path, n["type"])
					}
					if node.Type == "object" && len(node.Properties) == 0 {
						if _, ok := n["properties"]; ok {
							t.Errorf("%s: open object has properties", path)
						}
					}
					if len(node.Enum) > 0 {
						if d, _ := n["description"].(string); !strings.Contains(d, node.Enum[0]) {
							t.Errorf("%s: description %q does not list known values", path, d)
						}
					}
				})
			}
			if dateTimes == 0 {
				t.Errorf("no date-time fields found")
			}
		})
	}
}

const wireTime = "2019-08-13T03:53:15Z"

// example builds a plausible non-null value for every field of sc.
func example(sc *openapi.Schema) any {
	switch sc.Type {
	case "object":
		obj := map[string]any{}
		for _, p := range sc.Properties {
			obj[p.Name] = example(p.Schema)
		}
		if len(sc.Properties) == 0 {
			obj["anything"] = []any{1, "two", map[string]any{"three": true}}
		}
		return obj
	case "array":
		return []any{example(sc.Items), example(sc.Items)}
	case "string":
		switch {
		case sc.Format == "date-time":
			return wireTime
		case len(sc.Enum) > 0:
			return sc.Enum[0]
		}
		return "lcdysuuhicby"
	case "integer":
		return 7
	case "number":
		return 12.5
	case "boolean":
		return true
	}
	return nil
}

// nulled builds a record whose objects are present but whose leaves are all
// null, and whose arrays hold a null item and an all-null object.
func nulled(sc *openapi.Schema, depth int) any {
	switch sc.Type {
	case "object":
		if depth > 0 && len(sc.Properties) > 0 {
			obj := map[string]any{}
			for _, p := range sc.Properties {
				obj[p.Name] = nulled(p.Schema, depth-1)
			}
			return obj
		}
	case "array":
		if depth > 0 {
			return []any{nil, nulled(sc.Items, depth-1)}
		}
	}
	return nil
}

func TestRecordsValidate(t *testing.T) {
	for _, s := range schemagen.Streams() {
		t.Run(s.Name, func(t *testing.T) {
			sc := component(t, s)
			sch := compile(t, s.Name)

			full := example(sc).(map[string]any)
			if err := validate(t, sch, full); err != nil {
				t.Errorf("example record from the spec: %v", err)
			}

			allNull := map[string]any{}
			for _, p := range sc.Properties {
				allNull[p.Name] = nil
			}
			allNull[s.PrimaryKey] = "lcdysuuhicby"
			if err := validate(t, sch, allNull); err != nil {
				t.Errorf("all fields null except the key: %v", err)
			}

			deep := nulled(sc, 8).(map[string]any)
			deep[s.PrimaryKey] = "lcdysuuhicby"
			if err := validate(t, sch, deep); err != nil {
				t.Errorf("nested objects with null leaves: %v", err)
			}

			if err := validate(t, sch, map[string]any{s.PrimaryKey: "lcdysuuhicby"}); err != nil {
				t.Errorf("only the key present: %v", err)
			}
		})
	}
}

func with(base map[string]any, path []string, v any) map[string]any {
	raw, _ := json.Marshal(base)
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	m := out
	for _, k := range path[:len(path)-1] {
		m = m[k].(map[string]any)
	}
	m[path[len(path)-1]] = v
	return out
}

func without(base map[string]any, key string) map[string]any {
	out := with(base, []string{key}, nil)
	delete(out, key)
	return out
}

func TestRecordEdgeCases(t *testing.T) {
	spec := testutil.Spec(t)
	exampleOf := func(object string) map[string]any {
		sc, err := spec.Component(object)
		if err != nil {
			t.Fatal(err)
		}
		return example(sc).(map[string]any)
	}
	acc := exampleOf("Account")
	tests := []struct {
		name   string
		stream string
		record map[string]any
		valid  bool
	}{
		{"new enum value", "accounts", with(acc, []string{"state"}, "closed_forever"), true},
		{"new nested enum value", "accounts", with(acc, []string{"billing_info", "payment_method", "card_type"}, "NewCard"), true},
		{"empty strings", "accounts", with(with(acc, []string{"email"}, ""), []string{"preferred_locale"}, ""), true},
		{"unknown top-level field", "accounts", with(acc, []string{"brand_new_field"}, map[string]any{"x": 1}), true},
		{"date-time with offset and fraction", "accounts", with(acc, []string{"updated_at"}, "2019-08-13T05:53:15.123+02:00"), true},
		{"custom_fields name/value", "accounts", with(acc, []string{"custom_fields"}, []any{map[string]any{"name": "tier", "value": "gold"}}), true},
		{"custom_fields value not a string", "accounts", with(acc, []string{"custom_fields"}, []any{map[string]any{"name": "tier", "value": 3}}), false},
		{"updated_at not RFC 3339", "accounts", with(acc, []string{"updated_at"}, "2019-08-13 03:53:15"), false},
		{"updated_at a date only", "accounts", with(acc, []string{"updated_at"}, "2019-08-13"), false},
		{"nested date-time not RFC 3339", "accounts", with(acc, []string{"billing_info", "created_at"}, "13/08/2019"), false},
		{"primary key null", "accounts", with(acc, []string{"id"}, nil), false},
		{"primary key missing", "accounts", without(acc, "id"), false},
		{"primary key a number", "accounts", with(acc, []string{"id"}, 12), false},
		{"boolean as string", "accounts", with(acc, []string{"tax_exempt"}, "true"), false},
		{"object as string", "accounts", with(acc, []string{"address"}, "12 Main St"), false},
		{"routing_number is a string", "billing_info", with(exampleOf("BillingInfo"), []string{"payment_method", "routing_number"}, "021000021"), true},
		{"routing_number as a number", "billing_info", with(exampleOf("BillingInfo"), []string{"payment_method", "routing_number"}, 21000021), false},
		{"billing_info key null", "billing_info", with(exampleOf("BillingInfo"), []string{"account_id"}, nil), false},
		{"billing_info id may be null", "billing_info", with(exampleOf("BillingInfo"), []string{"id"}, nil), true},
		{"open object fraud.risk_rules_triggered", "billing_info", with(exampleOf("BillingInfo"), []string{"fraud", "risk_rules_triggered"}, map[string]any{"rule": []any{"a"}}), true},
		{"coupon plans as \"all\"", "coupons", with(exampleOf("Coupon"), []string{"plans"}, "all"), true},
		{"coupon plans as array", "coupons", with(exampleOf("Coupon"), []string{"plans"}, []any{map[string]any{"id": "p1", "object": "plan", "code": "gold", "name": "Gold"}}), true},
		{"coupon plans as number", "coupons", with(exampleOf("Coupon"), []string{"plans"}, 3), false},
		{"redeemed coupon's plans as \"all\"", "coupon_redemptions", with(exampleOf("CouponRedemption"), []string{"coupon", "plans"}, "all"), true},
		{"integer as fraction", "coupons", with(exampleOf("Coupon"), []string{"max_redemptions"}, 1.5), false},
		{"number as string", "invoices", with(exampleOf("Invoice"), []string{"total"}, "12.50"), false},
		{"integer accepted as number", "invoices", with(exampleOf("Invoice"), []string{"total"}, 12), true},
		{"collected_at not RFC 3339", "transactions", with(exampleOf("Transaction"), []string{"collected_at"}, "yesterday"), false},
		{"open object gateway_response_values", "transactions", with(exampleOf("Transaction"), []string{"gateway_response_values"}, map[string]any{"avs": "Y", "n": 1}), true},
		{"updated_at absent on transactions is fine", "transactions", without(exampleOf("Transaction"), "updated_at"), true},
	}
	compiled := map[string]*jsonschema.Schema{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sch := compiled[tt.stream]
			if sch == nil {
				sch = compile(t, tt.stream)
				compiled[tt.stream] = sch
			}
			err := validate(t, sch, tt.record)
			if tt.valid && err != nil {
				t.Fatalf("want valid, got %v", err)
			}
			if !tt.valid && err == nil {
				t.Fatal("want a validation error, got none")
			}
		})
	}
}

// TestBadUpdatedAtFailsEveryStream checks the replication key's date-time
// format is asserted on every stream.
func TestBadReplicationKeyFailsEveryStream(t *testing.T) {
	for _, s := range schemagen.Streams() {
		t.Run(s.Name, func(t *testing.T) {
			rec := map[string]any{s.PrimaryKey: "lcdysuuhicby", s.ReplicationKey: "2019-08-13T03:53:15"}
			if err := validate(t, compile(t, s.Name), rec); err == nil {
				t.Fatalf("%s %q without a zone validated", s.ReplicationKey, rec[s.ReplicationKey])
			}
		})
	}
}
