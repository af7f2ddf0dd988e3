// Package schemagen turns the embedded Recurly v2018-08-09 OpenAPI component
// schemas into the Singer stream schemas committed as schemas/<stream>.json.
//
// The output is deterministic: properties keep spec order, keys inside each
// schema node come in a fixed order, and the document is indented with two
// spaces and ends in a newline, so `go generate` produces readable diffs and a
// test can compare the committed files byte for byte.
//
// Rules applied to every stream (see schemas/schemas.go for the rationale):
//   - the top level is {"type":"object","additionalProperties":true,...}
//     with the primary key as a non-null string listed in "required";
//   - every other value, at any depth and including array items, also
//     accepts null: {"type":["null","string"]} and so on;
//   - spec `format: date-time` becomes "format":"date-time"; no other format
//     (email, float) is carried over;
//   - enums, maxLength, minimum and maximum are not enforced; an enum's known
//     values are listed in "description" instead;
//   - objects keep their declared properties recursively; objects that
//     declare none (gateway_response_values, risk_rules_triggered) are open
//     {"type":["null","object"]};
//   - Coupon.plans also accepts a string, because v2018-08-09 sends "all"
//     when a coupon applies to every plan.
package schemagen

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/tap-recurly/tap-recurly/internal/openapi"
	"github.com/tap-recurly/tap-recurly/streams"
)

// Stream maps one Singer stream to the API object whose spec component
// describes its records.
type Stream struct {
	Name           string // Singer stream name, also the schema file's base name
	Object         string // spec component name, e.g. "Account"
	PrimaryKey     string // the single key property; non-null and required
	ReplicationKey string // the bookmark field (nullable like any other field)
}

// Streams returns the fifteen streams of streams.All (the one stream table) in
// name order. The slice is new on every
// call, so callers may modify it.
func Streams() []Stream {
	var out []Stream
	for _, st := range streams.All() {
		out = append(out, Stream{st.Name, st.Object, st.KeyProperty, st.ReplicationKey})
	}
	return out
}

// plansAll describes a coupon's plans, which v2018-08-09 may send as "all".
const plansAll = `v2018-08-09 sends the string "all" instead of an array when applies_to_all_plans is true.`

// stringAlternatives lists, per component, the fields (by dotted path from
// the record) that may arrive as a plain string although the spec declares
// another type. The value is the description written into the schema.
var stringAlternatives = map[string]map[string]string{
	"Coupon":           {"plans": plansAll},
	"CouponRedemption": {"coupon.plans": plansAll}, // the redeemed coupon, embedded whole
}

// Generate renders the schema document for stream s from spec. It fails if
// the component is missing, the primary key or replication key is not a
// top-level field, the primary key is not a string, or a node has a type
// this generator does not know.
func Generate(spec *openapi.Spec, s Stream) ([]byte, error) {
	comp, err := spec.Component(s.Object)
	if err != nil {
		return nil, fmt.Errorf("schemagen: stream %s: %w", s.Name, err)
	}
	if comp.Type != "object" {
		return nil, fmt.Errorf("schemagen: stream %s: component %s is %q, not an object", s.Name, s.Object, comp.Type)
	}
	pk := comp.Property(s.PrimaryKey)
	if pk == nil || pk.Type != "string" {
		return nil, fmt.Errorf("schemagen: stream %s: primary key %s.%s is not a string field", s.Name, s.Object, s.PrimaryKey)
	}
	if comp.Property(s.ReplicationKey) == nil {
		return nil, fmt.Errorf("schemagen: stream %s: replication key %s.%s is not a field", s.Name, s.Object, s.ReplicationKey)
	}
	props := object{}
	for _, p := range comp.Properties {
		var node object
		switch {
		case p.Name == s.PrimaryKey:
			node = object{{"type", "string"}}
		default:
			node, err = convert(p.Schema, p.Name, stringAlternatives[s.Object])
		}
		if err != nil {
			return nil, fmt.Errorf("schemagen: stream %s: %w", s.Name, err)
		}
		props = append(props, member{p.Name, node})
	}
	doc := object{
		{"type", "object"},
		{"additionalProperties", true},
		{"properties", props},
		{"required", []string{s.PrimaryKey}},
	}
	var out bytes.Buffer
	if err := doc.write(&out, 0); err != nil {
		return nil, fmt.Errorf("schemagen: stream %s: %w", s.Name, err)
	}
	out.WriteByte('\n')
	return out.Bytes(), nil
}

// convert renders one nullable schema node at path (dotted from the
// record, which also names it in errors), widened with a string where alt
// says so.
func convert(sc *openapi.Schema, path string, alt map[string]string) (object, error) {
	var node object
	switch sc.Type {
	case "string", "integer", "number", "boolean":
		node = object{{"type", []string{"null", sc.Type}}}
		if sc.Format == "date-time" {
			node = append(node, member{"format", "date-time"})
		}
	case "object":
		node = object{{"type", []string{"null", "object"}}}
		if len(sc.Properties) > 0 {
			props := object{}
			for _, p := range sc.Properties {
				sub, err := convert(p.Schema, path+"."+p.Name, alt)
				if err != nil {
					return nil, err
				}
				props = append(props, member{p.Name, sub})
			}
			node = append(node, member{"properties", props})
		}
	case "array":
		node = object{{"type", []string{"null", "array"}}}
		if sc.Items == nil {
			return nil, fmt.Errorf("%s: array without items", path)
		}
		items, err := convert(sc.Items, path+"[]", alt)
		if err != nil {
			return nil, err
		}
		node = append(node, member{"items", items})
	default:
		return nil, fmt.Errorf("%s: unsupported type %q", path, sc.Type)
	}
	if len(sc.Enum) > 0 {
		node = insertAfterType(node, member{"description", "Known values (not enforced): " + strings.Join(sc.Enum, ", ")})
	}
	if desc := alt[path]; desc != "" {
		return withStringAlternative(node, desc, path)
	}
	return node, nil
}

// withStringAlternative widens node's type with "string" and sets its
// description.
func withStringAlternative(node object, desc, path string) (object, error) {
	out := make(object, 0, len(node)+1)
	for _, m := range node {
		switch m.key {
		case "type":
			types, ok := m.value.([]string)
			if !ok {
				return nil, fmt.Errorf("%s: cannot add a string alternative", path)
			}
			m.value = append(append([]string(nil), types...), "string")
		case "description":
			continue
		}
		out = append(out, m)
	}
	return insertAfterType(out, member{"description", desc}), nil
}

// insertAfterType places m right after the "type" member (type, format and
// description lead every node, properties and items follow).
func insertAfterType(node object, m member) object {
	i := 0
	for i < len(node) && (node[i].key == "type" || node[i].key == "format") {
		i++
	}
	out := make(object, 0, len(node)+1)
	out = append(out, node[:i]...)
	out = append(out, m)
	return append(out, node[i:]...)
}

// object is a JSON object whose members keep their insertion order.
type object []member

type member struct {
	key   string
	value any
}

// write prints o indented by two spaces per level, starting at depth.
// Arrays of scalars (the "type" lists) stay on one line.
func (o object) write(b *bytes.Buffer, depth int) error {
	if len(o) == 0 {
		b.WriteString("{}")
		return nil
	}
	b.WriteString("{\n")
	for i, m := range o {
		b.WriteString(strings.Repeat("  ", depth+1))
		if err := writeScalar(b, m.key); err != nil {
			return err
		}
		b.WriteString(": ")
		var err error
		switch v := m.value.(type) {
		case object:
			err = v.write(b, depth+1)
		case []string:
			b.WriteByte('[')
			for j, s := range v {
				if j > 0 {
					b.WriteString(", ")
				}
				if err = writeScalar(b, s); err != nil {
					break
				}
			}
			b.WriteByte(']')
		default:
			err = writeScalar(b, v)
		}
		if err != nil {
			return err
		}
		if i < len(o)-1 {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
	}
	b.WriteString(strings.Repeat("  ", depth))
	b.WriteByte('}')
	return nil
}

// writeScalar writes a string, number or boolean as compact JSON without
// HTML escaping.
func writeScalar(b *bytes.Buffer, v any) error {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	b.Truncate(b.Len() - 1) // Encode appends a newline
	return nil
}
