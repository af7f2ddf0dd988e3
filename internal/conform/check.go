package conform

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"unicode/utf8"

	"github.com/tap-recurly/tap-recurly/internal/jsonscan"
)

// Checker is Conform's fast path fused with the strict JSON check the
// client makes of every record of a page: one walk over a record's bytes
// checks its syntax as strictly as jsonscan.ObjectFields, its values'
// types and date-times against the schema, that no declared member comes
// twice and that it has no member the schema lacks, and finds the values
// of the top-level members it was made for. The common record, which
// conforms as it stands, then needs no other pass. It reads compact JSON,
// as Recurly writes it: a record with white space between its tokens
// (outside members of any type) is left to the slow path. A Checker is
// immutable and safe for concurrent use.
type Checker struct {
	root  *node
	keyOf []int8 // keyOf[p]: the index in keys of root's property p, -1 if none
	keys  uint64 // bit p set when keyOf[p] >= 0
}

// Checker returns the Checker finding the top-level members named keys, or
// nil when the schema is one it cannot check: Opaque, not an object with
// declared properties, or with an object of more than 64 properties.
func (s *Schema) Checker(keys []string) *Checker {
	if s.opaque || s.root == nil || s.root.props == nil || s.root.kinds != 0 && s.root.kinds&kObj == 0 ||
		!fitsChecker(s.root, 0) || len(keys) > 127 {
		return nil
	}
	k := &Checker{root: s.root, keyOf: make([]int8, len(s.root.props))}
	for p := range k.keyOf {
		k.keyOf[p] = -1
		for x, key := range keys {
			// Compared as written, as jsonscan.ObjectFields compares keys.
			if s.root.props[p].key.text == `"`+key+`"` && k.keyOf[p] < 0 {
				k.keyOf[p], k.keys = int8(x), k.keys|1<<p
			}
		}
	}
	return k
}

// fitsChecker reports whether every object of n declares at most 64
// properties (one bit each in the walk's record of members seen).
func fitsChecker(n *node, depth int) bool {
	if n == nil {
		return true
	}
	if len(n.props) > 64 || depth > maxDepth {
		return false
	}
	for _, p := range n.props {
		if !fitsChecker(p.node, depth+1) {
			return false
		}
	}
	return fitsChecker(n.items, depth+1)
}

// Check reports whether the JSON object starting at b[i] is valid, compact
// JSON (no white space between its tokens but inside values of any type,
// and no CR or LF byte at all: it is one line), holds no top-level name
// twice and conforms to the schema as it stands (Conform would convert
// nothing and find no unknown field). When it does,
// Check returns the offset just past the object, with out[x] holding the
// raw value of the member named keys[x] (nil when absent; len(out) must be
// len(keys)). When it returns false nothing is said about the record:
// it may be invalid, or conform only after conversion, or not at all, and
// the caller checks it the slow way.
func (k *Checker) Check(b []byte, i int, out [][]byte) (end int, ok bool) {
	for x := range out {
		out[x] = nil
	}
	if i >= len(b) || b[i] != '{' {
		return 0, false
	}
	end = k.object(b, i, k.root, out, k.keys)
	return end, end >= 0
}

// object walks the object at b[i] against n, which declares properties,
// and returns the offset just past it, or -1. At the top level it stores
// in out the members the Checker finds (keys: their properties' bits; 0
// below the top). Members are looked up first at the index after the
// previous member's, the order in which the schema lists them and Recurly
// writes them, so the common key and its colon cost two word compares;
// strings and null, the commonest values, are read inline (a call per
// member would cost more than the member).
func (k *Checker) object(b []byte, i int, n *node, out [][]byte, keys uint64) int {
	j := i + 1
	if j < len(b) && b[j] == '}' {
		if n.required != 0 {
			return -1
		}
		return j + 1
	}
	props := n.props
	var seen uint64
	next := 0
	for {
		p := next
		if p < len(props) && props[p].colon.matches(b, j) {
			j += len(props[p].colon.text)
		} else if p, j = otherKey(b, j, n); p < 0 {
			return -1
		}
		if seen&(1<<p) != 0 {
			return -1 // a declared member held twice
		}
		seen |= 1 << p
		next = p + 1
		start, child := j, props[p].node
		if j >= len(b) {
			return -1
		}
		switch b[j] {
		case '"':
			plain := true
			for j++; j <= len(b)-8; j += 8 {
				if t := quoteEscapeOrControl(binary.LittleEndian.Uint64(b[j:])); t != 0 {
					j += bits.TrailingZeros64(t) / 8
					break
				}
			}
			if j < len(b) && b[j] == '"' {
				j++
			} else if j, plain = strictStringEnd(b, start); j < 0 {
				return -1
			}
			if child != nil && !child.plainString && !dateTimeString(child, b[start:j], plain) {
				return -1
			}
		case 'n':
			if len(b)-j < 4 || string(b[j:j+4]) != "null" || child != nil && child.kinds != 0 && child.kinds&kNull == 0 {
				return -1
			}
			j += 4
		default:
			if j = k.value(b, j, child); j < 0 {
				return -1
			}
		}
		if keys&(1<<p) != 0 {
			out[k.keyOf[p]] = b[start:j]
		}
		if j >= len(b) {
			return -1
		}
		switch b[j] {
		case ',':
			j++
		case '}':
			if n.required&^seen != 0 {
				return -1
			}
			return j + 1
		default:
			return -1
		}
	}
}

// dateTimeString reports whether the string s (quotes included; plain:
// without escapes) passes n, which does not take any string: a date-time
// the quick check accepts. A string where another type is wanted is a
// conversion, and a date-time the quick check leaves to jsonschema/v5 is
// left to Conform.
func dateTimeString(n *node, s []byte, plain bool) bool {
	return (n.kinds == 0 || n.kinds&kStr != 0) && plain && quickDateTime(s[1:len(s)-1])
}

// otherKey reads the key at b[j] when it is not the expected one, and its
// colon, and looks it up: the property's index and the offset past the
// colon, or -1 for a key the schema does not declare, an escaped key or
// one that is not a string.
func otherKey(b []byte, j int, n *node) (int, int) {
	if j >= len(b) || b[j] != '"' {
		return -1, 0
	}
	end, plain := strictStringEnd(b, j)
	if end < 0 || !plain {
		return -1, 0
	}
	p, ok := n.byName[string(b[j+1:end-1])]
	if !ok || end >= len(b) || b[end] != ':' {
		return -1, 0
	}
	return p, end + 1
}

// member walks a member's or item's value at b[j] against n (nil: any
// value) and returns the offset just past it, or -1; the commonest values,
// strings and null, are read inline.
func (k *Checker) member(b []byte, j int, n *node) int {
	if j >= len(b) {
		return -1
	}
	switch b[j] {
	case '"':
		end, plain := strictStringEnd(b, j)
		if end < 0 || n == nil || n.plainString {
			return end
		}
		if !dateTimeString(n, b[j:end], plain) {
			return -1
		}
		return end
	case 'n':
		if len(b)-j < 4 || string(b[j:j+4]) != "null" || n != nil && n.kinds != 0 && n.kinds&kNull == 0 {
			return -1
		}
		return j + 4
	}
	return k.value(b, j, n)
}

// value walks the value at b[j] against n (nil: any value): containers,
// literals and numbers.
func (k *Checker) value(b []byte, j int, n *node) int {
	var want kinds
	end := -1
	switch c := b[j]; {
	case c == '{' || c == '[':
		want = kArr
		if c == '{' {
			want = kObj
		}
		if n == nil || n.kinds != 0 && n.kinds&want == 0 {
			break
		}
		if c == '{' && n.props != nil {
			return k.object(b, j, n, nil, 0)
		}
		if c == '[' && n.items != nil {
			return k.array(b, j, n.items)
		}
		return strictValue(b, j) // an open object, or any items
	case c == 't' || c == 'f':
		want, end = kBool, literalEnd(b, j)
	default:
		var integral bool
		if end, integral = numberEnd(b, j); end == j {
			return -1
		}
		if want = kNum; integral {
			want = kInt
		}
	}
	if n == nil {
		return strictValue(b, j)
	}
	if n.kinds != 0 && n.kinds&want == 0 {
		return -1
	}
	return end
}

// array walks the array at b[i] whose items are items.
func (k *Checker) array(b []byte, i int, items *node) int {
	j := i + 1
	if j < len(b) && b[j] == ']' {
		return j + 1
	}
	for {
		if j = k.member(b, j, items); j < 0 {
			return -1
		}
		if j >= len(b) {
			return -1
		}
		switch b[j] {
		case ',':
			j++
		case ']':
			return j + 1
		default:
			return -1
		}
	}
}

// strictValue checks any value at b[j] with jsonscan: the offset past it,
// or -1, also for a value holding a CR or LF byte (white space that a
// record Check passes never holds) or invalid UTF-8.
func strictValue(b []byte, j int) int {
	end, err := jsonscan.Value(b, j)
	if err != nil || bytes.IndexByte(b[j:end], '\n') >= 0 || bytes.IndexByte(b[j:end], '\r') >= 0 || !utf8.Valid(b[j:end]) {
		return -1
	}
	return end
}

// literalEnd is the offset past true or false at b[j], or -1.
func literalEnd(b []byte, j int) int {
	switch {
	case len(b)-j >= 4 && string(b[j:j+4]) == "true":
		return j + 4
	case len(b)-j >= 5 && string(b[j:j+5]) == "false":
		return j + 5
	}
	return -1
}

// strictStringEnd returns the offset just past the JSON string starting at
// b[i] (a '"'), checked as strictly as jsonscan.Value and holding valid
// UTF-8, or -1; plain is true when it holds no escape. Eight bytes are
// looked at per step; a byte at or above 0x80 starts a rune, which is
// decoded.
func strictStringEnd(b []byte, i int) (end int, plain bool) {
	j := i + 1
	for {
		for ; j <= len(b)-8; j += 8 {
			if t := quoteEscapeOrControl(binary.LittleEndian.Uint64(b[j:])); t != 0 {
				j += bits.TrailingZeros64(t) / 8
				goto found
			}
		}
		for j < len(b) && b[j] >= 0x20 && b[j] < utf8.RuneSelf && b[j] != '"' && b[j] != '\\' {
			j++
		}
	found:
		if j < len(b) && b[j] >= utf8.RuneSelf {
			r, size := utf8.DecodeRune(b[j:])
			if r == utf8.RuneError && size == 1 {
				return -1, false
			}
			j += size
			continue
		}
		if j < len(b) && b[j] == '"' {
			return j + 1, true
		}
		return strictValue(b, i), false // an escape, a control character or the end: jsonscan decides
	}
}

// quoteEscapeOrControl flags (sets the high bit of) each byte of x, eight
// string bytes read little-endian, that is '"', '\\', below 0x20 or at or
// above 0x80 (a rune's first or later byte). Only the lowest flag is exact,
// which is the one the string readers use.
func quoteEscapeOrControl(x uint64) uint64 {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	q := x ^ (ones * '"')
	e := x ^ (ones * '\\')
	return ((q - ones) | (e - ones) | (x - ones*0x20) | x) & highs
}
