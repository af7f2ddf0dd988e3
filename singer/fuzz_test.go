package singer

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
)

func FuzzParseCatalog(f *testing.F) {
	e, err := NewCatalogEntry("accounts", json.RawMessage(nestedSchema), []string{"id"}, "updated_at")
	if err != nil {
		f.Fatal(err)
	}
	e.SetSelected(true)
	e.Metadata.Set(field("address", "city"), Selected, false)
	valid, err := MarshalCatalog(&Catalog{Streams: []CatalogEntry{e}})
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{
		string(valid),
		`{"streams":[]}`,
		`{"streams":[{"tap_stream_id":"a","schema":{},"selected":true,"replication_key":"t","key_properties":["id"]}]}`,
		`{"streams":[{"tap_stream_id":"a","schema":{},"metadata":[{"breadcrumb":["properties",1],"metadata":{}}]}]}`,
		`{"streams":[{"tap_stream_id":"a","schema":{},"metadata":[{"breadcrumb":[],"metadata":{"selected":"yes","x":1e400}}]}]}`,
		`{"streams":[{"tap_stream_id":"a","schema":[]}]}`,
		`{"streams":[{"tap_stream_id":"a","schema":{}},{"tap_stream_id":"a","schema":{}}]}`,
		`{"streams":{}}`,
		`{"streams":[`,
		`[]`,
		`null`,
		``,
		"\xff\xfe",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseCatalog("catalog.json", data)
		if err != nil {
			if _, ok := err.(*CatalogError); !ok {
				t.Fatalf("error is %T, not *CatalogError: %v", err, err)
			}
			// One line per problem, each naming the file.
			for _, line := range bytes.Split([]byte(err.Error()), []byte("\n")) {
				if !bytes.HasPrefix(line, []byte("catalog.json: ")) || len(line) == len("catalog.json: ") {
					t.Fatalf("error line %q does not name the file and a problem: %q", line, err.Error())
				}
			}
			return
		}
		// Whatever parses survives a round trip unchanged, and selection
		// works on it without panicking.
		out, err := MarshalCatalog(c)
		if err != nil {
			t.Fatalf("MarshalCatalog: %v", err)
		}
		back, err := ParseCatalog("catalog.json", out)
		if err != nil {
			t.Fatalf("re-parse: %v\n%s", err, out)
		}
		if !reflect.DeepEqual(back, c) {
			t.Fatalf("round trip changed the catalog:\n got %#v\nwant %#v", back, c)
		}
		for i := range c.Streams {
			c.Streams[i].IsSelected()
			s, err := c.Streams[i].Selection()
			if err != nil {
				t.Fatalf("Selection on a parsed entry: %v", err)
			}
			if !json.Valid(s.Schema) {
				t.Fatalf("pruned schema is not valid JSON: %s", s.Schema)
			}
		}
	})
}

func FuzzProject(f *testing.F) {
	e := CatalogEntry{TapStreamID: "s", Schema: json.RawMessage(nestedSchema), Metadata: Metadata{
		{Breadcrumb: field("code"), Metadata: md(Selected, false)},
		{Breadcrumb: field("address", "zip"), Metadata: md(Selected, false)},
		{Breadcrumb: field("address", "geo", "lat"), Metadata: md(Inclusion, InclusionUnsupported)},
	}}
	s, err := e.Selection()
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{
		`{"id":"a1","code":"X","note":null,"address":{"city":"Oslo","zip":"0150","geo":{"lat":1.10,"lon":12345678901234567890}},"tags":[{"k":1}]}`,
		`{"c\u006fde":1,"address":{"zip":{"deep":[1,{"x":"}"}]}}}`,
		" { \"address\" : { \"geo\" : [ ] } } ",
		`{"code":"\"\\"}`,
		`{}`,
		`[]`,
		`{"id":`,
		`"str"`,
		``,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		out, err := s.Project(data)
		if err != nil {
			return
		}
		if !json.Valid(out) {
			t.Fatalf("Project(%q) = %q, not valid JSON", data, out)
		}
		again, err := s.Project(out)
		if err != nil || !bytes.Equal(again, out) {
			t.Fatalf("Project is not idempotent: %q then %q (%v)", out, again, err)
		}
		var in, got map[string]json.RawMessage
		if err := json.Unmarshal(data, &in); err != nil {
			t.Fatalf("Project accepted %q that encoding/json rejects: %v", data, err)
		}
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatal(err)
		}
		if _, ok := got["code"]; ok {
			t.Fatalf("deselected field kept: %q", out)
		}
		for k, v := range got {
			switch k {
			case "address":
				if jsonKind(v) == '{' {
					var addr map[string]json.RawMessage
					if err := json.Unmarshal(v, &addr); err != nil {
						t.Fatal(err)
					}
					if _, ok := addr["zip"]; ok {
						t.Fatalf("deselected nested field kept: %q", out)
					}
					continue
				}
			}
			if !bytes.Equal(v, in[k]) {
				t.Fatalf("value of %q changed: %q -> %q", k, in[k], v)
			}
		}
	})
}
