package singer

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

const testSchema = `{
  "type": "object",
  "properties": {
    "id": {"type": "string"},
    "code": {"type": ["null", "string"]},
    "address": {"type": ["null", "object"], "properties": {"city": {"type": ["null", "string"]}}},
    "updated_at": {"type": ["null", "string"], "format": "date-time"}
  }
}`

func TestNewCatalogEntry(t *testing.T) {
	e, err := NewCatalogEntry("accounts", json.RawMessage(testSchema), []string{"id"}, "updated_at")
	if err != nil {
		t.Fatal(err)
	}
	want := CatalogEntry{
		TapStreamID:       "accounts",
		Stream:            "accounts",
		Schema:            json.RawMessage(`{"type":"object","properties":{"id":{"type":"string"},"code":{"type":["null","string"]},"address":{"type":["null","object"],"properties":{"city":{"type":["null","string"]}}},"updated_at":{"type":["null","string"],"format":"date-time"}}}`),
		KeyProperties:     []string{"id"},
		ReplicationKey:    "updated_at",
		ReplicationMethod: "INCREMENTAL",
		Metadata: Metadata{
			{Breadcrumb: []string{}, Metadata: map[string]any{
				"inclusion":                 "available",
				"selected-by-default":       true,
				"table-key-properties":      []string{"id"},
				"valid-replication-keys":    []string{"updated_at"},
				"forced-replication-method": "INCREMENTAL",
			}},
			{Breadcrumb: []string{"properties", "id"}, Metadata: map[string]any{"inclusion": "automatic"}},
			{Breadcrumb: []string{"properties", "code"}, Metadata: map[string]any{"inclusion": "available", "selected-by-default": true}},
			{Breadcrumb: []string{"properties", "address"}, Metadata: map[string]any{"inclusion": "available", "selected-by-default": true}},
			{Breadcrumb: []string{"properties", "updated_at"}, Metadata: map[string]any{"inclusion": "automatic"}},
		},
	}
	if !reflect.DeepEqual(e, want) {
		t.Errorf("got  %+v\nwant %+v", e, want)
	}
	if e.IsSelected() {
		t.Error("a discovered entry is selected before the user selects it")
	}

	// The JSON form, as --discover prints it.
	out, err := MarshalCatalog(&Catalog{Streams: []CatalogEntry{e}})
	if err != nil {
		t.Fatal(err)
	}
	wantJSON := `{
  "streams": [
    {
      "tap_stream_id": "accounts",
      "stream": "accounts",
      "schema": {
        "type": "object",
        "properties": {
          "id": {
            "type": "string"
          },
          "code": {
            "type": [
              "null",
              "string"
            ]
          },
          "address": {
            "type": [
              "null",
              "object"
            ],
            "properties": {
              "city": {
                "type": [
                  "null",
                  "string"
                ]
              }
            }
          },
          "updated_at": {
            "type": [
              "null",
              "string"
            ],
            "format": "date-time"
          }
        }
      },
      "key_properties": [
        "id"
      ],
      "replication_key": "updated_at",
      "replication_method": "INCREMENTAL",
      "metadata": [
        {
          "breadcrumb": [],
          "metadata": {
            "forced-replication-method": "INCREMENTAL",
            "inclusion": "available",
            "selected-by-default": true,
            "table-key-properties": [
              "id"
            ],
            "valid-replication-keys": [
              "updated_at"
            ]
          }
        },
        {
          "breadcrumb": [
            "properties",
            "id"
          ],
          "metadata": {
            "inclusion": "automatic"
          }
        },
        {
          "breadcrumb": [
            "properties",
            "code"
          ],
          "metadata": {
            "inclusion": "available",
            "selected-by-default": true
          }
        },
        {
          "breadcrumb": [
            "properties",
            "address"
          ],
          "metadata": {
            "inclusion": "available",
            "selected-by-default": true
          }
        },
        {
          "breadcrumb": [
            "properties",
            "updated_at"
          ],
          "metadata": {
            "inclusion": "automatic"
          }
        }
      ]
    }
  ]
}
`
	if string(out) != wantJSON {
		t.Errorf("MarshalCatalog:\n%s\nwant\n%s", out, wantJSON)
	}
}

func TestNewCatalogEntryVariants(t *testing.T) {
	tests := []struct {
		name       string
		schema     string
		keys       []string
		repKey     string
		wantMethod string
		wantErr    string
	}{
		{name: "full table without replication key", schema: `{"properties":{"id":{}}}`, keys: []string{"id"}, wantMethod: "FULL_TABLE"},
		{name: "no key properties", schema: `{"properties":{"t":{}}}`, repKey: "t", wantMethod: "INCREMENTAL"},
		{name: "key not in schema", schema: `{"properties":{"id":{}}}`, keys: []string{"uuid"}, wantErr: `key property "uuid"`},
		{name: "replication key not in schema", schema: `{"properties":{"id":{}}}`, keys: []string{"id"}, repKey: "updated_at", wantErr: `replication key "updated_at"`},
		{name: "schema is an array", schema: `[]`, wantErr: "not a JSON object"},
		{name: "schema is broken", schema: `{"properties":`, wantErr: "not valid JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := NewCatalogEntry("s", json.RawMessage(tt.schema), tt.keys, tt.repKey)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			root := e.Metadata.Root()
			if e.ReplicationMethod != tt.wantMethod || root[ForcedReplicationMethod] != tt.wantMethod {
				t.Errorf("replication method %q / forced %v, want %q", e.ReplicationMethod, root[ForcedReplicationMethod], tt.wantMethod)
			}
			if _, has := root[ValidReplicationKeys]; has != (tt.repKey != "") {
				t.Errorf("valid-replication-keys present = %v with replication key %q", has, tt.repKey)
			}
			if e.KeyProperties == nil {
				t.Error("KeyProperties is nil; it must marshal as []")
			}
		})
	}
}

func TestCatalogRoundTrip(t *testing.T) {
	a, err := NewCatalogEntry("accounts", json.RawMessage(testSchema), []string{"id"}, "updated_at")
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewCatalogEntry("plans <&>", json.RawMessage(`{"properties":{"id":{"description":"<b>&amp;</b> \u2028"},"n":{"type":"number","maximum":1.10}}}`), []string{"id"}, "")
	if err != nil {
		t.Fatal(err)
	}
	b.SetSelected(true)
	b.Metadata.Set([]string{"properties", "n"}, Selected, false)
	b.Metadata.Set([]string{"properties", "n"}, "x-custom", map[string]any{"k": json.Number("12345678901234567890")})
	sel := true
	b.Selected = &sel
	for _, c := range []*Catalog{{}, {Streams: []CatalogEntry{a}}, {Streams: []CatalogEntry{a, b}}} {
		out, err := MarshalCatalog(c)
		if err != nil {
			t.Fatal(err)
		}
		back, err := ParseCatalog("catalog.json", out)
		if err != nil {
			t.Fatalf("ParseCatalog(MarshalCatalog(c)): %v\n%s", err, out)
		}
		want := c
		if want.Streams == nil {
			want = &Catalog{Streams: []CatalogEntry{}}
		}
		if !reflect.DeepEqual(back, want) {
			t.Errorf("round trip changed the catalog:\n got %+v\nwant %+v", back, want)
		}
	}
}

func TestParseCatalogMeltanoForm(t *testing.T) {
	data := []byte(`{"streams":[
	  {"tap_stream_id":"accounts","stream":"accounts","schema":{"properties":{"id":{}}},
	   "key_properties":["id"],"replication_key":"updated_at","replication_method":"INCREMENTAL","selected":true},
	  {"tap_stream_id":"plans","schema":{"properties":{}},"selected":false,"metadata":null},
	  {"tap_stream_id":"coupons","schema":{},"selected":true,
	   "metadata":[{"breadcrumb":[],"metadata":{"selected":false,"replication-key":"updated_at","replication-method":"INCREMENTAL"}}]},
	  {"tap_stream_id":"invoices","schema":{},
	   "metadata":[{"breadcrumb":[],"metadata":{"selected":true}}]},
	  {"tap_stream_id":"notes","schema":{}}
	]}`)
	c, err := ParseCatalog("catalog.json", data)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		id           string
		wantSelected bool
		wantStream   string
		wantRepKey   string
		wantMethod   string
		wantKeys     []string
	}{
		{"accounts", true, "accounts", "updated_at", "INCREMENTAL", []string{"id"}},
		{"plans", false, "plans", "", "", []string{}},
		{"coupons", false, "coupons", "", "", []string{}}, // metadata [] wins over stream-level selected
		{"invoices", true, "invoices", "", "", []string{}},
		{"notes", false, "notes", "", "", []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			e := c.Entry(tt.id)
			if e == nil {
				t.Fatalf("Entry(%q) = nil", tt.id)
			}
			if e.IsSelected() != tt.wantSelected {
				t.Errorf("IsSelected = %v, want %v", e.IsSelected(), tt.wantSelected)
			}
			if e.Stream != tt.wantStream || e.ReplicationKey != tt.wantRepKey || e.ReplicationMethod != tt.wantMethod || !reflect.DeepEqual(e.KeyProperties, tt.wantKeys) {
				t.Errorf("got stream %q key %q method %q keys %v", e.Stream, e.ReplicationKey, e.ReplicationMethod, e.KeyProperties)
			}
		})
	}
	if c.Entry("missing") != nil {
		t.Error("Entry of an unknown stream is not nil")
	}
	if got := stringValue(c.Entry("coupons").Metadata.Root(), ReplicationKey); got != "updated_at" {
		t.Errorf("replication-key metadata = %q", got)
	}
	c.SelectAll()
	for _, e := range c.Streams {
		if !e.IsSelected() {
			t.Errorf("after SelectAll %s is not selected", e.TapStreamID)
		}
	}
}

func TestParseCatalogErrors(t *testing.T) {
	const okSchema = `"schema":{}`
	tests := []struct {
		name string
		data string
		want string
	}{
		{"empty file", ``, "cat.json: not valid JSON"},
		{"not JSON", `streams: []`, "cat.json: not valid JSON: invalid character 's' looking for beginning of value (at byte 1)"},
		{"truncated", `{"streams":[`, "cat.json: not valid JSON"},
		{"top level array", `[]`, "cat.json: not an object (got array)"},
		{"streams missing", `{"stream":[]}`, "cat.json: streams: missing"},
		{"streams not array", `{"streams":{}}`, "cat.json: streams: not an array (got object)"},
		{"streams null", `{"streams":null}`, "cat.json: streams: not an array (got null)"},
		{"entry not object", `{"streams":[{"tap_stream_id":"a",` + okSchema + `},7]}`, "cat.json: streams[1]: not an object (got number)"},
		{"entry without tap_stream_id", `{"streams":[{"stream":"a",` + okSchema + `}]}`, "cat.json: streams[0].tap_stream_id: missing"},
		{"empty tap_stream_id", `{"streams":[{"tap_stream_id":"",` + okSchema + `}]}`, "cat.json: streams[0].tap_stream_id: missing"},
		{"tap_stream_id not string", `{"streams":[{"tap_stream_id":1,` + okSchema + `}]}`, "cat.json: streams[0].tap_stream_id: not a string (got number)"},
		{"duplicate tap_stream_id", `{"streams":[{"tap_stream_id":"a",` + okSchema + `},{"tap_stream_id":"a",` + okSchema + `}]}`, `cat.json: streams[1].tap_stream_id: duplicate "a" (also streams[0])`},
		{"stream not string", `{"streams":[{"tap_stream_id":"a","stream":[],` + okSchema + `}]}`, "cat.json: streams[0].stream: not a string (got array)"},
		{"schema missing", `{"streams":[{"tap_stream_id":"a"}]}`, "cat.json: streams[0].schema: missing"},
		{"schema not object", `{"streams":[{"tap_stream_id":"a","schema":true}]}`, "cat.json: streams[0].schema: not an object (got boolean)"},
		{"key_properties not array", `{"streams":[{"tap_stream_id":"a",` + okSchema + `,"key_properties":"id"}]}`, "cat.json: streams[0].key_properties: not an array of strings (got string)"},
		{"key_properties with number", `{"streams":[{"tap_stream_id":"a",` + okSchema + `,"key_properties":["id",1]}]}`, "cat.json: streams[0].key_properties: not an array of strings (got array)"},
		{"replication_key not string", `{"streams":[{"tap_stream_id":"a",` + okSchema + `,"replication_key":{}}]}`, "cat.json: streams[0].replication_key: not a string (got object)"},
		{"replication_method not string", `{"streams":[{"tap_stream_id":"a",` + okSchema + `,"replication_method":1}]}`, "cat.json: streams[0].replication_method: not a string (got number)"},
		{"selected not boolean", `{"streams":[{"tap_stream_id":"a",` + okSchema + `,"selected":"true"}]}`, "cat.json: streams[0].selected: not a boolean (got string)"},
		{"metadata not array", `{"streams":[{"tap_stream_id":"a",` + okSchema + `,"metadata":{}}]}`, "cat.json: streams[0].metadata: not an array (got object)"},
		{"metadata item not object", `{"streams":[{"tap_stream_id":"a",` + okSchema + `,"metadata":[[]]}]}`, "cat.json: streams[0].metadata[0]: not an object (got array)"},
		{"breadcrumb missing", `{"streams":[{"tap_stream_id":"a",` + okSchema + `,"metadata":[{"metadata":{}}]}]}`, "cat.json: streams[0].metadata[0].breadcrumb: missing"},
		{"breadcrumb wrong type", `{"streams":[{"tap_stream_id":"a",` + okSchema + `,"metadata":[{"breadcrumb":"properties","metadata":{}}]}]}`, "cat.json: streams[0].metadata[0].breadcrumb: not an array of strings (got string)"},
		{"breadcrumb with number", `{"streams":[{"tap_stream_id":"a",` + okSchema + `},{"tap_stream_id":"b",` + okSchema + `,"metadata":[{"breadcrumb":[],"metadata":{}},{"breadcrumb":["properties",3],"metadata":{}}]}]}`, "cat.json: streams[1].metadata[1].breadcrumb: not an array of strings"},
		{"duplicate breadcrumb", `{"streams":[{"tap_stream_id":"a",` + okSchema + `,"metadata":[{"breadcrumb":[],"metadata":{}},{"breadcrumb":[],"metadata":{}}]}]}`, "cat.json: streams[0].metadata[1].breadcrumb: duplicate [] (also streams[0].metadata[0])"},
		{"metadata map missing", `{"streams":[{"tap_stream_id":"a",` + okSchema + `,"metadata":[{"breadcrumb":[]}]}]}`, "cat.json: streams[0].metadata[0].metadata: missing"},
		{"metadata map not object", `{"streams":[{"tap_stream_id":"a",` + okSchema + `,"metadata":[{"breadcrumb":[],"metadata":[]}]}]}`, "cat.json: streams[0].metadata[0].metadata: not an object (got array)"},
		{"selected metadata not boolean", `{"streams":[{"tap_stream_id":"a",` + okSchema + `,"metadata":[{"breadcrumb":[],"metadata":{"selected":"yes"}}]}]}`, "cat.json: streams[0].metadata[0].metadata.selected: not a boolean (got string)"},
		{"selected-by-default not boolean", `{"streams":[{"tap_stream_id":"a",` + okSchema + `,"metadata":[{"breadcrumb":["properties","x"],"metadata":{"selected-by-default":1}}]}]}`, "cat.json: streams[0].metadata[0].metadata.selected-by-default: not a boolean (got number)"},
		{"unknown inclusion", `{"streams":[{"tap_stream_id":"a",` + okSchema + `,"metadata":[{"breadcrumb":[],"metadata":{"inclusion":"always"}}]}]}`, `cat.json: streams[0].metadata[0].metadata.inclusion: "always" is not one of automatic, available, unsupported`},
		{"table-key-properties not strings", `{"streams":[{"tap_stream_id":"a",` + okSchema + `,"metadata":[{"breadcrumb":[],"metadata":{"table-key-properties":"id"}}]}]}`, "cat.json: streams[0].metadata[0].metadata.table-key-properties: not an array of strings (got string)"},
		{"replication-key not string", `{"streams":[{"tap_stream_id":"a",` + okSchema + `,"metadata":[{"breadcrumb":[],"metadata":{"replication-key":["updated_at"]}}]}]}`, "cat.json: streams[0].metadata[0].metadata.replication-key: not a string (got array)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseCatalog("cat.json", []byte(tt.data))
			if err == nil {
				t.Fatalf("no error; parsed %+v", c)
			}
			if !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("error\n %q\nwant prefix\n %q", err.Error(), tt.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error spans several lines: %q", err.Error())
			}
			var ce *CatalogError
			if !errors.As(err, &ce) || ce.File != "cat.json" {
				t.Errorf("error is not a *CatalogError for cat.json: %#v", err)
			}
		})
	}
}

func TestParseCatalogNulls(t *testing.T) {
	// null stands for "not set" everywhere optional.
	data := `{"streams":[{"tap_stream_id":"a","stream":null,"schema":{},"key_properties":null,"replication_key":null,
	  "replication_method":null,"selected":null,"metadata":[{"breadcrumb":[],"metadata":{"selected":null,"inclusion":null,"x":1.50}}]}]}`
	c, err := ParseCatalog("c.json", []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	e := c.Streams[0]
	if e.Stream != "a" || len(e.KeyProperties) != 0 || e.Selected != nil || e.IsSelected() {
		t.Errorf("nulls not read as unset: %+v", e)
	}
	if got := e.Metadata.Root()["x"]; got != json.Number("1.50") {
		t.Errorf("unknown metadata number read as %#v, want json.Number(1.50)", got)
	}
}

func TestMetadataSetAndLookup(t *testing.T) {
	var md Metadata
	if md.Root() != nil || md.Lookup("properties", "a") != nil {
		t.Fatal("empty metadata has entries")
	}
	md.Set(nil, Selected, true)
	md.Set([]string{"properties", "a"}, Selected, false)
	md.Set([]string{}, Inclusion, InclusionAvailable)
	if len(md) != 2 {
		t.Fatalf("got %d entries, want 2: %+v", len(md), md)
	}
	if want := map[string]any{Selected: true, Inclusion: InclusionAvailable}; !reflect.DeepEqual(md.Root(), want) {
		t.Errorf("root = %v, want %v", md.Root(), want)
	}
	if v, ok := boolValue(md.Lookup("properties", "a"), Selected); !ok || v {
		t.Errorf("field a selected = %v, %v", v, ok)
	}
	// A nil map in an entry is filled in by Set and marshals as {}.
	md = Metadata{{Breadcrumb: nil}}
	out, err := json.Marshal(md)
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != `[{"breadcrumb":[],"metadata":{}}]` {
		t.Errorf("marshal of empty entry = %s", out)
	}
	md.Set(nil, Selected, false)
	if v, ok := boolValue(md.Root(), Selected); !ok || v {
		t.Errorf("Set on nil map: %v", md)
	}
}

// TestCatalogShape: the shape schema alone finds what ParseCatalog reports
// (bar the duplicates), in the same words, and every refused key is
// reported at once, one line each, in document order.
func TestCatalogShape(t *testing.T) {
	const ok = `"schema":{}`
	p := catalogParser{file: "cat.json"}
	for data, want := range map[string]string{
		`[]`:                         "cat.json: not an object (got array)",
		`{"stream":[]}`:              "cat.json: streams: missing",
		`{"streams":null}`:           "cat.json: streams: not an array (got null)",
		`{"streams":[{` + ok + `}]}`: "cat.json: streams[0].tap_stream_id: missing",
		`{"streams":[{"tap_stream_id":"",` + ok + `}]}`:                                                                   "cat.json: streams[0].tap_stream_id: missing",
		`{"streams":[{"tap_stream_id":"a",` + ok + `,"key_properties":["id",1]}]}`:                                        "cat.json: streams[0].key_properties: not an array of strings (got array)",
		`{"streams":[{"tap_stream_id":"a",` + ok + `,"metadata":[{"breadcrumb":[],"metadata":{"inclusion":"always"}}]}]}`: `cat.json: streams[0].metadata[0].metadata.inclusion: "always" is not one of automatic, available, unsupported`,
		`{"streams":[{"tap_stream_id":"a",` + ok + `,"metadata":[{"breadcrumb":[],"metadata":{"inclusion":3}}]}]}`:        `cat.json: streams[0].metadata[0].metadata.inclusion: not a string (got number)`,
	} {
		if err := p.checkShape([]byte(data)); err == nil || err.Error() != want {
			t.Errorf("%s: shape error %v, want %q", data, err, want)
		}
	}
	data := `{"streams":[{"tap_stream_id":"a",` + ok + `,"selected":"yes"},{"tap_stream_id":1,"schema":[]},` +
		`{"tap_stream_id":"c",` + ok + `,"metadata":[{"breadcrumb":["properties",2]}]}]}`
	want := []string{
		"cat.json: streams[0].selected: not a boolean (got string)",
		"cat.json: streams[1].schema: not an object (got array)",
		"cat.json: streams[1].tap_stream_id: not a string (got number)",
		"cat.json: streams[2].metadata[0].breadcrumb: not an array of strings (got array)",
		"cat.json: streams[2].metadata[0].metadata: missing",
	}
	_, err := ParseCatalog("cat.json", []byte(data))
	if err == nil || err.Error() != strings.Join(want, "\n") {
		t.Fatalf("error:\n%v\nwant:\n%s", err, strings.Join(want, "\n"))
	}
	if _, dupErr := ParseCatalog("cat.json", []byte(`{"streams":[{"tap_stream_id":"a",`+ok+`},{"tap_stream_id":"a",`+ok+`}]}`)); dupErr == nil {
		t.Fatal("a duplicate tap_stream_id passed")
	}
}
