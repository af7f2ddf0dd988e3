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
func Value(b []byte, i int) (int, error) {
	var stackBuf [32]byte
	stack := stackBuf[:0] // open containers, '{' or '['
	for {
		// A value starts at i.
		if i >= len(b) {
			return 0, errEnd(i)
		}
		var err error
		switch c := b[i]; c {
		case '{', '[':
			if len(stack) >= MaxDepth {
				return 0, fmt.Errorf("jsonscan: nesting deeper than %d at offset %d", MaxDepth, i)
			}
			closer := byte('}')
			if c == '[' {
				closer = ']'
			}
			j := skipSpace(b, i+1)
			if j < len(b) && b[j] == closer {
				i = j + 1 // empty container: a complete value
				break
			}
			stack = append(stack, c)
			if c == '{' {
				if _, i, err = key(b, j); err != nil {
					return 0, err
				}
			} else {
				i = j
			}
			continue // the first member's value or element starts at i
		case '"':
			i, err = validString(b, i)
		case 't':
			i, err = literal(b, i, "true")
		case 'f':
			i, err = literal(b, i, "false")
		case 'n':
			i, err = literal(b, i, "null")
		default:
			i, err = number(b, i)
		}
		if err != nil {
			return 0, err
		}
		// A value ended at i: close containers until one wants another value.
		for {
			if len(stack) == 0 {
				return i, nil
			}
			i = skipSpace(b, i)
			if i >= len(b) {
				return 0, errEnd(i)
			}
			top := stack[len(stack)-1]
			if b[i] == ',' {
				i = skipSpace(b, i+1)
				if top == '{' {
					if _, i, err = key(b, i); err != nil {
						return 0, err
					}
				}
				break
			}
			if (top == '{' && b[i] == '}') || (top == '[' && b[i] == ']') {
				stack = stack[:len(stack)-1]
				i++
				continue
			}
			return 0, fmt.Errorf("jsonscan: unexpected %q at offset %d", b[i], i)
		}
	}
}

func errEnd(i int) error { return fmt.Errorf("jsonscan: unexpected end of input at offset %d", i) }

// key checks an object key and its colon starting at b[i] and returns the
// offset just past the key's closing quote and the offset of the value after
// the colon (white space skipped).
func key(b []byte, i int) (keyEnd, value int, err error) {
	if i >= len(b) || b[i] != '"' {
		if i >= len(b) {
			return 0, 0, errEnd(i)
		}
		return 0, 0, fmt.Errorf("jsonscan: expected a key at offset %d", i)
	}
	keyEnd, err = validString(b, i)
	if err != nil {
		return 0, 0, err
	}
	i = skipSpace(b, keyEnd)
	if i >= len(b) {
		return 0, 0, errEnd(i)
	}
	if b[i] != ':' {
		return 0, 0, fmt.Errorf("jsonscan: expected ':' at offset %d", i)
	}
	return keyEnd, skipSpace(b, i+1), nil
}

// validString checks the string starting at b[i] == '"' and returns the
// offset just past its closing quote.
func validString(b []byte, i int) (int, error) {
	j := i + 1
	for {
		// The common case: a run of ordinary bytes, eight at a time.
		j = plainRun(b, j)
		for j < len(b) && strClass[b[j]] == 0 {
			j++
		}
		if j >= len(b) {
			return 0, errEnd(j)
		}
		switch strClass[b[j]] {
		case 1:
			return j + 1, nil
		case 3:
			return 0, fmt.Errorf("jsonscan: control character %#x in string at offset %d", b[j], j)
		}
		// An escape.
		if j+1 >= len(b) {
			return 0, errEnd(j + 1)
		}
		switch b[j+1] {
		case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			j += 2
		case 'u':
			if j+6 > len(b) {
				return 0, errEnd(len(b))
			}
			for _, h := range b[j+2 : j+6] {
				if !isHex(h) {
					return 0, fmt.Errorf("jsonscan: bad \\u escape at offset %d", j)
				}
			}
			j += 6
		default:
			return 0, fmt.Errorf("jsonscan: bad escape at offset %d", j)
		}
	}
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

// SWAR constants: every byte 0x01, 0x80, '"', '\\' and 0x20.
const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
	quote = ones * '"'
	bslsh = ones * '\\'
	space = ones * 0x20
)

// plainRun returns the offset of the first byte at or after j that ends a
// run of ordinary string bytes, looking at eight bytes per step; it may stop
// up to seven bytes early near the end of b (the caller finishes bytewise).
func plainRun(b []byte, j int) int {
	for j+8 <= len(b) {
		x := binary.LittleEndian.Uint64(b[j:])
		// A byte of x is flagged when it is '"', '\\' or below 0x20; the
		// lowest flag is exact (borrows only run upwards).
		q, e := x^quote, x^bslsh
		t := ((q - ones) &^ q) | ((e - ones) &^ e) | ((x - space) &^ x)
		if t &= highs; t != 0 {
			return j + bits.TrailingZeros64(t)/8
		}
		j += 8
	}
	return j
}
