package conform

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/tap-recurly/tap-recurly/schemas"
)

const testSchema = `{
  "type": "object",
  "additionalProperties": true,
  "required": ["id"],
  "properties": {
    "id": {"type": "string"},
    "total": {"type": ["null", "number"]},
    "net_terms": {"type": ["null", "integer"]},
    "paid": {"type": ["null", "boolean"]},
    "code": {"type": ["null", "string"]},
    "updated_at": {"type": ["null", "string"], "format": "date-time"},
    "account": {"type": ["null", "object"], "properties": {"a/b~c": {"type": ["null", "integer"]}, "name": {"type": ["null", "string"]}}},
    "line_items": {"type": ["null", "array"], "items": {"type": ["null", "object"], "properties": {"amount": {"type": ["null", "number"]}}}},
    "open": {"type": ["null", "object"]},
    "tags": {"type": ["null", "array"], "items": {"type": ["null", "string"]}}
  }
}`

func mustCompile(t testing.TB, schema string) *Schema {
	t.Helper()
	s, err := Compile([]byte(schema))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConform(t *testing.T) {
	s := mustCompile(t, testSchema)
	if s.Opaque() {
		t.Fatal("test schema is opaque")
	}
	tests := []struct {
		name, rec, want string // want "" means unchanged
		conv            []string
		unknown         []string
		errPtr          string
	}{
		{name: "conforming", rec: `{"id":"a","total":1.5,"net_terms":30,"paid":true,"code":"x","updated_at":"2024-01-05T00:00:00Z","open":{"x":[1,{"y":null}]},"tags":["a",null]}`},
		{name: "numeric string to number", rec: `{"id":"a","total":"123.45"}`, want: `{"id":"a","total":123.45}`, conv: []string{"/total string->number"}},
		{name: "numeric string to integer", rec: `{"id":"a","net_terms":"30"}`, want: `{"id":"a","net_terms":30}`, conv: []string{"/net_terms string->integer"}},
		{name: "whole string to integer", rec: `{"id":"a","net_terms":"3.0e1"}`, want: `{"id":"a","net_terms":30}`, conv: []string{"/net_terms string->integer"}},
		{name: "whole number to integer", rec: `{"id":"a","net_terms":30.0}`, want: `{"id":"a","net_terms":30}`, conv: []string{"/net_terms number->integer"}},
		{name: "boolean strings", rec: `{"id":"a","paid":"false"}`, want: `{"id":"a","paid":false}`, conv: []string{"/paid string->boolean"}},
		{name: "number to string", rec: `{"id":"a","code":-1.50e3}`, want: `{"id":"a","code":"-1.50e3"}`, conv: []string{"/code number->string"}},
		{name: "nested and in arrays", rec: `{"id":"a","account":{"a/b~c":"7"},"line_items":[{"amount":1},{"amount":"2.5"}]}`,
			want: `{"id":"a","account":{"a/b~c":7},"line_items":[{"amount":1},{"amount":2.5}]}`,
			conv: []string{"/account/a~1b~0c string->integer", "/line_items/1/amount string->number"}},
		{name: "unknown fields kept and listed once", rec: `{"id":"a","loyalty":"gold","account":{"tier":1},"line_items":[{"x":1},{"x":2}],"open":{"free":1}}`,
			unknown: []string{"loyalty", "account.tier", "line_items[].x"}},
		{name: "fraction for integer", rec: `{"id":"a","net_terms":"30.5"}`, errPtr: "/net_terms"},
		{name: "not a number", rec: `{"id":"a","total":"12 EUR"}`, errPtr: "/total"},
		{name: "leading zero is not converted", rec: `{"id":"a","total":"0123"}`, errPtr: "/total"},
		{name: "null for non-null", rec: `{"id":null}`, errPtr: "/id"},
		{name: "object for string", rec: `{"id":"a","code":{"x":1}}`, errPtr: "/code"},
		{name: "array for object", rec: `{"id":"a","account":[1]}`, errPtr: "/account"},
		{name: "boolean for number", rec: `{"id":"a","total":true}`, errPtr: "/total"},
		{name: "bad date-time", rec: `{"id":"a","updated_at":"2024-02-30T00:00:00Z"}`, errPtr: "/updated_at"},
		{name: "date-time leap second", rec: `{"id":"a","updated_at":"2016-12-31T23:59:60Z"}`},
		{name: "date-time escaped", rec: `{"id":"a","updated_at":"2024-01-05T00:00:00\u005a"}`},
		{name: "array item type", rec: `{"id":"a","tags":["a",2,{}]}`, want: `{"id":"a","tags":["a","2",{}]}`, errPtr: "/tags/2"},
		{name: "missing required", rec: `{"total":1}`, errPtr: "/"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := s.Conform([]byte(tc.rec))
			if tc.errPtr != "" {
				var ce *Error
				if !errors.As(err, &ce) || ce.Pointer != tc.errPtr {
					t.Fatalf("error %v, want one at %s", err, tc.errPtr)
				}
				if strings.Contains(err.Error(), "\n") {
					t.Errorf("error is not one line: %q", err)
				}
				if verr := s.Validate([]byte(tc.rec)); verr == nil {
					t.Errorf("jsonschema accepts what Conform refuses")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := tc.want
			if want == "" {
				want = tc.rec
			}
			if string(res.Record) != want {
				t.Errorf("record\n got %s\nwant %s", res.Record, want)
			}
			var conv []string
			for _, c := range res.Converted {
				conv = append(conv, c.Pointer+" "+c.From+"->"+c.To)
			}
			if !slices.Equal(conv, tc.conv) {
				t.Errorf("conversions %q, want %q", conv, tc.conv)
			}
			if !slices.Equal(res.Unknown, tc.unknown) {
				t.Errorf("unknown %q, want %q", res.Unknown, tc.unknown)
			}
			if err := s.Validate(res.Record); err != nil {
				t.Errorf("conformed record fails jsonschema: %v", err)
			}
		})
	}
}

func TestConformUnchangedIsSameSlice(t *testing.T) {
	s := mustCompile(t, testSchema)
	rec := []byte(`{"id":"a","total":1}`)
	res, err := s.Conform(rec)
	if err != nil || &res.Record[0] != &rec[0] {
		t.Fatalf("conforming record copied (err %v)", err)
	}
}

func TestOpaque(t *testing.T) {
	for _, schema := range []string{
		`{"type":"object","properties":{"a":{"type":"string","enum":["x"]}}}`,
		`{"type":"object","additionalProperties":false}`,
		`{"type":"object","properties":{"a":{"type":"string","format":"email"}}}`,
		`{"anyOf":[{"type":"string"}]}`,
		`{"type":"object","required":["x"]}`,
		`{"type":"object","properties":{"a":{"type":"string","type":"integer"}}}`, // a keyword held twice
	} {
		if s := mustCompile(t, schema); !s.Opaque() {
			t.Errorf("%s: not opaque", schema)
		}
	}
	for _, name := range schemas.Streams() {
		raw, _ := schemas.Get(name)
		if s := mustCompile(t, string(raw)); s.Opaque() {
			t.Errorf("the %s schema is opaque: the fast path would not cover it", name)
		}
	}
}

// TestCompileDefersJSONSchema: a schema the fast path reads is compiled by
// jsonschema/v5 on its first Validate, not before; an opaque one at once,
// so that a schema jsonschema/v5 refuses is still refused by Compile.
func TestCompileDefersJSONSchema(t *testing.T) {
	s := mustCompile(t, testSchema)
	if s.full != nil {
		t.Fatal("jsonschema/v5 compiled before any Validate")
	}
	if err := s.Validate([]byte(`{"id":"a","total":"x"}`)); err == nil {
		t.Fatal("Validate passed a string total")
	}
	if s.full == nil {
		t.Fatal("Validate did not compile the schema")
	}
	if s := mustCompile(t, `{"type":"object","additionalProperties":false}`); s.full == nil {
		t.Fatal("an opaque schema was not compiled at once")
	}
	if _, err := Compile([]byte(`{"type":"object","additionalProperties":"no"}`)); err == nil {
		t.Fatal("Compile took a schema jsonschema/v5 refuses")
	}
}

// FuzzCompile holds the fast path to taking only schemas jsonschema/v5
// takes, which is what lets Compile leave jsonschema/v5's compile to the
// first Validate.
func FuzzCompile(f *testing.F) {
	for _, name := range schemas.Streams() {
		raw, _ := schemas.Get(name)
		f.Add(string(raw))
	}
	for _, seed := range []string{
		testSchema,
		`{"type":["string","string"]}`,
		`{"type":["integer","number"]}`,
		`{"type":"object","properties":{"a":{}},"required":["a","a"]}`,
		`{"description":5}`, `{"title":null}`, `{"$comment":[]}`, `{"examples":{}}`, `{"examples":[1]}`, `{"default":{}}`,
		`{"$schema":"http://example.com/s"}`,
		`{"items":true,"type":"array"}`, `{"items":{"items":{"format":"date-time"}}}`,
		`{"properties":{"a":true,"b":{"type":"null"}},"additionalProperties":true}`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, schema string) {
		s, err := Compile([]byte(schema))
		if err != nil || s.Opaque() {
			return
		}
		if _, err := s.compiled(); err != nil {
			t.Fatalf("the fast path reads %s, which jsonschema/v5 refuses: %v", schema, err)
		}
	})
}

// FuzzConform checks the fast path against jsonschema/v5 on the tap's own
// schemas: a record jsonschema accepts is passed through untouched, and
// whatever Conform returns, jsonschema accepts.
func FuzzConform(f *testing.F) {
	names := schemas.Streams()
	compiled := make([]*Schema, len(names))
	for i, name := range names {
		raw, _ := schemas.Get(name)
		compiled[i] = mustCompile(f, string(raw))
	}
	f.Add(uint8(0), `{"id":"a","total":"1.5","account":{"code":7},"line_items":[{"quantity":"2"}],"x":1}`)
	f.Add(uint8(3), `{"id":"a","updated_at":"2024-01-05T00:00:00.123+01:00","created_at":"2024-01-05t00:00:00z"}`)
	f.Add(uint8(5), `{"id":"a","plans":"all","discount":{"type":"percent","percent":"10"}}`)
	f.Add(uint8(7), `{"id":"a","paid":"true","net_terms":1e2,"subtotal":null,"closed_at":"2024-13-01T00:00:00Z"}`)
	f.Fuzz(func(t *testing.T, which uint8, rec string) {
		if !json.Valid([]byte(rec)) {
			return
		}
		s := compiled[int(which)%len(compiled)]
		res, err := s.Conform([]byte(rec))
		valid := s.Validate([]byte(rec)) == nil
		// jsonschema/v5 (draft 7) takes a whole number written with a
		// fraction or exponent (30.0, 0e0) for an integer; Conform writes
		// it as one (30, 0), the one conversion a valid record may get.
		normalized := !slices.ContainsFunc(res.Converted, func(c Conversion) bool { return c.From != "number" || c.To != "integer" })
		if valid && (err != nil || !normalized || len(res.Converted) == 0 && string(res.Record) != rec) {
			t.Fatalf("jsonschema accepts %s, but Conform gives %s, %v (%d conversions)", rec, res.Record, err, len(res.Converted))
		}
		if err == nil {
			if verr := s.Validate(res.Record); verr != nil {
				t.Fatalf("Conform gives %s for %s, which jsonschema refuses: %v", res.Record, rec, verr)
			}
		}
	})
}

func FuzzDateTime(f *testing.F) {
	for _, s := range []string{"2024-01-05T00:00:00Z", "2024-02-29T23:59:59.5-07:00", "0000-01-01T00:00:00Z", "2023-02-29T00:00:00Z", "2024-01-05T24:00:00Z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if quickDateTime([]byte(s)) && !isDateTime(s) {
			t.Fatalf("quickDateTime accepts %q, jsonschema does not", s)
		}
	})
}
