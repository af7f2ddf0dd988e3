package singer

import (
	"bytes"
	"encoding/json"
	"errors"
)

// A minimal scanner over JSON that is already known to be valid (callers
// check with json.Valid first). It walks objects member by member and hands
// out sub-slices of the input, so values keep their exact bytes: numbers
// are never re-typed and strings never re-escaped.

// skipSpace returns the index of the first byte at or after i that is not
// JSON white space.
func skipSpace(d []byte, i int) int {
	for i < len(d) {
		switch d[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// skipString returns the index just after the string starting at d[i]=='"'.
func skipString(d []byte, i int) int {
	for i++; i < len(d); i++ {
		switch d[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(d)
}

// skipValue returns the index just after the value starting at d[i].
func skipValue(d []byte, i int) int {
	switch d[i] {
	case '"':
		return skipString(d, i)
	case '{', '[':
		depth := 0
		for i < len(d) {
			switch d[i] {
			case '"':
				i = skipString(d, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return len(d)
	default: // number, true, false, null
		for i < len(d) {
			switch d[i] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				return i
			}
			i++
		}
		return i
	}
}

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
	i := skipSpace(obj, 0)
	if i >= len(obj) || obj[i] != '{' {
		return nil
	}
	var out []member
	i = skipSpace(obj, i+1)
	for i < len(obj) && obj[i] == '"' {
		end := skipString(obj, i)
		m := member{rawKey: obj[i:end], key: decodeKey(obj[i:end])}
		i = skipSpace(obj, end)
		i = skipSpace(obj, i+1) // ':'
		vend := skipValue(obj, i)
		m.value = obj[i:vend]
		out = append(out, m)
		i = skipSpace(obj, vend)
		if i < len(obj) && obj[i] == ',' {
			i = skipSpace(obj, i+1)
		}
	}
	return out
}

// decodeKey unquotes a JSON string, taking the fast path when it has no
// escapes.
func decodeKey(raw []byte) string {
	if bytes.IndexByte(raw, '\\') < 0 {
		return string(raw[1 : len(raw)-1])
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return string(raw[1 : len(raw)-1])
	}
	return s
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
