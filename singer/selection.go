package singer

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Selection is the field selection of one catalog entry: which fields of
// its schema are synced, the schema pruned to them, and a projection that
// drops the other fields from records. Whether the stream itself is synced
// is CatalogEntry.IsSelected's business, not the Selection's.
//
// A Selection is immutable once built and safe for concurrent use.
type Selection struct {
	// Schema is the entry's schema, compacted, without the deselected
	// fields: they are removed from "properties" and from "required" at
	// every level. It is what the SCHEMA message carries.
	Schema json.RawMessage

	root     *fieldNode
	fields   []string
	excluded []Exclusion
	warnings []string
}

// Exclusion says which field a Selection leaves out and why, for a log
// line. Only the outermost deselected field is listed; its children go
// with it.
type Exclusion struct {
	Field  string // dotted path, e.g. "address.city"
	Reason string // e.g. `inclusion "unsupported"`, "selected false"
}

// fieldNode is one property of the schema and its decision.
type fieldNode struct {
	name     string
	selected bool
	whole    bool // selected, and so is every field below it
	children []*fieldNode
	byName   map[string]*fieldNode
}

// Selection works out the entry's field selection. Each property of the
// schema, top-level (breadcrumb ["properties", name]) or nested in an
// object (["properties", a, "properties", b]), is decided by its own
// metadata, following singer-python's should_sync_field:
//
//   - inclusion unsupported: never, even if selected;
//   - inclusion automatic: always;
//   - otherwise selected, if set;
//   - otherwise selected-by-default, if set;
//   - otherwise (inclusion available and nothing else) not synced.
//
// A field without metadata (no entry, or an entry with none of inclusion,
// selected, selected-by-default) inherits its parent's decision, and the
// parent of a top-level field is the stream, so a catalog that selects a
// stream but says nothing about its fields syncs all of them. A deselected
// field takes every field below it along, whatever their own metadata.
//
// Metadata whose breadcrumb names no property of the schema is ignored
// and reported by Warnings. Arrays are kept or dropped whole: selection
// does not look inside array items. The error is for a schema that is not
// a valid JSON object.
func (e *CatalogEntry) Selection() (*Selection, error) {
	if jsonKind(e.Schema) != '{' || !json.Valid(e.Schema) {
		return nil, fmt.Errorf("singer: stream %q: schema is not a valid JSON object", e.TapStreamID)
	}
	schema, err := compactObject(e.Schema)
	if err != nil {
		return nil, fmt.Errorf("singer: stream %q: schema: %w", e.TapStreamID, err)
	}
	b := selectionBuilder{md: make(map[string]*mdUse, len(e.Metadata))}
	for _, m := range e.Metadata {
		k := breadcrumbKey(m.Breadcrumb)
		if _, dup := b.md[k]; !dup { // the first wins, as in Metadata.Lookup
			b.md[k] = &mdUse{breadcrumb: m.Breadcrumb, md: m.Metadata}
		}
	}
	s := &Selection{}
	s.root = &fieldNode{selected: true}
	b.build(s.root, schema, nil, "")
	s.root.whole = s.root.selected && allWhole(s.root.children)

	for _, c := range s.root.children {
		if c.selected {
			s.fields = append(s.fields, c.name)
		}
	}
	s.excluded = b.excluded
	for _, m := range e.Metadata {
		if len(m.Breadcrumb) == 0 {
			continue
		}
		if u := b.md[breadcrumbKey(m.Breadcrumb)]; u != nil && !u.used {
			u.used = true // warn once
			s.warnings = append(s.warnings, fmt.Sprintf("metadata for %s names no property of the schema; ignored", breadcrumbString(m.Breadcrumb)))
		}
	}

	if s.root.whole {
		s.Schema = schema
	} else {
		s.Schema = pruneSchema(make([]byte, 0, len(schema)), schema, s.root)
	}
	return s, nil
}

// AllSelected reports whether every field of the schema is selected, in
// which case Project returns records unchanged.
func (s *Selection) AllSelected() bool { return s.root.whole }

// Fields returns the selected top-level field names in schema order.
func (s *Selection) Fields() []string { return slices.Clone(s.fields) }

// Excluded returns the fields left out and why, outermost first, in schema
// order.
func (s *Selection) Excluded() []Exclusion { return slices.Clone(s.excluded) }

// Warnings returns problems with the metadata that did not stop the
// selection (metadata for fields the schema does not have), one line each.
func (s *Selection) Warnings() []string { return slices.Clone(s.warnings) }

// ErrNotObject is wrapped by Project's error for a record that is not a
// valid JSON object.
var ErrNotObject = errors.New("not a valid JSON object")

// Project returns record without its deselected fields. When every field
// is selected it returns record itself (the same slice, not copied, not
// checked). Otherwise it copies the kept members in their order, each
// value's bytes exactly as given (numbers such as 1.10 or
// 12345678901234567890 are not re-typed), and descends into objects that
// have deselected fields below them. Members the schema does not declare
// are kept. Insignificant white space between members is not kept.
func (s *Selection) Project(record json.RawMessage) (json.RawMessage, error) {
	if s.root.whole {
		return record, nil
	}
	if jsonKind(record) != '{' || !json.Valid(record) {
		return nil, fmt.Errorf("singer: projecting record: %w", ErrNotObject)
	}
	return projectObject(make([]byte, 0, len(record)), record, s.root), nil
}

// projectObject appends obj, a valid JSON object, keeping only the members
// node selects.
func projectObject(dst, obj []byte, node *fieldNode) []byte {
	return keepSelected(dst, obj, node, projectObject)
}

// keepSelected appends obj, a valid JSON object, without the members node
// deselects. A kept member whose field has deselected fields below it and
// whose value is an object is rewritten by descend; every other value is
// copied as it is. It serves both records (descend: projectObject) and a
// schema's "properties" (descend: pruneSchema).
func keepSelected(dst, obj []byte, node *fieldNode, descend func(dst, value []byte, child *fieldNode) []byte) []byte {
	dst = append(dst, '{')
	first := true
	for _, m := range objectMembers(obj) {
		child := node.byName[m.key]
		if child != nil && !child.selected {
			continue
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = append(dst, m.rawKey...)
		dst = append(dst, ':')
		if child == nil || child.whole || jsonKind(m.value) != '{' {
			dst = append(dst, m.value...)
		} else {
			dst = descend(dst, m.value, child)
		}
	}
	return append(dst, '}')
}

// pruneSchema appends schema, a valid JSON object, without the properties
// node deselects, also removing them from "required" (and dropping
// "required" when nothing is left in it, since Draft 4 wants it non-empty).
func pruneSchema(dst, schema []byte, node *fieldNode) []byte {
	dst = append(dst, '{')
	first := true
	for _, m := range objectMembers(schema) {
		value := m.value
		var pruned bool // value must be rewritten
		switch {
		case m.key == "properties" && jsonKind(value) == '{':
			pruned = true
		case m.key == "required" && jsonKind(value) == '[':
			value = pruneRequired(value, node)
			if value == nil {
				continue
			}
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = append(dst, m.rawKey...)
		dst = append(dst, ':')
		if pruned {
			dst = pruneProperties(dst, value, node)
		} else {
			dst = append(dst, value...)
		}
	}
	return append(dst, '}')
}

func pruneProperties(dst, props []byte, node *fieldNode) []byte {
	return keepSelected(dst, props, node, pruneSchema)
}

// pruneRequired returns the "required" array without the names node
// deselects, required itself if nothing changes or it is not an array of
// values, or nil if every name was removed.
func pruneRequired(required []byte, node *fieldNode) []byte {
	var names []json.RawMessage
	if err := json.Unmarshal(required, &names); err != nil {
		return required
	}
	out := []byte{'['}
	kept := 0
	for _, n := range names {
		var name string
		if json.Unmarshal(n, &name) == nil {
			if c := node.byName[name]; c != nil && !c.selected {
				continue
			}
		}
		if kept > 0 {
			out = append(out, ',')
		}
		kept++
		out = append(out, n...)
	}
	switch {
	case kept == len(names):
		return required
	case kept == 0:
		return nil
	}
	return append(out, ']')
}

// mdUse is a metadata entry and whether a schema property claimed it.
type mdUse struct {
	breadcrumb []string
	md         map[string]any
	used       bool
}

type selectionBuilder struct {
	md       map[string]*mdUse
	excluded []Exclusion
}

// build decides every property of schema (at breadcrumb path, dotted name
// prefix) and descends into nested objects.
func (b *selectionBuilder) build(node *fieldNode, schema []byte, path []string, prefix string) {
	props, err := schemaProperties(schema)
	if err != nil || len(props) == 0 {
		return
	}
	node.byName = make(map[string]*fieldNode, len(props))
	for _, p := range props {
		bc := append(slices.Clip(path), "properties", p.name)
		dotted := prefix + p.name
		c := &fieldNode{name: p.name}
		var md map[string]any
		if u := b.md[breadcrumbKey(bc)]; u != nil {
			u.used = true
			md = u.md
		}
		var reason string
		if node.selected {
			c.selected, reason = decideField(md)
			if !c.selected {
				b.excluded = append(b.excluded, Exclusion{Field: dotted, Reason: reason})
			}
		}
		b.build(c, p.schema, bc, dotted+".")
		c.whole = c.selected && allWhole(c.children)
		node.children = append(node.children, c)
		node.byName[p.name] = c
	}
}

// decideField applies should_sync_field to a field whose parent is
// selected; metadata without any selection key means "inherit", i.e.
// selected.
func decideField(md map[string]any) (bool, string) {
	inclusion := stringValue(md, Inclusion)
	selected, hasSelected := boolValue(md, Selected)
	byDefault, hasDefault := boolValue(md, SelectedByDefault)
	switch {
	case inclusion == InclusionUnsupported:
		return false, `inclusion "unsupported"`
	case inclusion == InclusionAutomatic:
		return true, ""
	case hasSelected:
		return selected, "selected false"
	case hasDefault:
		return byDefault, "selected-by-default false and not selected"
	case inclusion == "":
		return true, "" // no selection metadata: inherit from the parent
	default:
		return false, "neither selected nor selected-by-default"
	}
}

func allWhole(nodes []*fieldNode) bool {
	for _, n := range nodes {
		if !n.whole {
			return false
		}
	}
	return true
}

// breadcrumbKey turns a breadcrumb into a map key.
func breadcrumbKey(b []string) string {
	if len(b) == 0 {
		return ""
	}
	var sb strings.Builder
	for _, s := range b {
		sb.WriteByte(0)
		sb.WriteString(s)
	}
	return sb.String()
}
