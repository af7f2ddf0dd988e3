// Package openapi reads Recurly's own OpenAPI description of API version
// v2018-08-09, embedded from v2018-08-09.openapi.yaml (MIT, see
// LICENSE-recurly.txt), and turns its component schemas into ordered trees.
//
// It is the single source of truth for object shapes: the stream schemas in
// package schemas are generated from it (and a test catches drift), and the
// simulated Recurly site in package recurlytest generates its records from it.
package openapi

import (
	_ "embed"
	"fmt"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"
)

//go:embed v2018-08-09.openapi.yaml
var specYAML []byte

// Schema is one node of a component schema, with $ref resolved and allOf
// flattened. Properties keep the order in which the spec lists them.
type Schema struct {
	Ref        string // component name when this node was reached through a $ref
	Type       string // object, array, string, integer, number or boolean
	Format     string // date-time, float, email, ...
	Enum       []string
	MaxLength  int
	Minimum    *float64
	Maximum    *float64
	Properties []Property // for objects, in spec order
	Items      *Schema    // for arrays
}

// Property is a named field of an object schema.
type Property struct {
	Name   string
	Schema *Schema
}

// Spec is the parsed description. Its methods are safe for concurrent use.
type Spec struct {
	raw   map[string]*yaml.Node // components.schemas by name
	mu    sync.Mutex
	cache map[string]*Schema
}

var (
	loadOnce sync.Once
	loaded   *Spec
	loadErr  error
)

// Load parses the embedded spec once and returns it.
func Load() (*Spec, error) {
	loadOnce.Do(func() {
		var doc yaml.Node
		if err := yaml.Unmarshal(specYAML, &doc); err != nil {
			loadErr = fmt.Errorf("openapi: parse embedded spec: %w", err)
			return
		}
		var root *yaml.Node
		if len(doc.Content) > 0 {
			root = doc.Content[0]
		}
		schemas := child(child(root, "components"), "schemas")
		if schemas == nil {
			loadErr = fmt.Errorf("openapi: embedded spec has no components.schemas")
			return
		}
		raw := map[string]*yaml.Node{}
		for i := 0; i+1 < len(schemas.Content); i += 2 {
			raw[schemas.Content[i].Value] = schemas.Content[i+1]
		}
		loaded = &Spec{raw: raw, cache: map[string]*Schema{}}
	})
	return loaded, loadErr
}

// Component returns the named component schema (for example "Account"),
// resolved and flattened.
func (s *Spec) Component(name string) (*Schema, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.component(name, nil)
}

func (s *Spec) component(name string, stack []string) (*Schema, error) {
	if sc, ok := s.cache[name]; ok {
		return sc, nil
	}
	for _, n := range stack {
		if n == name {
			return nil, fmt.Errorf("openapi: schema cycle through %s", strings.Join(append(stack, name), " -> "))
		}
	}
	node, ok := s.raw[name]
	if !ok {
		return nil, fmt.Errorf("openapi: no component schema %q", name)
	}
	sc, err := s.build(node, append(stack, name))
	if err != nil {
		return nil, err
	}
	out := *sc
	out.Ref = name
	s.cache[name] = &out
	return &out, nil
}

// child returns the value node of key in mapping node m, or nil.
func child(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// build turns a schema node into a Schema: a $ref resolves to its
// component, allOf parts merge, then the node's own facets and properties.
func (s *Spec) build(node *yaml.Node, stack []string) (*Schema, error) {
	if node == nil {
		return &Schema{}, nil
	}
	if ref := child(node, "$ref"); ref != nil {
		return s.component(strings.TrimPrefix(ref.Value, "#/components/schemas/"), stack)
	}
	sc := &Schema{}
	if err := s.buildAllOf(sc, child(node, "allOf"), stack); err != nil {
		return nil, err
	}
	facets(sc, node)
	props, err := s.buildProperties(child(node, "properties"), stack)
	if err != nil {
		return nil, err
	}
	sc.Properties = mergeProperties(sc.Properties, props)
	if items := child(node, "items"); sc.Type == "array" && items != nil {
		if sc.Items, err = s.build(items, stack); err != nil {
			return nil, err
		}
	}
	if sc.Type == "" && len(sc.Properties) > 0 {
		sc.Type = "object"
	}
	return sc, nil
}

// buildAllOf merges the parts of an allOf (nil: none) into sc: the first
// type given, and every part's properties.
func (s *Spec) buildAllOf(sc *Schema, all *yaml.Node, stack []string) error {
	if all == nil {
		return nil
	}
	for _, part := range all.Content {
		sub, err := s.build(part, stack)
		if err != nil {
			return err
		}
		if sc.Type == "" {
			sc.Type = sub.Type
		}
		sc.Properties = mergeProperties(sc.Properties, sub.Properties)
	}
	return nil
}

// facets reads a schema's own type, format, bounds and enum.
func facets(sc *Schema, node *yaml.Node) {
	if t := child(node, "type"); t != nil {
		sc.Type = t.Value
	}
	if f := child(node, "format"); f != nil {
		sc.Format = f.Value
	}
	if ml := child(node, "maxLength"); ml != nil {
		fmt.Sscan(ml.Value, &sc.MaxLength)
	}
	sc.Minimum = number(child(node, "minimum"))
	sc.Maximum = number(child(node, "maximum"))
	if en := child(node, "enum"); en != nil {
		for _, v := range en.Content {
			sc.Enum = append(sc.Enum, v.Value)
		}
	}
}

// buildProperties builds a properties mapping (nil: none) in its order.
func (s *Spec) buildProperties(props *yaml.Node, stack []string) ([]Property, error) {
	if props == nil {
		return nil, nil
	}
	var list []Property
	for i := 0; i+1 < len(props.Content); i += 2 {
		name := props.Content[i].Value
		sub, err := s.build(props.Content[i+1], stack)
		if err != nil {
			return nil, fmt.Errorf("%s.%s: %w", stack[len(stack)-1], name, err)
		}
		list = append(list, Property{Name: name, Schema: sub})
	}
	return list, nil
}

func number(n *yaml.Node) *float64 {
	if n == nil {
		return nil
	}
	var f float64
	if _, err := fmt.Sscan(n.Value, &f); err != nil {
		return nil
	}
	return &f
}

func mergeProperties(into, more []Property) []Property {
	for _, p := range more {
		replaced := false
		for i := range into {
			if into[i].Name == p.Name {
				into[i] = p
				replaced = true
				break
			}
		}
		if !replaced {
			into = append(into, p)
		}
	}
	return into
}

// Property returns the named property of an object schema, or nil.
func (sc *Schema) Property(name string) *Schema {
	for _, p := range sc.Properties {
		if p.Name == name {
			return p.Schema
		}
	}
	return nil
}

// FieldNames lists an object schema's property names in spec order.
func (sc *Schema) FieldNames() []string {
	out := make([]string, len(sc.Properties))
	for i, p := range sc.Properties {
		out[i] = p.Name
	}
	return out
}

// JSONSchema renders the schema as a JSON Schema document (draft 7 keywords)
// in which every value may also be null, the way Recurly sends unset fields.
// It is used to check that records conform to the spec.
func (sc *Schema) JSONSchema() map[string]any {
	out := map[string]any{}
	switch sc.Type {
	case "object":
		props := map[string]any{}
		for _, p := range sc.Properties {
			props[p.Name] = p.Schema.JSONSchema()
		}
		out["type"] = []any{"object", "null"}
		out["properties"] = props
	case "array":
		out["type"] = []any{"array", "null"}
		if sc.Items != nil {
			out["items"] = sc.Items.JSONSchema()
		}
	case "":
		// untyped: anything goes
	default:
		out["type"] = []any{sc.Type, "null"}
	}
	if sc.Format == "date-time" || sc.Format == "email" {
		out["format"] = sc.Format
	}
	if len(sc.Enum) > 0 && sc.Type == "string" {
		en := make([]any, 0, len(sc.Enum)+1)
		for _, e := range sc.Enum {
			en = append(en, e)
		}
		out["enum"] = append(en, nil)
	}
	if sc.MaxLength > 0 {
		out["maxLength"] = sc.MaxLength
	}
	return out
}
