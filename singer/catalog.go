package singer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Catalog is a Singer catalog: what --discover prints and what --catalog
// (or --properties) reads back, with the user's selections. The zero value
// is an empty catalog. Like a map, a Catalog may be read by many
// goroutines at once but not changed while anyone reads it.
type Catalog struct {
	Streams []CatalogEntry `json:"streams"`
}

// CatalogEntry describes one stream. Both selection forms are kept:
// metadata (Singer) and the stream-level selected, replication_key and
// replication_method keys (Meltano and legacy taps).
//
// Schema is held compacted. KeyProperties and Metadata are written as []
// when nil. The zero value is an unnamed, unselected entry without a
// schema. Concurrent reads are safe; changes (SetSelected) are not.
type CatalogEntry struct {
	TapStreamID       string          `json:"tap_stream_id"`
	Stream            string          `json:"stream"`
	Schema            json.RawMessage `json:"schema"`
	KeyProperties     []string        `json:"key_properties"`
	ReplicationKey    string          `json:"replication_key,omitempty"`
	ReplicationMethod string          `json:"replication_method,omitempty"`
	// Description says what the stream is and what reading it costs, for
	// a person choosing streams; taps and targets ignore it.
	Description string `json:"description,omitempty"`
	// Selected is the legacy/Meltano stream-level selection; nil when the
	// catalog does not say. Metadata at breadcrumb [] takes precedence.
	Selected *bool    `json:"selected,omitempty"`
	Metadata Metadata `json:"metadata"`
}

// MarshalJSON writes the entry with key_properties and metadata as [] when
// they are nil, and without escaping <, > and &.
func (e CatalogEntry) MarshalJSON() ([]byte, error) {
	type plain CatalogEntry
	if e.KeyProperties == nil {
		e.KeyProperties = []string{}
	}
	if e.Metadata == nil {
		e.Metadata = Metadata{}
	}
	return marshalCompact(plain(e))
}

// CatalogError is the error ParseCatalog returns for a malformed catalog.
// Its message is one line per problem: "File: Key: Msg", e.g.
// "catalog.json: streams[3].metadata[0].breadcrumb: not an array of strings".
type CatalogError struct {
	File string // the catalog file name given to ParseCatalog
	Key  string // path of the offending key; empty for the whole document
	Msg  string
	// Others are further problems found with it (other keys the catalog
	// shape refuses), in document order; each is one more line.
	Others []*CatalogError
}

// Error implements error.
func (e *CatalogError) Error() string {
	line := e.File + ": " + e.Key + ": " + e.Msg
	if e.Key == "" {
		line = e.File + ": " + e.Msg
	}
	for _, o := range e.Others {
		line += "\n" + o.Error()
	}
	return line
}

// NewCatalogEntry builds the discovery entry for a stream: tap_stream_id
// and stream set to stream, the schema (compacted), key_properties,
// replication_key and replication_method INCREMENTAL, and metadata:
//
//   - at []: inclusion available, selected-by-default true,
//     table-key-properties, valid-replication-keys [replicationKey] and
//     forced-replication-method INCREMENTAL;
//   - at ["properties", name] for each top-level property, in schema order:
//     inclusion automatic for the key properties and the replication key,
//     otherwise inclusion available with selected-by-default true.
//
// With an empty replicationKey the stream is FULL_TABLE and has no
// valid-replication-keys. The schema must be a JSON object whose
// properties include every key property and the replication key.
// The entry is not selected; see SetSelected and Catalog.SelectAll.
func NewCatalogEntry(stream string, schema json.RawMessage, keyProperties []string, replicationKey string) (CatalogEntry, error) {
	if stream == "" {
		return CatalogEntry{}, errors.New("singer: catalog entry: empty stream name")
	}
	compact, err := compactObject(schema)
	if err != nil {
		return CatalogEntry{}, fmt.Errorf("singer: catalog entry %q: schema: %w", stream, err)
	}
	props, err := schemaProperties(compact)
	if err != nil {
		return CatalogEntry{}, fmt.Errorf("singer: catalog entry %q: schema: %w", stream, err)
	}
	names := make(map[string]bool, len(props))
	for _, p := range props {
		names[p.name] = true
	}
	automatic := make(map[string]bool, len(keyProperties)+1)
	for _, k := range keyProperties {
		if !names[k] {
			return CatalogEntry{}, fmt.Errorf("singer: catalog entry %q: key property %q is not in the schema's properties", stream, k)
		}
		automatic[k] = true
	}
	method := ReplicationFullTable
	root := map[string]any{
		Inclusion:          InclusionAvailable,
		SelectedByDefault:  true,
		TableKeyProperties: append([]string{}, keyProperties...),
	}
	if replicationKey != "" {
		if !names[replicationKey] {
			return CatalogEntry{}, fmt.Errorf("singer: catalog entry %q: replication key %q is not in the schema's properties", stream, replicationKey)
		}
		automatic[replicationKey] = true
		method = ReplicationIncremental
		root[ValidReplicationKeys] = []string{replicationKey}
	}
	root[ForcedReplicationMethod] = method

	md := make(Metadata, 0, len(props)+1)
	md = append(md, MetadataEntry{Breadcrumb: []string{}, Metadata: root})
	for _, p := range props {
		m := map[string]any{Inclusion: InclusionAvailable, SelectedByDefault: true}
		if automatic[p.name] {
			m = map[string]any{Inclusion: InclusionAutomatic}
		}
		md = append(md, MetadataEntry{Breadcrumb: []string{"properties", p.name}, Metadata: m})
	}
	return CatalogEntry{
		TapStreamID:       stream,
		Stream:            stream,
		Schema:            compact,
		KeyProperties:     append([]string{}, keyProperties...),
		ReplicationKey:    replicationKey,
		ReplicationMethod: method,
		Metadata:          md,
	}, nil
}

// Entry returns the entry whose tap_stream_id is tapStreamID, or nil.
// The pointer refers into c.Streams.
func (c *Catalog) Entry(tapStreamID string) *CatalogEntry {
	if c == nil {
		return nil
	}
	for i := range c.Streams {
		if c.Streams[i].TapStreamID == tapStreamID {
			return &c.Streams[i]
		}
	}
	return nil
}

// SelectAll marks every stream selected (selected true at breadcrumb []).
// Fields follow their metadata, so on a catalog built with NewCatalogEntry
// every field is selected too. This is the selection a tap uses when no
// catalog is given.
func (c *Catalog) SelectAll() {
	for i := range c.Streams {
		c.Streams[i].SetSelected(true)
	}
}

// IsSelected reports whether the stream is to be synced: the selected key
// of the metadata at breadcrumb [] if it is set (true or false); otherwise
// the stream-level selected key (Meltano/legacy); otherwise false.
func (e *CatalogEntry) IsSelected() bool {
	if v, ok := boolValue(e.Metadata.Root(), Selected); ok {
		return v
	}
	if e.Selected != nil {
		return *e.Selected
	}
	return false
}

// SetSelected sets selected at breadcrumb [] (creating the entry if
// needed). It leaves the stream-level Selected key alone.
func (e *CatalogEntry) SetSelected(selected bool) {
	e.Metadata.Set([]string{}, Selected, selected)
}

// MarshalCatalog encodes c as --discover prints it: indented by two
// spaces, with a trailing newline, <, > and & not escaped. Map keys in
// metadata come out sorted, so the output is deterministic.
func MarshalCatalog(c *Catalog) ([]byte, error) {
	if c == nil {
		c = &Catalog{}
	}
	out := *c
	if out.Streams == nil {
		out.Streams = []CatalogEntry{}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return nil, fmt.Errorf("singer: encoding catalog: %w", err)
	}
	return buf.Bytes(), nil
}

// ParseCatalog decodes and checks a catalog file. name is the file name
// used in errors. Every error is a *CatalogError naming the file and the
// offending key, e.g.
//
//	catalog.json: streams[3].metadata[0].breadcrumb: not an array of strings
//
// Required: a JSON object with a "streams" array; per entry a non-empty
// tap_stream_id (unique in the catalog) and a schema that is an object; per
// metadata item a breadcrumb (array of strings, unique within the entry)
// and a metadata object. Optional keys, when present and not null, must
// have the right type: stream, replication_key and replication_method are
// strings, key_properties an array of strings, selected a boolean. Known
// metadata keys are checked too (inclusion is one of automatic, available,
// unsupported; selected and selected-by-default are booleans;
// table-key-properties and valid-replication-keys arrays of strings; the
// replication keys strings). A missing stream defaults to tap_stream_id;
// missing key_properties and metadata are empty (non-nil). Unknown keys
// are ignored.
//
// The shape is checked first against CatalogShape with jsonschema/v5, and
// every key it refuses is reported at once, one line each (the error's
// Others); the duplicates a schema cannot see are checked while decoding.
func ParseCatalog(name string, data []byte) (*Catalog, error) {
	p := catalogParser{file: name}
	if !json.Valid(data) {
		var v any
		err := json.Unmarshal(data, &v)
		msg := "not valid JSON"
		var se *json.SyntaxError
		if errors.As(err, &se) {
			msg = fmt.Sprintf("not valid JSON: %v (at byte %d)", se, se.Offset)
		}
		return nil, p.fail("", "%s", msg)
	}
	if err := p.checkShape(data); err != nil {
		return nil, err
	}
	top, err := p.object("", data)
	if err != nil {
		return nil, err
	}
	rawStreams, ok := top["streams"]
	if !ok {
		return nil, p.fail("streams", "missing")
	}
	if jsonKind(rawStreams) != '[' {
		return nil, p.fail("streams", "not an array (got %s)", kindName(rawStreams))
	}
	var items []json.RawMessage
	if err := json.Unmarshal(rawStreams, &items); err != nil {
		return nil, p.fail("streams", "%v", err)
	}
	c := &Catalog{Streams: make([]CatalogEntry, 0, len(items))}
	ids := make(map[string]int, len(items))
	for i, raw := range items {
		key := "streams[" + strconv.Itoa(i) + "]"
		e, err := p.entry(key, raw)
		if err != nil {
			return nil, err
		}
		if j, dup := ids[e.TapStreamID]; dup {
			return nil, p.fail(key+".tap_stream_id", "duplicate %q (also streams[%d])", e.TapStreamID, j)
		}
		ids[e.TapStreamID] = i
		c.Streams = append(c.Streams, e)
	}
	return c, nil
}

// catalogParser carries the file name into every error.
type catalogParser struct{ file string }

func (p catalogParser) fail(key, format string, args ...any) error {
	return &CatalogError{File: p.file, Key: key, Msg: fmt.Sprintf(format, args...)}
}

// object decodes raw as a JSON object into its members.
func (p catalogParser) object(key string, raw []byte) (map[string]json.RawMessage, error) {
	if jsonKind(raw) != '{' {
		return nil, p.fail(key, "not an object (got %s)", kindName(raw))
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, p.fail(key, "%v", err)
	}
	return m, nil
}

// entry decodes and checks one catalog entry (streams[i]).
func (p catalogParser) entry(key string, raw []byte) (CatalogEntry, error) {
	var e CatalogEntry
	m, err := p.object(key, raw)
	if err != nil {
		return e, err
	}
	if err := p.entryNames(key, m, &e); err != nil {
		return e, err
	}
	schema, ok := m["schema"]
	if !ok {
		return e, p.fail(key+".schema", "missing")
	}
	if jsonKind(schema) != '{' {
		return e, p.fail(key+".schema", "not an object (got %s)", kindName(schema))
	}
	if e.Schema, err = compactObject(schema); err != nil {
		return e, p.fail(key+".schema", "%v", err)
	}
	if e.KeyProperties, err = p.optStrings(key+".key_properties", m["key_properties"]); err != nil {
		return e, err
	}
	if e.KeyProperties == nil {
		e.KeyProperties = []string{}
	}
	if e.Selected, err = p.optBool(key+".selected", m["selected"]); err != nil {
		return e, err
	}
	e.Metadata, err = p.entryMetadata(key, m["metadata"])
	return e, err
}

// entryNames reads an entry's string keys: tap_stream_id (required, not
// empty), stream (defaults to tap_stream_id), replication_key,
// replication_method and description.
func (p catalogParser) entryNames(key string, m map[string]json.RawMessage, e *CatalogEntry) error {
	id, err := p.optString(key+".tap_stream_id", m["tap_stream_id"])
	if err != nil {
		return err
	}
	if id == nil || *id == "" {
		return p.fail(key+".tap_stream_id", "missing")
	}
	e.TapStreamID, e.Stream = *id, *id
	for _, f := range []struct {
		name string
		dst  *string
	}{{"stream", &e.Stream}, {"replication_key", &e.ReplicationKey}, {"replication_method", &e.ReplicationMethod}, {"description", &e.Description}} {
		s, err := p.optString(key+"."+f.name, m[f.name])
		if err != nil {
			return err
		}
		if s != nil {
			*f.dst = *s
		}
	}
	return nil
}

// entryMetadata decodes an entry's metadata array (absent or null: empty),
// refusing a breadcrumb listed twice.
func (p catalogParser) entryMetadata(key string, raw json.RawMessage) (Metadata, error) {
	if raw == nil || jsonKind(raw) == 'n' {
		return Metadata{}, nil
	}
	if jsonKind(raw) != '[' {
		return nil, p.fail(key+".metadata", "not an array (got %s)", kindName(raw))
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, p.fail(key+".metadata", "%v", err)
	}
	md := make(Metadata, 0, len(items))
	seen := make(map[string]int, len(items))
	for j, item := range items {
		mkey := key + ".metadata[" + strconv.Itoa(j) + "]"
		me, err := p.metadataEntry(mkey, item)
		if err != nil {
			return nil, err
		}
		bc := strings.Join(me.Breadcrumb, "\x00")
		if len(me.Breadcrumb) == 0 {
			bc = "\x01" // distinct from [""]
		}
		if k, dup := seen[bc]; dup {
			return nil, p.fail(mkey+".breadcrumb", "duplicate %s (also %s.metadata[%d])", breadcrumbString(me.Breadcrumb), key, k)
		}
		seen[bc] = j
		md = append(md, me)
	}
	return md, nil
}

// metadataEntry decodes and checks one metadata item: a breadcrumb and a
// metadata object whose known keys have the right types.
func (p catalogParser) metadataEntry(key string, raw []byte) (MetadataEntry, error) {
	var me MetadataEntry
	m, err := p.object(key, raw)
	if err != nil {
		return me, err
	}
	bc, ok := m["breadcrumb"]
	if !ok {
		return me, p.fail(key+".breadcrumb", "missing")
	}
	if jsonKind(bc) != '[' {
		return me, p.fail(key+".breadcrumb", "not an array of strings (got %s)", kindName(bc))
	}
	if err := json.Unmarshal(bc, &me.Breadcrumb); err != nil {
		return me, p.fail(key+".breadcrumb", "not an array of strings")
	}
	if me.Breadcrumb == nil {
		me.Breadcrumb = []string{}
	}
	md, ok := m["metadata"]
	if !ok {
		return me, p.fail(key+".metadata", "missing")
	}
	fields, err := p.object(key+".metadata", md)
	if err != nil {
		return me, err
	}
	me.Metadata = make(map[string]any, len(fields))
	for k, v := range fields {
		if me.Metadata[k], err = p.metadataValue(key+".metadata."+k, k, v); err != nil {
			return me, err
		}
	}
	return me, nil
}

// metadataValue decodes the value of metadata key k, checking the type of
// the keys Singer defines; null (and an absent value) is nil.
func (p catalogParser) metadataValue(vkey, k string, v json.RawMessage) (any, error) {
	switch k {
	case Inclusion:
		s, err := p.optString(vkey, v)
		if err != nil || s == nil {
			return nil, err
		}
		switch *s {
		case InclusionAutomatic, InclusionAvailable, InclusionUnsupported:
			return *s, nil
		}
		return nil, p.fail(vkey, "%q is not one of automatic, available, unsupported", *s)
	case Selected, SelectedByDefault:
		b, err := p.optBool(vkey, v)
		if err != nil || b == nil {
			return nil, err
		}
		return *b, nil
	case TableKeyProperties, ValidReplicationKeys:
		ss, err := p.optStrings(vkey, v)
		if err != nil || ss == nil {
			return nil, err
		}
		return ss, nil
	case ForcedReplicationMethod, ReplicationMethod, ReplicationKey:
		s, err := p.optString(vkey, v)
		if err != nil || s == nil {
			return nil, err
		}
		return *s, nil
	}
	var val any
	dec := json.NewDecoder(bytes.NewReader(v))
	dec.UseNumber()
	if err := dec.Decode(&val); err != nil {
		return nil, p.fail(vkey, "%v", err)
	}
	return val, nil
}

// optString decodes an optional string; nil when absent or null.
func (p catalogParser) optString(key string, raw json.RawMessage) (*string, error) {
	if raw == nil || jsonKind(raw) == 'n' {
		return nil, nil
	}
	var s string
	if jsonKind(raw) != '"' || json.Unmarshal(raw, &s) != nil {
		return nil, p.fail(key, "not a string (got %s)", kindName(raw))
	}
	return &s, nil
}

// optBool decodes an optional boolean; nil when absent or null.
func (p catalogParser) optBool(key string, raw json.RawMessage) (*bool, error) {
	if raw == nil || jsonKind(raw) == 'n' {
		return nil, nil
	}
	var b bool
	if k := jsonKind(raw); (k != 't' && k != 'f') || json.Unmarshal(raw, &b) != nil {
		return nil, p.fail(key, "not a boolean (got %s)", kindName(raw))
	}
	return &b, nil
}

// optStrings decodes an optional array of strings; nil when absent or
// null, non-nil (possibly empty) otherwise.
func (p catalogParser) optStrings(key string, raw json.RawMessage) ([]string, error) {
	if raw == nil || jsonKind(raw) == 'n' {
		return nil, nil
	}
	var ss []string
	if jsonKind(raw) != '[' || json.Unmarshal(raw, &ss) != nil {
		return nil, p.fail(key, "not an array of strings (got %s)", kindName(raw))
	}
	if ss == nil {
		ss = []string{}
	}
	return ss, nil
}

// compactObject checks that raw is a JSON object and returns it compacted.
func compactObject(raw []byte) (json.RawMessage, error) {
	if jsonKind(raw) != '{' {
		return nil, errNotObject
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return nil, fmt.Errorf("not valid JSON: %w", err)
	}
	return buf.Bytes(), nil
}

// kindName names the kind of JSON value raw holds, for error messages.
func kindName(raw []byte) string {
	switch jsonKind(raw) {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	case 0:
		return "nothing"
	default:
		return "number"
	}
}

// breadcrumbString renders a breadcrumb as JSON, e.g. ["properties","id"].
func breadcrumbString(b []string) string {
	if b == nil {
		b = []string{}
	}
	s, err := marshalCompact(b)
	if err != nil {
		return fmt.Sprint(b)
	}
	return string(s)
}
