// Package jsonscan reads a few top-level fields of a JSON object without
// decoding the rest. It is the sync loop's hot path: a record's primary key,
// replication key and embedded objects are found in one pass over its bytes,
// and the values come back as sub-slices of the input (no copies).
package jsonscan

import (
	"encoding/json"
	"errors"
	"fmt"
	"sync"
)

// ErrNotObject is returned when the input is not a JSON object.
var ErrNotObject = errors.New("jsonscan: not a JSON object")

// Fields stores in out[i] the raw bytes of the value of top-level key
// keys[i] of the object obj (white space before it allowed), or nil when the
// key is absent. len(out) must be len(keys). Keys are compared with their
// raw (still escaped) text, which is exact for the plain ASCII names Recurly
// uses. It reads and checks the whole object as strictly as Value (only
// white space may follow it), and
// refuses one that holds a top-level name twice (*DuplicateKeyError), whose
// meaning a consumer may read differently.
func Fields(obj []byte, keys []string, out [][]byte) error {
	end, err := ObjectFields(obj, skipSpace(obj, 0), keys, out)
	if err == nil && skipSpace(obj, end) != len(obj) {
		err = fmt.Errorf("jsonscan: unexpected %q after the object at offset %d", obj[skipSpace(obj, end)], skipSpace(obj, end))
	}
	return err
}

// store puts value in out[k] for every key keys[k] named name (the key's
// raw text between its quotes) that is not yet found, and returns how many
// it filled.
func store(name, value []byte, keys []string, out [][]byte) int {
	n := 0
	for k, key := range keys {
		if out[k] == nil && string(name) == key {
			out[k] = value
			n++
		}
	}
	return n
}

// EachMember calls fn with each member of the object obj (white space
// around it allowed), in input order and duplicates included: rawKey is the
// quoted key as in the input, value the exact bytes of its value. fn returns
// false to stop early. Every member read is checked as strictly as Value.
func EachMember(obj []byte, fn func(rawKey, value []byte) bool) error {
	_, err := walkObject(obj, skipSpace(obj, 0), fn)
	return err
}

// ObjectFields checks the JSON object starting at b[i] as strictly as Value
// does and, in the same pass, stores in out[k] the raw bytes of the value of
// its top-level key keys[k], or nil when the key is absent. len(out) must be
// len(keys). It returns the offset just past the object. An object that
// holds a top-level name twice (compared decoded) is a *DuplicateKeyError.
// Reading the keys while checking saves a second pass over the record.
func ObjectFields(b []byte, i int, keys []string, out [][]byte) (int, error) {
	o := oneShot.Get().(*Objects)
	end, err := o.Fields(b, i, keys, out)
	o.forget()
	oneShot.Put(o)
	return end, err
}

// oneShot recycles the Objects of ObjectFields: a fresh one allocates its
// tables of names (2 KiB) on first use, which for the records read one at
// a time (embedded records, child pages) was half of a sync's garbage.
var oneShot = sync.Pool{New: func() any { return new(Objects) }}

// Objects reads objects one after another as ObjectFields does, reusing
// its table of member names, so that a page of records costs no allocation
// per record. Every object one Objects reads must lie in the same input
// (it compares each object's names with the last one's by offset). Its
// zero value is ready to use; it is not safe for concurrent use.
type Objects struct {
	names names
	ok    bool // the last object read was valid
}

// forget drops the last object's names, so that the next object read may
// be in another input.
func (o *Objects) forget() {
	o.ok = false
	o.names.prev = o.names.prev[:0]
}

// Fields is ObjectFields.
func (o *Objects) Fields(b []byte, i int, keys []string, out [][]byte) (int, error) {
	for k := range out {
		out[k] = nil
	}
	if i >= len(b) || b[i] != '{' {
		return 0, ErrNotObject
	}
	o.names.reset(o.ok)
	f := newFieldSet(keys, out)
	f.names = &o.names
	end, err := scan(b, i, &f)
	if err == nil {
		if m := o.names.check(b); m >= 0 {
			r := o.names.cur[m]
			err = &DuplicateKeyError{Key: string(b[r.off : r.off+r.len]), Offset: int(r.off) - 1}
		} else if o.names.escaped {
			err = checkDecoded(b[i:end], i)
		}
	}
	o.ok = err == nil
	return end, err
}

// walkObject is the object walker behind EachMember (which may stop early;
// ObjectFields reads every member, in scan): it checks the object starting at b[i] strictly and calls fn
// with each member until fn returns false. It returns the offset just past
// the object (or past the member at which fn stopped).
func walkObject(b []byte, i int, fn func(rawKey, value []byte) bool) (int, error) {
	if i >= len(b) || b[i] != '{' {
		return 0, ErrNotObject
	}
	j := skipSpace(b, i+1)
	if j < len(b) && b[j] == '}' {
		return j + 1, nil
	}
	for {
		kEnd, v, err := key(b, j)
		if err != nil {
			return 0, err
		}
		end, err := Value(b, v)
		if err != nil {
			return 0, err
		}
		if !fn(b[j:kEnd], b[v:end]) {
			return end, nil
		}
		j = skipSpace(b, end)
		if j >= len(b) {
			return 0, errEnd(j)
		}
		switch b[j] {
		case ',':
			j = skipSpace(b, j+1)
		case '}':
			return j + 1, nil
		default:
			return 0, fmt.Errorf("jsonscan: unexpected %q at offset %d", b[j], j)
		}
	}
}

// IsNull reports whether a raw value is absent (nil) or the literal null.
func IsNull(v []byte) bool { return v == nil || string(v) == "null" }

// String returns the text of a raw JSON string value. ok is false when v is
// not a string.
func String(v []byte) (s string, ok bool) {
	t, ok := Text(v)
	return string(t), ok
}

// Text is the one reader of raw JSON strings: it returns the text of the
// string value v, as a sub-slice of v (no copy) when it holds no escapes,
// else decoded into a new slice. ok is false when v is not a string.
func Text(v []byte) (text []byte, ok bool) {
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return nil, false
	}
	inner := v[1 : len(v)-1]
	for _, c := range inner {
		if c == '\\' || c < 0x20 {
			var s string
			if err := json.Unmarshal(v, &s); err != nil {
				return nil, false
			}
			return []byte(s), true
		}
	}
	return inner, true
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
