package layouts

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/tap-recurly/tap-recurly/schemas"
	"github.com/tap-recurly/tap-recurly/streams"
)

// dbtSchema derives a dbt_recurly table's JSON Schema from its columns:
// a column read from a field of the source record takes that field's
// schema from the spec stream's schema (generated from the OpenAPI spec),
// and every other column declares its type. Every column accepts null. A
// row holds exactly its columns; the schema still says additionalProperties
// true, as the streams' schemas do, which keeps conformance on its fast
// path (false would make every row go through the full validator).
func dbtSchema(st streams.Stream) (json.RawMessage, error) {
	t := dbtTableNamed(st.Name)
	var spec map[string]any
	if t.spec != "" {
		raw, err := schemas.Get(t.spec)
		if err != nil {
			return nil, err
		}
		if err := json.Unmarshal(raw, &spec); err != nil {
			return nil, fmt.Errorf("spec schema %s: %w", t.spec, err)
		}
	}
	props := map[string]any{}
	for _, c := range st.Rows.Columns {
		p, err := columnSchema(spec, st.Rows, c)
		if err != nil {
			return nil, fmt.Errorf("column %s: %w", c.Name, err)
		}
		props[c.Name] = p
	}
	return json.Marshal(map[string]any{"type": "object", "properties": props, "additionalProperties": true})
}

// dbtTableNamed is the dbt_recurly table called name (zero if none).
func dbtTableNamed(name string) table {
	i := slices.IndexFunc(dbtTable, func(t table) bool { return t.Name == name })
	if i < 0 {
		return table{}
	}
	return dbtTable[i]
}

// columnSchema is one column's schema.
func columnSchema(spec map[string]any, d *streams.Derive, c streams.Column) (map[string]any, error) {
	if path, ok := specPath(d, c); ok {
		if spec == nil {
			return nil, fmt.Errorf("read from %q, but the table has no spec schema", c.From)
		}
		p, ok := schemaAt(spec, path)
		if !ok {
			return nil, fmt.Errorf("%q is not in the spec schema", path)
		}
		return nullable(p), nil
	}
	typ := c.Type
	if c.From == streams.Synced {
		typ = "date-time"
	}
	switch typ {
	case "date-time":
		return map[string]any{"type": []any{"null", "string"}, "format": "date-time"}, nil
	case "string", "number", "integer", "boolean", "object":
		return map[string]any{"type": []any{"null", typ}}, nil
	}
	return nil, fmt.Errorf("no spec field and no known type (%q)", typ)
}

// specPath is the dotted path in the source record that column c reads,
// when it reads one.
func specPath(d *streams.Derive, c streams.Column) (string, bool) {
	switch {
	case c.Value != nil || c.Type != "" || c.From == "" || strings.HasPrefix(c.From, "@"):
		return "", false
	case strings.HasPrefix(c.From, "^"):
		return c.From[1:], true
	case d.Unpack == "":
		return c.From, true
	case c.From == ".":
		return d.Unpack, true // the array's items (schemaAt steps into them)
	}
	return d.Unpack + "." + c.From, true
}

// schemaAt walks a dotted path through an object schema's properties,
// stepping into array items on the way; at the end, an array's items.
func schemaAt(s map[string]any, path string) (map[string]any, bool) {
	for _, name := range strings.Split(path, ".") {
		s = itemsOf(s)
		props, _ := s["properties"].(map[string]any)
		next, ok := props[name].(map[string]any)
		if !ok {
			return nil, false
		}
		s = next
	}
	return itemsOf(s), true
}

// itemsOf is an array schema's items schema, or s itself.
func itemsOf(s map[string]any) map[string]any {
	if items, ok := s["items"].(map[string]any); ok {
		return items
	}
	return s
}

// nullable is a copy of schema p that also accepts null.
func nullable(p map[string]any) map[string]any {
	out := make(map[string]any, len(p))
	for k, v := range p {
		out[k] = v
	}
	switch t := p["type"].(type) {
	case string:
		out["type"] = []any{"null", t}
	case []any:
		if !slices.Contains(t, any("null")) {
			out["type"] = append([]any{"null"}, t...)
		}
	}
	return out
}
