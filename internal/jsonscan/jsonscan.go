// Package jsonscan reads a few top-level fields of a JSON object without
// decoding the rest. It is the sync loop's hot path: a record's primary key,
// replication key and embedded objects are found in one pass over its bytes,
// and the values come back as sub-slices of the input (no copies).
package jsonscan

import (
	"encoding/json"
	"errors"
	"fmt"
)

// ErrNotObject is returned when the input is not a JSON object.
var ErrNotObject = errors.New("jsonscan: not a JSON object")

// Fields stores in out[i] the raw bytes of the value of top-level key
// keys[i] of the object obj, or nil when the key is absent. len(out) must be
// len(keys). Keys are compared with their raw (still escaped) text, which is
// exact for the plain ASCII names Recurly uses. The first of duplicate keys
// wins. Fields stops reading as soon as every key has been found, so the
// rest of obj is not checked: callers that need a valid object check it
// first (the client checks every list page strictly).
func Fields(obj []byte, keys []string, out [][]byte) error {
	for i := range out {
		out[i] = nil
	}
	missing := len(keys)
	if missing == 0 {
		return EachMember(obj, func([]byte, []byte) bool { return true })
	}
	return EachMember(obj, func(rawKey, value []byte) bool {
		name := rawKey[1 : len(rawKey)-1]
		for k, key := range keys {
			if out[k] == nil && string(name) == key {
				out[k] = value
				missing--
			}
		}
		return missing > 0
	})
}

// EachMember calls fn with each member of the object obj, in input order
// and duplicates included: rawKey is the quoted key as in the input, value
// the exact bytes of its value. fn returns false to stop early.
func EachMember(obj []byte, fn func(rawKey, value []byte) bool) error {
	i := skipSpace(obj, 0)
	if i >= len(obj) || obj[i] != '{' {
		return ErrNotObject
	}
	i = skipSpace(obj, i+1)
	if i < len(obj) && obj[i] == '}' {
		return nil
	}
	for {
		if i >= len(obj) || obj[i] != '"' {
			return fmt.Errorf("jsonscan: expected a key at offset %d", i)
		}
		end, err := skipString(obj, i)
		if err != nil {
			return err
		}
		rawKey := obj[i:end]
		i = skipSpace(obj, end)
		if i >= len(obj) || obj[i] != ':' {
			return fmt.Errorf("jsonscan: expected ':' at offset %d", i)
		}
		i = skipSpace(obj, i+1)
		vEnd, err := skipValue(obj, i)
		if err != nil {
			return err
		}
		if !fn(rawKey, obj[i:vEnd]) {
			return nil
		}
		i = skipSpace(obj, vEnd)
		if i >= len(obj) {
			return fmt.Errorf("jsonscan: unexpected end of object")
		}
		switch obj[i] {
		case ',':
			i = skipSpace(obj, i+1)
		case '}':
			return nil
		default:
			return fmt.Errorf("jsonscan: unexpected %q at offset %d", obj[i], i)
		}
	}
}

// IsNull reports whether a raw value is absent (nil) or the literal null.
func IsNull(v []byte) bool { return v == nil || string(v) == "null" }

// String returns the text of a raw JSON string value. ok is false when v is
// not a string.
func String(v []byte) (s string, ok bool) {
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return "", false
	}
	inner := v[1 : len(v)-1]
	plain := true
	for _, c := range inner {
		if c == '\\' || c < 0x20 {
			plain = false
			break
		}
	}
	if plain {
		return string(inner), true
	}
	if err := json.Unmarshal(v, &s); err != nil {
		return "", false
	}
	return s, true
}

func skipSpace(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// skipString returns the offset just past the string starting at b[i]=='"'.
func skipString(b []byte, i int) (int, error) {
	j := i + 1
	for {
		j = plainRun(b, j)
		for j < len(b) && b[j] != '"' && b[j] != '\\' {
			j++
		}
		if j >= len(b) {
			return 0, fmt.Errorf("jsonscan: unterminated string at offset %d", i)
		}
		if b[j] == '"' {
			return j + 1, nil
		}
		j += 2 // an escape: skip the escaped byte
	}
}

// skipValue returns the offset just past the value starting at b[i].
func skipValue(b []byte, i int) (int, error) {
	if i >= len(b) {
		return 0, fmt.Errorf("jsonscan: missing value at end of input")
	}
	switch c := b[i]; {
	case c == '"':
		return skipString(b, i)
	case c == '{' || c == '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				end, err := skipString(b, j)
				if err != nil {
					return 0, err
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1, nil
				}
			}
		}
		return 0, fmt.Errorf("jsonscan: unterminated value at offset %d", i)
	default:
		j := i
		for j < len(b) {
			switch b[j] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				if j == i {
					return 0, fmt.Errorf("jsonscan: unexpected %q at offset %d", b[j], j)
				}
				return j, nil
			}
			j++
		}
		if j == i {
			return 0, fmt.Errorf("jsonscan: missing value at offset %d", i)
		}
		return j, nil
	}
}
