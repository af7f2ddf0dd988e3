package conform

import (
	"bytes"
	"encoding/json"
	"slices"
	"testing"
	"unicode/utf8"

	"github.com/tap-recurly/tap-recurly/internal/jsonscan"
	"github.com/tap-recurly/tap-recurly/schemas"
)

// checkKeys are the top-level members the tests ask a Checker for: two the
// test schema declares and one it does not.
var checkKeys = []string{"updated_at", "id", "loyalty"}

func TestChecker(t *testing.T) {
	s := mustCompile(t, testSchema)
	k := s.Checker(checkKeys)
	if k == nil {
		t.Fatal("no Checker for the test schema")
	}
	tests := []struct {
		name, rec string
		ok        bool
	}{
		{name: "conforming", ok: true, rec: `{"id":"a","total":1.5,"net_terms":30,"paid":true,"code":"x","updated_at":"2024-01-05T00:00:00Z","open":{"x":[1,{"y":null}]},"tags":["a",null]}`},
		{name: "members in another order", ok: true, rec: `{"tags":[],"updated_at":null,"id":"a","line_items":[{"amount":-1e3},null],"account":{"name":"b","a/b~c":7}}`},
		{name: "white space between tokens is left to the slow path", rec: "{ \"id\" :\t\"a\" ,\r\n\"tags\" : [ \"x\" , null ] , \"account\" : { } , \"line_items\" : [ ] }"},
		{name: "escapes in a plain string", ok: true, rec: `{"id":"a\"\\\/\b\f\n\r\t\u00e9"}`},
		{name: "white space inside a value of any type", ok: true, rec: "{\"id\":\"a\",\"open\":{ \"x\" : [ 1 ,\t2 ] }}"},
		{name: "a line break inside a value of any type", rec: "{\"id\":\"a\",\"open\":{\"x\":[1,\r\n2]}}"},
		{name: "any value for an undeclared type", ok: true, rec: `{"id":"a","open":{"k":[true,false,null,-0.5e-7,"s",{"n":{}}]}}`},
		{name: "multi-byte UTF-8", ok: true, rec: `{"id":"é€😀","code":"ünïcödé strings longer than eight"}`},
		{name: "invalid UTF-8 in a string", rec: "{\"id\":\"a\xffb\"}"},
		{name: "invalid UTF-8 after eight bytes", rec: "{\"id\":\"abcdefghij\xc3(\"}"},
		{name: "a truncated rune at a string's end", rec: "{\"id\":\"abc\xe2\x82\"}"},
		{name: "invalid UTF-8 in an escaped string", rec: "{\"id\":\"\\n\xff\"}"},
		{name: "invalid UTF-8 in a key", rec: "{\"id\":\"a\",\"\xff\":1}"},
		{name: "invalid UTF-8 in a value of any type", rec: "{\"id\":\"a\",\"open\":{\"x\":\"\xff\"}}"},
		{name: "a surrogate half encoded in UTF-8", rec: "{\"id\":\"\xed\xa0\x80\"}"},
		{name: "numeric string for a number", rec: `{"id":"a","total":"123.45"}`},
		{name: "number for a string", rec: `{"id":"a","code":1}`},
		{name: "fraction for an integer", rec: `{"id":"a","net_terms":30.5}`},
		{name: "whole fraction for an integer", rec: `{"id":"a","net_terms":30.0}`},
		{name: "string for a boolean", rec: `{"id":"a","paid":"true"}`},
		{name: "null for a string", rec: `{"id":null}`},
		{name: "object for an array", rec: `{"id":"a","tags":{}}`},
		{name: "array for an object", rec: `{"id":"a","account":[]}`},
		{name: "nested mismatch", rec: `{"id":"a","line_items":[{"amount":1},{"amount":"2"}]}`},
		{name: "item mismatch", rec: `{"id":"a","tags":["a",2]}`},
		{name: "unknown member", rec: `{"id":"a","loyalty":"gold"}`},
		{name: "unknown nested member", rec: `{"id":"a","account":{"tier":1}}`},
		{name: "declared member twice", rec: `{"id":"a","code":"x","code":"y"}`},
		{name: "member twice, the second escaped", rec: `{"id":"a","\u0069d":"b"}`},
		{name: "missing required", rec: `{"code":"x"}`},
		{name: "empty object missing required", rec: `{}`},
		{name: "bad date-time", rec: `{"id":"a","updated_at":"2024-02-30T00:00:00Z"}`},
		{name: "date-time left to jsonschema", rec: `{"id":"a","updated_at":"2016-12-31T23:59:60Z"}`},
		{name: "control character in a string", rec: "{\"id\":\"a\x01b\"}"},
		{name: "control character late in a long string", rec: "{\"id\":\"abcdefghijklmnop\x1f\"}"},
		{name: "bad escape", rec: `{"id":"a\x"}`},
		{name: "bad number", rec: `{"id":"a","total":01}`},
		{name: "bad number exponent", rec: `{"id":"a","total":1e}`},
		{name: "bad literal", rec: `{"id":"a","paid":tru}`},
		{name: "trailing comma", rec: `{"id":"a",}`},
		{name: "missing colon", rec: `{"id" "a"}`},
		{name: "unclosed", rec: `{"id":"a"`},
		{name: "unclosed string", rec: `{"id":"abcdefghijklmnopqrstuvwxyz`},
		{name: "not an object", rec: `["id"]`},
		{name: "bad JSON in an open object", rec: `{"id":"a","open":{"x":[1,]}}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := []byte(tc.rec + ` ,"rest"`) // the walk ends at the object's end
			out := make([][]byte, len(checkKeys))
			end, ok := k.Check(b, 0, out)
			if ok != tc.ok {
				t.Fatalf("Check(%s) ok = %v, want %v", tc.rec, ok, tc.ok)
			}
			if ok {
				sameAsSlowPath(t, s, b, end, out)
			}
		})
	}
}

// sameAsSlowPath fails unless what Check passed (b[0:end], with out for
// checkKeys) is what the slow path says: jsonscan's strict check ends the
// object at end with the same members found, encoding/json accepts it, and
// Conform and Validate accept it as it stands.
func sameAsSlowPath(t *testing.T, s *Schema, b []byte, end int, out [][]byte) {
	t.Helper()
	rec := b[:end]
	want := make([][]byte, len(out))
	wantEnd, err := jsonscan.ObjectFields(b, 0, checkKeys, want)
	if err != nil || wantEnd != end || !slices.EqualFunc(out, want, func(x, y []byte) bool { return string(x) == string(y) && (x == nil) == (y == nil) }) {
		t.Fatalf("Check passed %s ending at %d with %q; jsonscan ends at %d with %q, %v", b, end, out, wantEnd, want, err)
	}
	if !json.Valid(rec) {
		t.Fatalf("Check passed %s, which encoding/json refuses", rec)
	}
	if !utf8.Valid(rec) {
		t.Fatalf("Check passed %q, which is not valid UTF-8", rec)
	}
	if bytes.ContainsAny(rec, "\r\n") {
		t.Fatalf("Check passed %q, which holds a line break", rec)
	}
	res, err := s.Conform(rec)
	if err != nil || len(res.Converted) > 0 || len(res.Unknown) > 0 {
		t.Fatalf("Check passed %s, but Conform gives %v, conversions %v, unknown %v", rec, err, res.Converted, res.Unknown)
	}
	if err := s.Validate(rec); err != nil {
		t.Fatalf("Check passed %s, which jsonschema refuses: %v", rec, err)
	}
}

// TestCheckerPassesTheSitesRecords: the records of the simulated site,
// which conform, take the fast path (the point of the Checker).
func TestCheckerPassesTheSitesRecords(t *testing.T) {
	for _, name := range schemas.Streams() {
		raw, _ := schemas.Get(name)
		if k := mustCompile(t, string(raw)).Checker([]string{"id"}); k == nil {
			t.Errorf("%s: no Checker for its schema", name)
		}
	}
}

func TestCheckerRefusesWhatItCannotCheck(t *testing.T) {
	for _, schema := range []string{
		`{"type":"array"}`,
		`{"type":"object"}`,
		`{"type":"object","properties":{"a":{"type":"string","maxLength":3}}}`,
	} {
		if mustCompile(t, schema).Checker(nil) != nil {
			t.Errorf("a Checker for %s", schema)
		}
	}
}

func FuzzChecker(f *testing.F) {
	names := append(schemas.Streams(), "test")
	compiled := make([]*Schema, len(names))
	for i, name := range names {
		raw, _ := schemas.Get(name)
		if name == "test" {
			raw = []byte(testSchema)
		}
		compiled[i] = mustCompile(f, string(raw))
	}
	f.Add(uint8(len(names)-1), `{"id":"a","total":1.5,"updated_at":"2024-01-05T00:00:00Z","tags":["a",null],"open":{"x":1}}`)
	f.Add(uint8(len(names)-1), `{"id":"a","line_items":[{"amount":1}],"account":{"a/b~c":2,"name":"n"}}`)
	f.Add(uint8(0), `{"id":"a","code":"c","email":null,"created_at":"2024-01-05T00:00:00.5+01:00"}`)
	f.Add(uint8(3), `{"id":"a\u0000","updated_at":"2024-01-05T00:00:00Z"} `)
	f.Fuzz(func(t *testing.T, which uint8, rec string) {
		s := compiled[int(which)%len(compiled)]
		k := s.Checker(checkKeys)
		if k == nil {
			t.Fatal("no Checker")
		}
		out := make([][]byte, len(checkKeys))
		if end, ok := k.Check([]byte(rec), 0, out); ok {
			sameAsSlowPath(t, s, []byte(rec), end, out)
		}
	})
}
