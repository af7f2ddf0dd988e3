package jsonscan

import (
	"encoding/binary"
	"fmt"
	"math/bits"
)

// MaxDepth is the deepest nesting of arrays and objects Value accepts, the
// same limit encoding/json applies.
const MaxDepth = 10000

// SkipSpace returns the offset of the first byte at or after i that is not
// JSON white space (len(b) if there is none).
func SkipSpace(b []byte, i int) int { return skipSpace(b, i) }

// Valid reports whether data is exactly one JSON value with optional white
// space around it. Whatever it accepts, encoding/json's Valid accepts too; it
// is several times faster (one pass, no per-byte function calls).
func Valid(data []byte) bool {
	i := skipSpace(data, 0)
	end, err := Value(data, i)
	return err == nil && skipSpace(data, end) == len(data)
}

// strClass classifies bytes inside a JSON string: 0 is an ordinary byte, 1
// ends the string ('"'), 2 starts an escape ('\\') and 3 is a control
// character, which JSON forbids unescaped.
var strClass = func() (t [256]byte) {
	for c := 0; c < 0x20; c++ {
		t[c] = 3
	}
	t['"'] = 1
	t['\\'] = 2
	return t
}()

// Value checks the JSON value starting at b[i] strictly (RFC 8259 grammar:
// string escapes, number syntax, literals, commas and colons, nesting up to
// MaxDepth) and returns the offset just past it. It does not check UTF-8,
// as encoding/json does not. White space before i is the caller's to skip.
func Value(b []byte, i int) (int, error) { return scan(b, i, nil) }

// fieldSet is what ObjectFields asks scan to collect: the raw values of the
// top-level members named keys[k] (by raw text; the first duplicate wins).
type fieldSet struct {
	keys    []string
	out     [][]byte // out[k]: the value of keys[k], nil until found
	missing int      // how many keys are not found yet
	lens    uint64   // bit min(len(keys[k]), 63) set for every k: a cheap first test
	name    []byte   // the wanted key whose value scan is reading
	start   int      // where that value starts
	names   *names   // the object's member names so far, for refusing a duplicate
}

// wants reports whether name is a key not found yet, and if so notes it as
// the key of the value starting at v.
func (f *fieldSet) wants(name []byte, v int) bool {
	for k, key := range f.keys {
		if len(key) == len(name) && f.out[k] == nil && string(name) == key {
			f.name, f.start = name, v
			return true
		}
	}
	return false
}

// newFieldSet returns the fieldSet for finding keys' values in out.
func newFieldSet(keys []string, out [][]byte) fieldSet {
	f := fieldSet{keys: keys, out: out, missing: len(keys)}
	for _, k := range keys {
		f.lens |= 1 << min(len(k), 63)
	}
	return f
}

// found stores the value of the noted key, which ends at end.
func (f *fieldSet) found(b []byte, end int) {
	f.missing -= store(f.name, b[f.start:end], f.keys, f.out)
}

// scan is the one strict checker behind Value and ObjectFields: it checks
// the value starting at b[i] and returns the offset just past it, and when
// f is not nil it collects f's keys from the top-level object in the same
// pass. It is one loop with no call for the common tokens (strings, null,
// true, false, colons, commas): Go keeps no registers across a call, and
// on records of many short members the spills and reloads around a call
// per token cost more than the tokens, so it runs past 60 lines on purpose.
// (Measured again when the duplicate-name check came: even one inline
// append per top-level name costs about 4% of BenchmarkDecodePage, so the
// check itself runs after the object, in names.check.)
func scan(b []byte, i int, f *fieldSet) (int, error) {
	var (
		st   nest
		err  error
		j, v int
	)
	st.open = st.buf[:0]
value: // A value starts at i.
	if i >= len(b) {
		return 0, errEnd(i)
	}
	if b[i] != '"' {
		goto other
	}
str: // A string value starts at i.
	j = plainRun(b, i+1)
	if j >= len(b) || b[j] != '"' {
		if j, err = stringRest(b, j); err != nil {
			return 0, err
		}
	}
	i = j + 1
	// The common case: a comma and the next member's key or element, a
	// string, with no white space and no noted value ending here.
	if i+1 < len(b) && b[i] == ',' && b[i+1] == '"' && (len(st.open) > 1 || len(st.open) == 1 && !st.pending) {
		i++
		if st.inObj {
			goto key
		}
		goto str
	}
	goto end
other: // Any other value starts at i.
	switch c := b[i]; c {
	case '{', '[':
		if len(st.open) >= MaxDepth {
			return 0, fmt.Errorf("jsonscan: nesting deeper than %d at offset %d", MaxDepth, i)
		}
		j = skipSpace(b, i+1)
		if j < len(b) && b[j] == c+2 { // '}' and ']' follow their openers by two
			i = j + 1 // empty container: a complete value
			break
		}
		st.open = append(st.open, c)
		i, st.inObj = j, c == '{'
		if st.inObj {
			goto key
		}
		goto value
	case 'n':
		if !hasLiteral(b, i, "null") {
			return literal(b, i, "null")
		}
		i += 4
	case 't':
		if !hasLiteral(b, i, "true") {
			return literal(b, i, "true")
		}
		i += 4
	case 'f':
		if !hasLiteral(b, i, "false") {
			return literal(b, i, "false")
		}
		i += 5
	default:
		if i, err = number(b, i); err != nil {
			return 0, err
		}
	}
end: // A value ended at i.
	if st.pending && len(st.open) == 1 {
		f.found(b, i)
		st.pending = false
	}
	if len(st.open) == 0 {
		return i, nil
	}
	if i < len(b) && b[i] <= ' ' {
		i = skipSpace(b, i)
	}
	if i >= len(b) {
		return 0, errEnd(i)
	}
	if b[i] == ',' {
		i++
		if i < len(b) && b[i] <= ' ' {
			i = skipSpace(b, i)
		}
		if st.inObj {
			goto key
		}
		goto value
	}
	if b[i] != st.open[len(st.open)-1]+2 {
		return 0, fmt.Errorf("jsonscan: unexpected %q at offset %d", b[i], i)
	}
	st.open = st.open[:len(st.open)-1]
	st.inObj = len(st.open) > 0 && st.open[len(st.open)-1] == '{'
	i++
	goto end
key: // An object key starts at i.
	if i >= len(b) {
		return 0, errEnd(i)
	}
	if b[i] != '"' {
		return 0, fmt.Errorf("jsonscan: expected a key at offset %d", i)
	}
	// plainRun, but ending in a switch on where the key ends instead of
	// adding it: keys recur in the same order record after record, so the
	// branch predictor mostly knows the case, and the work on the next
	// member starts without waiting for this load and its bit arithmetic
	// (9% faster on an accounts page; values vary too much, it slowed them).
	for j = i + 1; j <= len(b)-8; j += 8 {
		t := special(binary.LittleEndian.Uint64(b[j:]))
		switch bits.TrailingZeros64(t) >> 3 {
		case 0:
		case 1:
			j++
		case 2:
			j += 2
		case 3:
			j += 3
		case 4:
			j += 4
		case 5:
			j += 5
		case 6:
			j += 6
		case 7:
			j += 7
		default:
			continue
		}
		break
	}
	if j >= len(b) || b[j] != '"' {
		if j, err = stringRest(b, j); err != nil {
			return 0, err
		}
		if f != nil && len(st.open) == 1 {
			f.names.escaped = true // maybe: checked decoded after the object
		}
	}
	// j is the closing quote; the common case is a colon and no white space.
	v = j + 2
	if v >= len(b) || b[j+1] != ':' || b[v] <= ' ' {
		if v, err = colon(b, j+1); err != nil {
			return 0, err
		}
	}
	if f != nil && len(st.open) == 1 {
		f.names.cur = append(f.names.cur, nameRef{uint32(i + 1), uint32(j - i - 1)})
		if f.missing > 0 && f.lens>>min(j-i-1, 63)&1 != 0 {
			st.pending = f.wants(b[i+1:j], v)
		}
	}
	i = v
	goto value
}

// nest is scan's state other than the offsets, kept in memory on purpose
// (its array keeps the compiler from holding it in registers): the loop
// reads it once per value, and registers are better spent on the offsets.
type nest struct {
	open    []byte // open containers, '{' or '[', innermost last
	inObj   bool   // the innermost container is an object
	pending bool   // the value being read is the one the fieldSet noted
	buf     [64]byte
}

// hasLiteral reports whether lit starts at b[i].
func hasLiteral(b []byte, i int, lit string) bool {
	return len(b)-i >= len(lit) && string(b[i:i+len(lit)]) == lit
}

// colon checks the colon after a key whose closing quote ends at b[j-1] and
// returns the offset of the value after it (white space skipped).
func colon(b []byte, j int) (int, error) {
	j = skipSpace(b, j)
	if j >= len(b) {
		return 0, errEnd(j)
	}
	if b[j] != ':' {
		return 0, fmt.Errorf("jsonscan: expected ':' at offset %d", j)
	}
	return skipSpace(b, j+1), nil
}

func errEnd(i int) error { return fmt.Errorf("jsonscan: unexpected end of input at offset %d", i) }

// key checks an object key and its colon starting at b[i] and returns the
// offset just past the key's closing quote and the offset of the value after
// the colon (white space skipped).
func key(b []byte, i int) (keyEnd, value int, err error) {
	if i >= len(b) {
		return 0, 0, errEnd(i)
	}
	if b[i] != '"' {
		return 0, 0, fmt.Errorf("jsonscan: expected a key at offset %d", i)
	}
	if keyEnd, err = validString(b, i); err != nil {
		return 0, 0, err
	}
	value, err = colon(b, keyEnd)
	return keyEnd, value, err
}

// validString checks the string starting at b[i] == '"' and returns the
// offset just past its closing quote.
func validString(b []byte, i int) (int, error) {
	j := plainRun(b, i+1)
	if j >= len(b) || b[j] != '"' {
		var err error
		if j, err = stringRest(b, j); err != nil {
			return 0, err
		}
	}
	return j + 1, nil
}

// stringRest finishes a string that plainRun stopped in at b[j] on an
// escape, a control character or the last few bytes of b, and returns the
// offset of its closing quote.
func stringRest(b []byte, j int) (int, error) {
	for {
		j = plainRun(b, j)
		for j < len(b) && strClass[b[j]] == 0 {
			j++
		}
		if j >= len(b) {
			return 0, errEnd(j)
		}
		if b[j] == '"' {
			return j, nil
		}
		var err error
		if j, err = escape(b, j); err != nil {
			return 0, err
		}
	}
}

// escape checks the escape sequence at b[j] == '\\' inside a string and
// returns the offset just past it; any other byte there is a control
// character, which JSON forbids unescaped.
func escape(b []byte, j int) (int, error) {
	if b[j] != '\\' {
		return 0, fmt.Errorf("jsonscan: control character %#x in string at offset %d", b[j], j)
	}
	if j+1 >= len(b) {
		return 0, errEnd(j + 1)
	}
	switch b[j+1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return j + 2, nil
	case 'u':
		if j+6 > len(b) {
			return 0, errEnd(len(b))
		}
		for _, h := range b[j+2 : j+6] {
			if !isHex(h) {
				return 0, fmt.Errorf("jsonscan: bad \\u escape at offset %d", j)
			}
		}
		return j + 6, nil
	}
	return 0, fmt.Errorf("jsonscan: bad escape at offset %d", j)
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func literal(b []byte, i int, lit string) (int, error) {
	if len(b)-i < len(lit) || string(b[i:i+len(lit)]) != lit {
		if len(b)-i < len(lit) && string(b[i:]) == lit[:len(b)-i] {
			return 0, errEnd(len(b))
		}
		return 0, fmt.Errorf("jsonscan: invalid literal at offset %d", i)
	}
	return i + len(lit), nil
}

// number checks the number starting at b[i]: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func number(b []byte, i int) (int, error) {
	start := i
	bad := func() (int, error) {
		if i >= len(b) {
			return 0, errEnd(i)
		}
		return 0, fmt.Errorf("jsonscan: invalid number at offset %d", start)
	}
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && '1' <= b[i] && b[i] <= '9':
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	default:
		return bad()
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) || !isDigit(b[i]) {
			return bad()
		}
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || !isDigit(b[i]) {
			return bad()
		}
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	}
	return i, nil
}

// SWAR constants: every byte 0x01, 0x80, '\\', 0x02 and 0x21.
const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
	bslsh = ones * '\\'
	flip2 = ones * 0x02
	below = ones * 0x21
)

// plainRun returns the offset of the first byte at or after j that ends a
// run of ordinary string bytes ('"', '\\' or a control character), looking
// at eight bytes per step; it may stop up to seven bytes early near the end
// of b (stringRest finishes bytewise).
func plainRun(b []byte, j int) int {
	for ; j <= len(b)-8; j += 8 {
		if t := special(binary.LittleEndian.Uint64(b[j:])); t != 0 {
			return j + bits.TrailingZeros64(t)/8
		}
	}
	return j
}

// special flags (sets the high bit of) each byte of x, eight string bytes
// read little-endian, that is '"', '\\' or below 0x20. Only the lowest
// flag is exact (borrows run upwards), which is the one callers use.
// Flipping bit 1 turns '"' into 0x20 and keeps the control characters
// below 0x20 while everything else stays at or above 0x21, so one
// subtraction finds both. A byte at or above 0x80 is never flagged; the
// xors keep that bit, so one &^ x serves both subtractions.
func special(x uint64) uint64 {
	return ((x ^ swar.flip2 - swar.below) | (x ^ swar.bslsh - swar.ones)) & (swar.highs &^ x)
}

// swar holds the SWAR constants in memory: x86 folds a load into the
// instruction using it, where a constant costs a separate 10-byte move.
var swar = struct{ flip2, below, bslsh, ones, highs uint64 }{flip2, below, bslsh, ones, highs}
