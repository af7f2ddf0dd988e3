package singer

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// md builds a metadata map from alternating keys and values.
func md(kv ...any) map[string]any {
	m := map[string]any{}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	return m
}

func TestDecideFieldRules(t *testing.T) {
	tests := []struct {
		name string
		md   map[string]any
		want bool
	}{
		{"automatic", md(Inclusion, InclusionAutomatic), true},
		{"automatic even if deselected", md(Inclusion, InclusionAutomatic, Selected, false), true},
		{"automatic even if not selected by default", md(Inclusion, InclusionAutomatic, SelectedByDefault, false), true},
		{"unsupported", md(Inclusion, InclusionUnsupported), false},
		{"unsupported even if selected", md(Inclusion, InclusionUnsupported, Selected, true), false},
		{"unsupported even if selected by default", md(Inclusion, InclusionUnsupported, SelectedByDefault, true), false},
		{"available selected", md(Inclusion, InclusionAvailable, Selected, true), true},
		{"available deselected", md(Inclusion, InclusionAvailable, Selected, false), false},
		{"selected wins over selected-by-default true", md(Inclusion, InclusionAvailable, Selected, false, SelectedByDefault, true), false},
		{"selected wins over selected-by-default false", md(Inclusion, InclusionAvailable, Selected, true, SelectedByDefault, false), true},
		{"available unset, selected by default", md(Inclusion, InclusionAvailable, SelectedByDefault, true), true},
		{"available unset, not selected by default", md(Inclusion, InclusionAvailable, SelectedByDefault, false), false},
		{"available with nothing else (should_sync_field default)", md(Inclusion, InclusionAvailable), false},
		{"no inclusion, selected", md(Selected, true), true},
		{"no inclusion, deselected", md(Selected, false), false},
		{"no inclusion, not selected by default", md(SelectedByDefault, false), false},
		{"no metadata inherits", nil, true},
		{"only unrelated metadata inherits", md("sql-datatype", "text"), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, _ := decideField(tt.md); got != tt.want {
				t.Errorf("decideField(%v) = %v, want %v", tt.md, got, tt.want)
			}
		})
	}
}

const nestedSchema = `{"type":"object","required":["id","code","note"],"properties":{
 "id":{"type":"string"},
 "code":{"type":["null","string"]},
 "note":{"type":["null","string"]},
 "address":{"type":["null","object"],"required":["city"],"properties":{
   "city":{"type":["null","string"]},
   "zip":{"type":["null","string"]},
   "geo":{"type":["null","object"],"properties":{"lat":{"type":"number"},"lon":{"type":"number"}}}}},
 "tags":{"type":"array","items":{"type":"object","properties":{"k":{}}}},
 "updated_at":{"type":"string","format":"date-time"}}}`

func field(path ...string) []string {
	var bc []string
	for _, p := range path {
		bc = append(bc, "properties", p)
	}
	return bc
}

func TestSelection(t *testing.T) {
	const record = `{"id":"a1","code":"X","note":null,"address":{"city":"Oslo","zip":"0150","geo":{"lat":1.10,"lon":12345678901234567890}},"tags":[{"k":1}],"updated_at":"2026-01-01T00:00:00Z","extra":{"undeclared":true}}`
	tests := []struct {
		name        string
		metadata    Metadata
		wantAll     bool
		wantFields  []string
		wantExclude []Exclusion
		wantSchema  string // "" means unchanged
		wantRecord  string // "" means unchanged
	}{
		{
			name:       "no metadata: everything",
			wantAll:    true,
			wantFields: []string{"id", "code", "note", "address", "tags", "updated_at"},
		},
		{
			name: "discovery defaults: everything",
			metadata: Metadata{
				{Breadcrumb: field("id"), Metadata: md(Inclusion, InclusionAutomatic)},
				{Breadcrumb: field("code"), Metadata: md(Inclusion, InclusionAvailable, SelectedByDefault, true)},
			},
			wantAll:    true,
			wantFields: []string{"id", "code", "note", "address", "tags", "updated_at"},
		},
		{
			name: "deselected and unsupported top-level fields",
			metadata: Metadata{
				{Breadcrumb: []string{}, Metadata: md(Selected, true)},
				{Breadcrumb: field("id"), Metadata: md(Inclusion, InclusionAutomatic, Selected, false)},
				{Breadcrumb: field("code"), Metadata: md(Inclusion, InclusionAvailable, Selected, false, SelectedByDefault, true)},
				{Breadcrumb: field("note"), Metadata: md(Inclusion, InclusionUnsupported, Selected, true)},
				{Breadcrumb: field("tags"), Metadata: md(Inclusion, InclusionAvailable, SelectedByDefault, false)},
			},
			wantFields: []string{"id", "address", "updated_at"},
			wantExclude: []Exclusion{
				{"code", "selected false"},
				{"note", `inclusion "unsupported"`},
				{"tags", "selected-by-default false and not selected"},
			},
			wantSchema: `{"type":"object","required":["id"],"properties":{"id":{"type":"string"},"address":{"type":["null","object"],"required":["city"],"properties":{"city":{"type":["null","string"]},"zip":{"type":["null","string"]},"geo":{"type":["null","object"],"properties":{"lat":{"type":"number"},"lon":{"type":"number"}}}}},"updated_at":{"type":"string","format":"date-time"}}}`,
			wantRecord: `{"id":"a1","address":{"city":"Oslo","zip":"0150","geo":{"lat":1.10,"lon":12345678901234567890}},"updated_at":"2026-01-01T00:00:00Z","extra":{"undeclared":true}}`,
		},
		{
			name: "nested field deselected, siblings and grandchildren inherit",
			metadata: Metadata{
				{Breadcrumb: field("address"), Metadata: md(Inclusion, InclusionAvailable, Selected, true)},
				{Breadcrumb: field("address", "city"), Metadata: md(Inclusion, InclusionAvailable, Selected, false)},
				{Breadcrumb: field("address", "geo", "lon"), Metadata: md(Selected, false)},
			},
			wantFields: []string{"id", "code", "note", "address", "tags", "updated_at"},
			wantExclude: []Exclusion{
				{"address.city", "selected false"},
				{"address.geo.lon", "selected false"},
			},
			wantSchema: `{"type":"object","required":["id","code","note"],"properties":{"id":{"type":"string"},"code":{"type":["null","string"]},"note":{"type":["null","string"]},"address":{"type":["null","object"],"properties":{"zip":{"type":["null","string"]},"geo":{"type":["null","object"],"properties":{"lat":{"type":"number"}}}}},"tags":{"type":"array","items":{"type":"object","properties":{"k":{}}}},"updated_at":{"type":"string","format":"date-time"}}}`,
			wantRecord: `{"id":"a1","code":"X","note":null,"address":{"zip":"0150","geo":{"lat":1.10}},"tags":[{"k":1}],"updated_at":"2026-01-01T00:00:00Z","extra":{"undeclared":true}}`,
		},
		{
			name: "deselected parent drops children, even automatic or selected ones",
			metadata: Metadata{
				{Breadcrumb: field("address"), Metadata: md(Inclusion, InclusionAvailable, Selected, false)},
				{Breadcrumb: field("address", "city"), Metadata: md(Inclusion, InclusionAutomatic)},
				{Breadcrumb: field("address", "zip"), Metadata: md(Selected, true)},
			},
			wantFields:  []string{"id", "code", "note", "tags", "updated_at"},
			wantExclude: []Exclusion{{"address", "selected false"}},
			wantSchema:  `{"type":"object","required":["id","code","note"],"properties":{"id":{"type":"string"},"code":{"type":["null","string"]},"note":{"type":["null","string"]},"tags":{"type":"array","items":{"type":"object","properties":{"k":{}}}},"updated_at":{"type":"string","format":"date-time"}}}`,
			wantRecord:  `{"id":"a1","code":"X","note":null,"tags":[{"k":1}],"updated_at":"2026-01-01T00:00:00Z","extra":{"undeclared":true}}`,
		},
		{
			name: "nested field with its own metadata selected under a by-default parent",
			metadata: Metadata{
				{Breadcrumb: field("address"), Metadata: md(Inclusion, InclusionAvailable, SelectedByDefault, true)},
				{Breadcrumb: field("address", "geo"), Metadata: md(Inclusion, InclusionAvailable)},
			},
			wantFields:  []string{"id", "code", "note", "address", "tags", "updated_at"},
			wantExclude: []Exclusion{{"address.geo", "neither selected nor selected-by-default"}},
			wantSchema:  `{"type":"object","required":["id","code","note"],"properties":{"id":{"type":"string"},"code":{"type":["null","string"]},"note":{"type":["null","string"]},"address":{"type":["null","object"],"required":["city"],"properties":{"city":{"type":["null","string"]},"zip":{"type":["null","string"]}}},"tags":{"type":"array","items":{"type":"object","properties":{"k":{}}}},"updated_at":{"type":"string","format":"date-time"}}}`,
			wantRecord:  `{"id":"a1","code":"X","note":null,"address":{"city":"Oslo","zip":"0150"},"tags":[{"k":1}],"updated_at":"2026-01-01T00:00:00Z","extra":{"undeclared":true}}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := CatalogEntry{TapStreamID: "s", Stream: "s", Schema: json.RawMessage(nestedSchema), Metadata: tt.metadata}
			s, err := e.Selection()
			if err != nil {
				t.Fatal(err)
			}
			if s.AllSelected() != tt.wantAll {
				t.Errorf("AllSelected = %v, want %v", s.AllSelected(), tt.wantAll)
			}
			if !reflect.DeepEqual(s.Fields(), tt.wantFields) {
				t.Errorf("Fields = %q, want %q", s.Fields(), tt.wantFields)
			}
			if !reflect.DeepEqual(s.Excluded(), tt.wantExclude) {
				t.Errorf("Excluded = %q, want %q", s.Excluded(), tt.wantExclude)
			}
			if len(s.Warnings()) != 0 {
				t.Errorf("unexpected warnings %q", s.Warnings())
			}
			wantSchema := tt.wantSchema
			if wantSchema == "" {
				compact, _ := compactObject([]byte(nestedSchema))
				wantSchema = string(compact)
			}
			if string(s.Schema) != wantSchema {
				t.Errorf("Schema\n got %s\nwant %s", s.Schema, wantSchema)
			}
			if !json.Valid(s.Schema) {
				t.Errorf("pruned schema is not valid JSON")
			}
			got, err := s.Project(json.RawMessage(record))
			if err != nil {
				t.Fatal(err)
			}
			wantRecord := tt.wantRecord
			if wantRecord == "" {
				wantRecord = record
			}
			if string(got) != wantRecord {
				t.Errorf("Project\n got %s\nwant %s", got, wantRecord)
			}
		})
	}
}

func TestProjectZeroCopy(t *testing.T) {
	e := CatalogEntry{TapStreamID: "s", Schema: json.RawMessage(nestedSchema)}
	s, err := e.Selection()
	if err != nil {
		t.Fatal(err)
	}
	rec := json.RawMessage(`{"id":"a"}`)
	got, err := s.Project(rec)
	if err != nil {
		t.Fatal(err)
	}
	if &got[0] != &rec[0] || len(got) != len(rec) {
		t.Error("Project copied a record although every field is selected")
	}
}

func TestProjectKeepsBytes(t *testing.T) {
	e := CatalogEntry{TapStreamID: "s", Schema: json.RawMessage(nestedSchema), Metadata: Metadata{
		{Breadcrumb: field("code"), Metadata: md(Selected, false)},
		{Breadcrumb: field("address", "zip"), Metadata: md(Selected, false)},
	}}
	s, err := e.Selection()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, in, want string }{
		{"numbers", `{"id":1.10,"code":1,"note":12345678901234567890,"updated_at":-0.0e-7}`, `{"id":1.10,"note":12345678901234567890,"updated_at":-0.0e-7}`},
		{"strings and escapes", `{"id":"\u00e9\"<&>\\","code":"x","note":"\ud83d\ude00"}`, `{"id":"\u00e9\"<&>\\","note":"\ud83d\ude00"}`},
		{"escaped key matches", `{"c\u006fde":"dropped","id":"a"}`, `{"id":"a"}`},
		{"white space", " {\n \"id\" : [ 1 , 2 ] ,\n \"code\" : 3 ,\"note\":{ \"a\" : 1 } } ", `{"id":[ 1 , 2 ],"note":{ "a" : 1 }}`},
		{"nested object kept raw where whole", `{"address":{"zip":"z","geo":{ "lat" : 1.10 }}}`, `{"address":{"geo":{ "lat" : 1.10 }}}`},
		{"nested value not an object", `{"address":"somewhere"}`, `{"address":"somewhere"}`},
		{"nested null", `{"address":null}`, `{"address":null}`},
		{"duplicate keys", `{"code":1,"id":1,"code":2,"id":2}`, `{"id":1,"id":2}`},
		{"empty", `{}`, `{}`},
		{"only deselected", `{"code":1}`, `{}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.Project(json.RawMessage(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
	for _, bad := range []string{``, `[]`, `{"id":`, `{"id":1}x`, `null`, `"{}"`} {
		if _, err := s.Project(json.RawMessage(bad)); !errors.Is(err, ErrNotObject) {
			t.Errorf("Project(%q) error = %v, want ErrNotObject", bad, err)
		}
	}
}

func TestSelectionStreamLevelOnly(t *testing.T) {
	// Meltano's legacy form: the stream selected at stream level, no field
	// metadata at all. Every field is synced.
	c, err := ParseCatalog("c.json", []byte(`{"streams":[{"tap_stream_id":"s","selected":true,"schema":`+nestedSchema+`}]}`))
	if err != nil {
		t.Fatal(err)
	}
	e := c.Entry("s")
	if !e.IsSelected() {
		t.Fatal("stream-level selected not honoured")
	}
	s, err := e.Selection()
	if err != nil {
		t.Fatal(err)
	}
	if !s.AllSelected() {
		t.Errorf("fields without metadata were not inherited from the stream: %v", s.Excluded())
	}
}

func TestSelectionFromDiscovery(t *testing.T) {
	e, err := NewCatalogEntry("s", json.RawMessage(nestedSchema), []string{"id"}, "updated_at")
	if err != nil {
		t.Fatal(err)
	}
	// Deselect everything the user can: only automatic fields remain.
	for _, f := range []string{"code", "note", "address", "tags"} {
		e.Metadata.Set(field(f), Selected, false)
	}
	e.Metadata.Set(field("id"), Selected, false)
	s, err := e.Selection()
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"id", "updated_at"}; !reflect.DeepEqual(s.Fields(), want) {
		t.Errorf("Fields = %q, want %q", s.Fields(), want)
	}
	got, err := s.Project(json.RawMessage(`{"id":"a","code":"c","updated_at":"t","address":{}}`))
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != `{"id":"a","updated_at":"t"}` {
		t.Errorf("Project = %s", got)
	}

	// Without metadata every field is selected and the schema is unchanged.
	bare := e
	bare.Metadata = nil
	all, err := bare.Selection()
	if err != nil {
		t.Fatal(err)
	}
	if !all.AllSelected() || len(all.Fields()) != 6 {
		t.Errorf("an entry without metadata selected %q", all.Fields())
	}
}

func TestSelectionWarningsAndErrors(t *testing.T) {
	e := CatalogEntry{TapStreamID: "s", Schema: json.RawMessage(nestedSchema), Metadata: Metadata{
		{Breadcrumb: []string{}, Metadata: md(Selected, true)},
		{Breadcrumb: field("nope"), Metadata: md(Selected, false)},
		{Breadcrumb: field("address", "nope"), Metadata: md(Selected, false)},
		{Breadcrumb: []string{"properties", "tags", "items", "properties", "k"}, Metadata: md(Selected, false)},
	}}
	s, err := e.Selection()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`metadata for ["properties","nope"] names no property of the schema; ignored`,
		`metadata for ["properties","address","properties","nope"] names no property of the schema; ignored`,
		`metadata for ["properties","tags","items","properties","k"] names no property of the schema; ignored`,
	}
	if !reflect.DeepEqual(s.Warnings(), want) {
		t.Errorf("Warnings =\n%s\nwant\n%s", strings.Join(s.Warnings(), "\n"), strings.Join(want, "\n"))
	}
	if !s.AllSelected() {
		t.Error("metadata for unknown fields changed the selection")
	}

	for _, schema := range []string{``, `[]`, `{"properties":`, `true`} {
		e := CatalogEntry{TapStreamID: "s", Schema: json.RawMessage(schema)}
		if _, err := e.Selection(); err == nil {
			t.Errorf("Selection accepted schema %q", schema)
		}
	}
}

func TestSelectionSchemaWithoutProperties(t *testing.T) {
	e := CatalogEntry{TapStreamID: "s", Schema: json.RawMessage(`{"type":"object", "properties": {"a": true, "b": {"properties": []}}}`),
		Metadata: Metadata{{Breadcrumb: field("a"), Metadata: md(Selected, false)}}}
	s, err := e.Selection()
	if err != nil {
		t.Fatal(err)
	}
	if string(s.Schema) != `{"type":"object","properties":{"b":{"properties":[]}}}` {
		t.Errorf("Schema = %s", s.Schema)
	}
	got, err := s.Project(json.RawMessage(`{"a":1,"b":{"c":2}}`))
	if err != nil || string(got) != `{"b":{"c":2}}` {
		t.Errorf("Project = %s, %v", got, err)
	}
}
