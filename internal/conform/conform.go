package conform

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v5"

	"github.com/tap-recurly/tap-recurly/internal/excerpt"
	"github.com/tap-recurly/tap-recurly/internal/jsonscan"
)

// Conversion is one value Conform converted to the schema's type.
type Conversion struct {
	Pointer string // JSON pointer of the value, e.g. "/total"
	Field   string // its field name, dotted, with [] for array items: "line_items[].total"
	From    string // JSON type it had: "string" or "number"
	To      string // JSON type it has now: "number", "integer", "boolean" or "string"
}

// Result says what Conform did to one record.
type Result struct {
	// Record is the conformed record: the input itself (same slice) when
	// nothing was converted, else a new slice.
	Record []byte
	// Converted lists the converted values, in record order.
	Converted []Conversion
	// Unknown lists, once each, the fields the record carries that the
	// schema does not declare (dotted, [] for array items), in record
	// order. Members of objects that declare no properties are not listed.
	// They are kept in Record.
	Unknown []string
}

// Error is a value that does not conform to the schema and does not
// convert to it without loss.
type Error struct {
	Pointer string // JSON pointer of the value, e.g. "/net_terms"
	Problem string
}

func (e *Error) Error() string { return e.Pointer + ": " + e.Problem }

// Conform checks rec, a JSON object, against the schema's types in one
// pass over its bytes and converts the values that convert without loss
// (see the package comment). rec must be valid JSON (the client checks
// every page); an error is an *Error, or a plain error for bytes that are
// not. For an Opaque schema it checks what it can and the caller must
// Validate as well.
func (s *Schema) Conform(rec []byte) (Result, error) {
	c := scanner{b: rec}
	i := jsonscan.SkipSpace(rec, 0)
	if i >= len(rec) || rec[i] != '{' {
		return Result{}, errors.New("conform: record is not a JSON object")
	}
	if _, err := c.value(s.root, i); err != nil {
		return Result{}, err
	}
	res := Result{Record: c.apply()}
	if len(c.edits) > 0 {
		res.Converted = make([]Conversion, len(c.edits))
		for k, e := range c.edits {
			path := pathTo(rec, e.start)
			res.Converted[k] = Conversion{Pointer: pointerOf(path), Field: fieldOf(path), From: e.from, To: e.to}
		}
	}
	for _, off := range c.unknownAt {
		if f := fieldOf(pathTo(rec, off)); !slices.Contains(res.Unknown, f) {
			res.Unknown = append(res.Unknown, f)
		}
	}
	return res, nil
}

// Validate checks rec in full against the schema with jsonschema/v5,
// compiling it on first use. The error is an *Error naming the first
// failing value.
func (s *Schema) Validate(rec []byte) error {
	dec := json.NewDecoder(bytes.NewReader(rec))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return fmt.Errorf("conform: record is not JSON: %w", err)
	}
	full, err := s.compiled()
	if err != nil {
		return err
	}
	err = full.Validate(v)
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return err
	}
	for len(ve.Causes) > 0 {
		ve = ve.Causes[0]
	}
	ptr := ve.InstanceLocation
	if ptr == "" {
		ptr = "/"
	}
	return &Error{Pointer: ptr, Problem: ve.Message + " (jsonschema)"}
}

// edit replaces rec[start:end] with repl, quoted when quote is set: a
// conversion from one JSON type to another.
type edit struct {
	start, end int
	repl       []byte
	quote      bool
	from, to   string
}

// seg is one step of the path to the value being read: an object key (raw
// text between its quotes) or, when key is nil, an array index.
type seg struct {
	key []byte
	idx int
}

// maxDepth is the deepest nesting of declared objects and arrays Conform
// follows; Recurly's records are a few levels deep.
const maxDepth = 64

// scanner is one Conform pass. It keeps no path to the value it reads: the
// rare conversion, unknown field or error finds its path afterwards
// (pathTo), so the common record pays nothing for it.
type scanner struct {
	b         []byte
	depth     int // nesting of declared objects and arrays
	edits     []edit
	unknownAt []int // offsets of the values of undeclared members
}

// value reads the value at b[i] (no white space before it) against n (nil:
// anything) and returns the offset just past it.
func (c *scanner) value(n *node, i int) (int, error) {
	if n == nil {
		return jsonscan.Value(c.b, i) // anything goes: skip it
	}
	if i >= len(c.b) {
		return 0, errTruncated
	}
	switch ch := c.b[i]; ch {
	case '"':
		end, plain := stringEnd(c.b, i)
		if end < 0 {
			return 0, errTruncated
		}
		if n.kinds == 0 || n.kinds&kStr != 0 {
			if n.dateTime && !dateTime(c.b[i+1:end-1], plain) {
				return 0, c.fail(i, "%s is not an RFC 3339 date-time", excerpt.Of(string(c.b[i:end]), 60))
			}
			return end, nil
		}
		return end, c.fromString(n, i, end, plain)
	case '{':
		return c.object(n, i)
	case '[':
		return c.array(n, i)
	case 't':
		return c.literal(n, i, "true", kBool)
	case 'f':
		return c.literal(n, i, "false", kBool)
	case 'n':
		return c.literal(n, i, "null", kNull)
	}
	end, integral := numberEnd(c.b, i)
	if end == i {
		return 0, fmt.Errorf("conform: unexpected %q at offset %d", c.b[i], i)
	}
	if n.kinds == 0 || n.kinds&kNum != 0 || integral && n.kinds&kInt != 0 {
		return end, nil
	}
	return end, c.fromNumber(n, i, end)
}

var errTruncated = errors.New("conform: record ends early")

// literal reads true, false or null (lit, of kind k).
func (c *scanner) literal(n *node, i int, lit string, k kinds) (int, error) {
	end := i + len(lit)
	if end > len(c.b) || string(c.b[i:end]) != lit {
		return 0, fmt.Errorf("conform: unexpected %q at offset %d", c.b[i], i)
	}
	if n.kinds == 0 || n.kinds&k != 0 {
		return end, nil
	}
	return 0, c.mismatch(n, i, end)
}

// mismatch is the error for the value b[i:end], whose type n does not
// allow and which does not convert.
func (c *scanner) mismatch(n *node, i, end int) error {
	return c.fail(i, "%s does not convert without loss to %s", excerpt.Of(string(c.b[i:end]), 60), typeList(n.kinds))
}

// fail is the error for the value at b[off].
func (c *scanner) fail(off int, format string, args ...any) error {
	return &Error{Pointer: pointerOf(pathTo(c.b, off)), Problem: fmt.Sprintf(format, args...)}
}

// fromString converts the string b[i:end] to a number or boolean n allows.
func (c *scanner) fromString(n *node, i, end int, plain bool) error {
	inner := c.b[i+1 : end-1]
	if plain {
		if numEnd, integral := numberEnd(inner, 0); numEnd == len(inner) && numEnd > 0 {
			if integral && n.kinds&kInt != 0 || n.kinds&kNum != 0 {
				return c.convert(edit{start: i, end: end, repl: inner}, "string", numberKind(n.kinds))
			}
			if whole, ok := integerText(inner); ok && n.kinds&kInt != 0 {
				return c.convert(edit{start: i, end: end, repl: whole}, "string", "integer")
			}
		}
		if (string(inner) == "true" || string(inner) == "false") && n.kinds&kBool != 0 {
			return c.convert(edit{start: i, end: end, repl: inner}, "string", "boolean")
		}
	}
	return c.mismatch(n, i, end)
}

// fromNumber converts the number b[i:end] to a string or to an integer.
func (c *scanner) fromNumber(n *node, i, end int) error {
	text := c.b[i:end]
	if n.kinds&kStr != 0 {
		return c.convert(edit{start: i, end: end, repl: text, quote: true}, "number", "string")
	}
	if whole, ok := integerText(text); ok && n.kinds&kInt != 0 {
		return c.convert(edit{start: i, end: end, repl: whole}, "number", "integer")
	}
	return c.mismatch(n, i, end)
}

func numberKind(k kinds) string {
	if k&kNum != 0 {
		return "number"
	}
	return "integer"
}

// integerText is the integer a number literal with a fraction or an
// exponent stands for (1.0, 1e3), when it is whole and of sane size.
func integerText(num []byte) ([]byte, bool) {
	if len(num) > 64 {
		return nil, false
	}
	r, ok := new(big.Rat).SetString(string(num))
	if !ok || !r.IsInt() || r.Num().BitLen() > 256 {
		return nil, false
	}
	return []byte(r.Num().String()), true
}

func (c *scanner) convert(e edit, from, to string) error {
	e.from, e.to = from, to
	c.edits = append(c.edits, e)
	return nil
}

// object reads the object at b[i]. Its members are looked up first at the
// index after the previous member's, the order the schema lists them in,
// which is the order Recurly writes them: a byte comparison instead of a
// map lookup per member.
func (c *scanner) object(n *node, i int) (int, error) {
	if n.kinds != 0 && n.kinds&kObj == 0 {
		return c.wrongValue(n, i)
	}
	if n.props == nil {
		return jsonscan.Value(c.b, i) // an open object: any members
	}
	if c.depth == maxDepth {
		return 0, c.fail(i, "nested deeper than %d levels", maxDepth)
	}
	b := c.b // a local: the loop keeps it in registers
	var seen uint64
	next := 0
	j := space(b, i+1)
	if j < len(b) && b[j] == '}' {
		return j + 1, c.missing(n, i, seen)
	}
	c.depth++ // not undone on an error: the pass ends there
	for {
		var child *node
		known := true
		if next < len(n.props) && n.props[next].key.matches(b, j) {
			// The expected key, as the schema spells it: no scan, no lookup.
			child, seen = n.props[next].node, seen|1<<(next&63)
			j += len(n.props[next].key.text)
			next++
		} else {
			var err error
			if j, child, known, err = c.otherKey(n, j, &next, &seen); err != nil {
				return 0, err
			}
		}
		if j = space(b, j); j >= len(b) || b[j] != ':' {
			return 0, errTruncated
		}
		j = space(b, j+1)
		if !known {
			c.unknownAt = append(c.unknownAt, j)
		}
		end, err := c.member(child, j)
		if err != nil {
			return 0, err
		}
		if j = space(b, end); j >= len(b) {
			return 0, errTruncated
		}
		switch b[j] {
		case ',':
			j = space(b, j+1)
		case '}':
			c.depth--
			return j + 1, c.missing(n, i, seen)
		default:
			return 0, fmt.Errorf("conform: unexpected %q at offset %d", b[j], j)
		}
	}
}

// member reads a member's value at b[j] against n, with the commonest
// cases inline: a string where any string goes, null where null goes.
func (c *scanner) member(n *node, j int) (int, error) {
	if b := c.b; n != nil && j < len(b) {
		switch b[j] {
		case '"':
			if n.plainString {
				end, _ := stringEnd(b, j)
				if end < 0 {
					return 0, errTruncated
				}
				return end, nil
			}
		case 'n':
			if n.kinds&kNull != 0 && len(b)-j >= 4 && string(b[j:j+4]) == "null" {
				return j + 4, nil
			}
		}
	}
	return c.value(n, j)
}

// otherKey reads the key at b[j] when it is not the expected one: it
// looks it up (known false when the schema does not declare it) and
// returns the offset past it.
func (c *scanner) otherKey(n *node, j int, next *int, seen *uint64) (int, *node, bool, error) {
	if j >= len(c.b) || c.b[j] != '"' {
		return 0, nil, false, errTruncated
	}
	kEnd, plain := stringEnd(c.b, j)
	if kEnd < 0 {
		return 0, nil, false, errTruncated
	}
	p := n.lookup(c.b[j+1:kEnd-1], plain)
	if p < 0 {
		return kEnd, nil, false, nil
	}
	*next, *seen = p+1, *seen|1<<(p&63)
	return kEnd, n.props[p].node, true, nil
}

// wrongValue is the error for the object or array at b[i], which n does
// not allow.
func (c *scanner) wrongValue(n *node, i int) (int, error) {
	end, err := jsonscan.Value(c.b, i)
	if err != nil {
		return 0, err
	}
	return 0, c.mismatch(n, i, end)
}

// space skips white space; records are usually compact, so the first
// byte is tested inline.
func space(b []byte, j int) int {
	if j < len(b) && b[j] > ' ' {
		return j
	}
	return jsonscan.SkipSpace(b, j)
}

// lookup finds the declared property named key (raw text; plain: without
// escapes); -1 when there is none.
func (n *node) lookup(key []byte, plain bool) int {
	name := string(key)
	if !plain {
		name, _ = jsonscan.String(c2q(key))
	}
	if p, ok := n.byName[name]; ok {
		return p
	}
	return -1
}

// c2q puts quotes back around a key's raw text.
func c2q(key []byte) []byte { return append(append([]byte{'"'}, key...), '"') }

// missing is the error for required properties of n, the object at
// b[i], not seen.
func (c *scanner) missing(n *node, i int, seen uint64) error {
	if n == nil || n.required&^seen == 0 {
		return nil
	}
	for p := range n.props {
		if n.required&^seen&(1<<p) != 0 {
			return c.fail(i, "required field %q is missing", n.props[p].name)
		}
	}
	return nil
}

// array reads the array at b[i].
func (c *scanner) array(n *node, i int) (int, error) {
	if n.kinds != 0 && n.kinds&kArr == 0 {
		return c.wrongValue(n, i)
	}
	if n.items == nil {
		return jsonscan.Value(c.b, i) // any items
	}
	if c.depth == maxDepth {
		return 0, c.fail(i, "nested deeper than %d levels", maxDepth)
	}
	j := space(c.b, i+1)
	if j < len(c.b) && c.b[j] == ']' {
		return j + 1, nil
	}
	c.depth++ // not undone on an error: the pass ends there
	for {
		end, err := c.member(n.items, j)
		if err != nil {
			return 0, err
		}
		j = space(c.b, end)
		if j >= len(c.b) {
			return 0, errTruncated
		}
		switch c.b[j] {
		case ',':
			j = space(c.b, j+1)
		case ']':
			c.depth--
			return j + 1, nil
		default:
			return 0, fmt.Errorf("conform: unexpected %q at offset %d", c.b[j], j)
		}
	}
}

// pathTo is the path from the start of rec to the value that starts at
// rec[target], found by walking rec again: the scanner keeps none, since
// only the rare conversion, unknown field or error needs it. For bytes
// that are not valid JSON it may stop short.
func pathTo(rec []byte, target int) []seg {
	var path []seg
	i := jsonscan.SkipSpace(rec, 0)
	for i < target && i < len(rec) && (rec[i] == '{' || rec[i] == '[') {
		child, s, ok := childAt(rec, i, target)
		if !ok {
			break
		}
		path, i = append(path, s), child
	}
	return path
}

// childAt finds the member or item of the object or array at rec[i] whose
// value holds rec[target]: its offset and its step in a path.
func childAt(rec []byte, i, target int) (int, seg, bool) {
	j := space(rec, i+1)
	for k := 0; j < len(rec) && rec[j] != '}' && rec[j] != ']'; k++ {
		s := seg{idx: k}
		if rec[i] == '{' {
			kEnd, _ := stringEnd(rec, j)
			if kEnd < 0 {
				return 0, seg{}, false
			}
			s = seg{key: rec[j+1 : kEnd-1]}
			if j = space(rec, kEnd); j >= len(rec) || rec[j] != ':' {
				return 0, seg{}, false
			}
			j = space(rec, j+1)
		}
		end, err := jsonscan.Value(rec, j)
		if err != nil {
			end = len(rec)
		}
		if j <= target && target < end {
			return j, s, true
		}
		if j = space(rec, end); j < len(rec) && rec[j] == ',' {
			j = space(rec, j+1)
		}
	}
	return 0, seg{}, false
}

// pointerOf is a path as a JSON pointer.
func pointerOf(path []seg) string {
	var sb strings.Builder
	for _, s := range path {
		sb.WriteByte('/')
		if s.key == nil {
			sb.WriteString(strconv.Itoa(s.idx))
			continue
		}
		name, _ := jsonscan.String(c2q(s.key))
		sb.WriteString(strings.NewReplacer("~", "~0", "/", "~1").Replace(name))
	}
	if sb.Len() == 0 {
		return "/"
	}
	return sb.String()
}

// fieldOf is a path as a field name: keys dotted, [] for each array level.
func fieldOf(path []seg) string {
	var sb strings.Builder
	for k, s := range path {
		if s.key == nil {
			sb.WriteString("[]")
			continue
		}
		if k > 0 {
			sb.WriteByte('.')
		}
		name, _ := jsonscan.String(c2q(s.key))
		sb.WriteString(name)
	}
	return sb.String()
}

// apply returns the record with the edits made (the input when none).
func (c *scanner) apply() []byte {
	if len(c.edits) == 0 {
		return c.b
	}
	out := make([]byte, 0, len(c.b)+2*len(c.edits))
	last := 0
	for _, e := range c.edits {
		out = append(out, c.b[last:e.start]...)
		if e.quote {
			out = append(out, '"')
		}
		out = append(out, e.repl...)
		if e.quote {
			out = append(out, '"')
		}
		last = e.end
	}
	return append(out, c.b[last:]...)
}

// typeList names the types of k for a message: "integer or null".
func typeList(k kinds) string {
	var names []string
	for _, kn := range kindNames[1:] {
		if k&kn.k != 0 && !(kn.k == kInt && k&kNum != 0) {
			names = append(names, kn.name)
		}
	}
	if k&kNull != 0 {
		names = append(names, "null") // last: "integer or null"
	}
	return strings.Join(names, " or ")
}
