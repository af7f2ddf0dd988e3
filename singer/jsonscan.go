package singer

import (
	"errors"

	"github.com/tap-recurly/tap-recurly/internal/jsonscan"
)

// Objects are walked with internal/jsonscan, which hands out sub-slices of
// the input, so values keep their exact bytes: numbers are never re-typed
// and strings never re-escaped.

// member is one name/value pair of a JSON object, as slices of the input.
type member struct {
	key    string // decoded
	rawKey []byte // quoted, as in the input
	value  []byte // exact bytes of the value
}

// objectMembers returns the members of the valid JSON object obj (white
// space around it allowed), in input order, duplicates included. It
// returns nil if obj is not an object.
func objectMembers(obj []byte) []member {
	var out []member
	err := jsonscan.EachMember(obj, func(rawKey, value []byte) bool {
		out = append(out, member{rawKey: rawKey, key: decodeKey(rawKey), value: value})
		return true
	})
	if err != nil && out == nil {
		return nil
	}
	return out
}

// decodeKey unquotes a member name (raw, as scanned: a valid JSON string).
func decodeKey(raw []byte) string {
	if t, ok := jsonscan.Text(raw); ok {
		return string(t)
	}
	return string(raw[1 : len(raw)-1])
}

// schemaProperty is one entry of a JSON Schema's "properties" object.
type schemaProperty struct {
	name   string
	schema []byte
}

// errNotObject is returned for a schema that is not a JSON object.
var errNotObject = errors.New("not a JSON object")

// schemaProperties returns the entries of schema's "properties" object in
// schema order (the first of duplicate names wins), or nil when there is no
// such object. schema must be valid JSON; it returns errNotObject if it is
// not an object.
func schemaProperties(schema []byte) ([]schemaProperty, error) {
	members := objectMembers(schema)
	if members == nil && jsonKind(schema) != '{' {
		return nil, errNotObject
	}
	var props []byte
	for _, m := range members {
		if m.key == "properties" {
			props = m.value // the last one wins, as in encoding/json
		}
	}
	if props == nil {
		return nil, nil
	}
	var out []schemaProperty
	seen := map[string]bool{}
	for _, m := range objectMembers(props) {
		if seen[m.key] {
			continue
		}
		seen[m.key] = true
		out = append(out, schemaProperty{name: m.key, schema: m.value})
	}
	return out, nil
}
