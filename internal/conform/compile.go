// Package conform makes a stream's records conform to the JSON Schema its
// SCHEMA message announced, on the record's raw bytes.
//
// Conform is the fast path, run on every record: one pass over the bytes
// checks each value's JSON type (and the date-time format) against the
// schema, converts the values that convert without loss (a numeric string
// where a number or integer is wanted, "true"/"false" where a boolean is,
// a number where a string is), and lists the members the schema does not
// declare. It rewrites the record only when it converts something. A value
// that does not convert is an *Error naming it by JSON pointer.
//
// Validate is the full check, with github.com/santhosh-tekuri/jsonschema/v5
// (draft 7, formats asserted), compiled once per schema. Callers run it on
// a sample; a schema using a keyword the fast path does not know (anything
// but type, properties, items, required, additionalProperties true and
// format date-time, plus annotations) is Opaque, and then every record
// must be validated in full.
package conform

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v5"

	"github.com/tap-recurly/tap-recurly/internal/jsonscan"
)

// kinds is a set of JSON Schema types; 0 means any.
type kinds uint8

const (
	kNull kinds = 1 << iota
	kBool
	kInt // integer: a number without fraction or exponent
	kNum // number, integers included
	kStr
	kObj
	kArr
)

type kindName struct {
	k    kinds
	name string
}

// kindNames are the JSON Schema type names, null first.
var kindNames = []kindName{{kNull, "null"}, {kBool, "boolean"}, {kInt, "integer"}, {kNum, "number"}, {kStr, "string"}, {kObj, "object"}, {kArr, "array"}}

// node is one (sub)schema as the fast path reads it.
type node struct {
	kinds    kinds
	dateTime bool // format date-time
	// plainString: a string is valid here whatever it holds (type allows
	// string, no format), the case object checks inline.
	plainString bool
	props       []prop // declared properties in schema order; nil: none declared (an open object)
	byName      map[string]int
	required    uint64 // bit i: props[i] is required
	items       *node  // nil: any items
}

type prop struct {
	name  string
	key   wordPattern // the name as a record writes it: "name", with its quotes
	colon wordPattern // the same followed by a colon, "name": (see Checker)
	node  *node       // nil: any value
}

// wordPattern is a string of up to 16 bytes as two little-endian words
// and masks of the bytes it has, compared with two loads (see matches).
type wordPattern struct {
	text           string
	w0, w1, m0, m1 uint64
}

func newWordPattern(text string) wordPattern {
	p := wordPattern{text: text}
	var buf [16]byte
	n := copy(buf[:], text)
	p.w0, p.w1 = binary.LittleEndian.Uint64(buf[:8]), binary.LittleEndian.Uint64(buf[8:])
	for k := range n {
		if k < 8 {
			p.m0 |= 0xff << (8 * k)
		} else {
			p.m1 |= 0xff << (8 * (k - 8))
		}
	}
	return p
}

// matches reports whether b[j:] starts with the pattern's text: for
// texts up to 16 bytes, two word compares instead of a call to memequal.
func (p *wordPattern) matches(b []byte, j int) bool {
	if len(p.text) > 16 || len(b)-j < 16 {
		return len(b)-j >= len(p.text) && string(b[j:j+len(p.text)]) == p.text
	}
	return binary.LittleEndian.Uint64(b[j:])&p.m0 == p.w0 && binary.LittleEndian.Uint64(b[j+8:])&p.m1 == p.w1
}

// newProp builds a prop for name, spelled rawKey in the schema.
func newProp(name string, rawKey []byte, child *node) prop {
	return prop{name: name, key: newWordPattern(string(rawKey)), colon: newWordPattern(string(rawKey) + ":"), node: child}
}

// Schema is a stream's record schema compiled for Conform and Validate.
// It is safe for concurrent use.
type Schema struct {
	root   *node
	opaque bool
	raw    []byte

	once sync.Once          // compiles full, on the first Validate
	full *jsonschema.Schema // the schema compiled by jsonschema/v5
	err  error              // what jsonschema/v5 said of it
}

// Opaque reports whether the schema uses keywords Conform does not check,
// so that only Validate can tell whether a record satisfies it.
func (s *Schema) Opaque() bool { return s.opaque }

// Compile compiles a JSON Schema (draft 4/7 keywords) for Conform and
// Validate. The error is for a schema jsonschema/v5 refuses.
//
// jsonschema/v5 compiles a schema the fast path reads on the first
// Validate, not here: it checks each subschema against the draft-7
// metaschema first, about 3 ms for a stream and 40 ms for the fifteen,
// which was half of an unchanged site's run when every stream was
// compiled whether or not anything was validated. The fast path takes
// only what jsonschema/v5 takes (FuzzCompile holds the two to that), so
// deferring the compile defers no error. An Opaque schema is compiled at
// once, as every record will be validated.
func Compile(schema []byte) (*Schema, error) {
	root, ok := compileNode(schema)
	s := &Schema{root: root, opaque: !ok, raw: schema}
	if s.opaque {
		if _, err := s.compiled(); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// compiled is the schema compiled by jsonschema/v5 (draft 7, formats
// asserted), once.
func (s *Schema) compiled() (*jsonschema.Schema, error) {
	s.once.Do(func() {
		c := jsonschema.NewCompiler()
		c.Draft = jsonschema.Draft7
		c.AssertFormat = true
		const url = "mem:///schema.json"
		if err := c.AddResource(url, bytes.NewReader(s.raw)); err != nil {
			s.err = fmt.Errorf("conform: schema: %w", err)
			return
		}
		if s.full, s.err = c.Compile(url); s.err != nil {
			s.err = fmt.Errorf("conform: schema: %w", s.err)
		}
	})
	return s.full, s.err
}

// keywords are the keywords compileNode reads; a schema holding one twice
// is left to jsonschema/v5 (which, like encoding/json, takes the last).
var keywords = []string{"type", "format", "properties", "items", "additionalProperties", "required"}

// annotations are keywords that never fail a value, with the first byte
// the draft-7 metaschema wants their value to start with (a string, an
// array; 0: anything). "$schema" is not among them: it could name a
// metaschema jsonschema/v5 would have to fetch.
var annotations = map[string]byte{"description": '"', "title": '"', "$comment": '"', "examples": '[', "default": 0}

// compileNode reads one (sub)schema; ok is false when it holds a keyword
// the fast path does not check.
func compileNode(raw []byte) (*node, bool) {
	raw = bytes.TrimSpace(raw)
	if string(raw) == "true" {
		return nil, true // accepts anything
	}
	if len(raw) == 0 || raw[0] != '{' {
		return nil, false
	}
	// The members are read in place (json.Unmarshal into a map copied every
	// subschema once per level above it); a keyword held twice makes the
	// schema one the fast path leaves to jsonschema/v5.
	n := &node{}
	var required []byte
	var seen uint8 // the keywords below met so far, one bit each
	ok := true
	err := jsonscan.EachMember(raw, func(rawKey, val []byte) bool {
		key, isStr := jsonscan.String(rawKey)
		var bit uint8 // 0 for an annotation
		if i := slices.Index(keywords, key); i >= 0 {
			bit = 1 << i
		}
		if !isStr || seen&bit != 0 {
			ok = false
			return false
		}
		seen |= bit
		switch key {
		case "type":
			n.kinds, ok = compileType(val)
		case "format":
			n.dateTime = string(bytes.TrimSpace(val)) == `"date-time"`
			ok = n.dateTime
		case "properties":
			ok = n.compileProps(val)
		case "items":
			n.items, ok = compileNode(val)
		case "additionalProperties":
			ok = string(bytes.TrimSpace(val)) == "true"
		case "required":
			required = val
		default:
			want, known := annotations[key]
			ok = known && (want == 0 || len(val) > 0 && val[0] == want)
		}
		return ok
	})
	if err != nil || !ok {
		return nil, false
	}
	n.plainString = (n.kinds == 0 || n.kinds&kStr != 0) && !n.dateTime
	return n, n.compileRequired(required)
}

func compileType(raw []byte) (kinds, bool) {
	var names []string
	if json.Unmarshal(raw, &names) != nil {
		var one string
		if json.Unmarshal(raw, &one) != nil {
			return 0, false
		}
		names = []string{one}
	}
	var k kinds
	for _, name := range names {
		i := slices.IndexFunc(kindNames, func(kn kindName) bool { return kn.name == name })
		if i < 0 || k&kindNames[i].k != 0 {
			return 0, false // unknown, or named twice (the metaschema wants them unique)
		}
		k |= kindNames[i].k
	}
	if k&kNum != 0 {
		k |= kInt
	}
	return k, k != 0
}

// compileProps reads "properties" in the schema's order, which the fast
// path takes as its guess of the next key in a record (see object).
func (n *node) compileProps(raw []byte) bool {
	n.props = []prop{}
	n.byName = map[string]int{}
	ok := true
	err := jsonscan.EachMember(raw, func(rawKey, value []byte) bool {
		name, isStr := jsonscan.String(rawKey)
		if _, dup := n.byName[name]; dup || !isStr {
			ok = false
			return false
		}
		var child *node
		child, ok = compileNode(value)
		n.byName[name] = len(n.props)
		n.props = append(n.props, newProp(name, rawKey, child))
		return ok
	})
	return ok && err == nil
}

// compileRequired marks the required properties: each must be declared,
// and there may be at most 64 properties then.
func (n *node) compileRequired(raw []byte) bool {
	if raw == nil {
		return true
	}
	var names []string
	if json.Unmarshal(raw, &names) != nil || len(n.props) > 64 {
		return false
	}
	for _, name := range names {
		i, declared := n.byName[name]
		if !declared || n.required&(1<<i) != 0 {
			return false // undeclared, or named twice (the metaschema wants them unique)
		}
		n.required |= 1 << i
	}
	return true
}
