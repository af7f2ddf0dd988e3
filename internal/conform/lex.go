package conform

import (
	"encoding/binary"
	"math/bits"

	"github.com/santhosh-tekuri/jsonschema/v5"

	"github.com/tap-recurly/tap-recurly/internal/jsonscan"
)

// stringEnd returns the offset just past the JSON string starting at b[i]
// (a '"'), or -1 when it does not end, and whether it holds no escape.
// The string's contents are not checked: the record is valid JSON. It
// looks at eight bytes per step (as jsonscan does), since most strings of
// a record are short.
func stringEnd(b []byte, i int) (end int, plain bool) {
	j := i + 1
	for ; j <= len(b)-8; j += 8 {
		if t := quoteOrEscape(binary.LittleEndian.Uint64(b[j:])); t != 0 {
			j += bits.TrailingZeros64(t) / 8
			break
		}
	}
	plain = true
	for j < len(b) {
		switch b[j] {
		case '"':
			return j + 1, plain
		case '\\':
			plain = false
			j += 2
		default:
			j++
		}
	}
	return -1, false
}

// quoteOrEscape flags (sets the high bit of) each byte of x, eight bytes
// read little-endian, that is '"' or '\\'; only the lowest flag is exact,
// which is the one stringEnd uses. A byte with the high bit set is never
// flagged.
func quoteOrEscape(x uint64) uint64 {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	q := x ^ (ones * '"')
	e := x ^ (ones * '\\')
	return ((q - ones) | (e - ones)) & highs &^ x
}

// numberEnd returns the offset just past the JSON number starting at b[i]
// (i itself when there is none) and whether it is written as an integer
// (no fraction, no exponent). It follows RFC 8259's grammar strictly, so a
// string's text is converted only when it is a JSON number as it stands
// ("012", "+1", "1." and " 1" are not).
func numberEnd(b []byte, i int) (end int, integral bool) {
	j := i
	if j < len(b) && b[j] == '-' {
		j++
	}
	switch {
	case j < len(b) && b[j] == '0':
		j++
	case j < len(b) && '1' <= b[j] && b[j] <= '9':
		j = digits(b, j)
	default:
		return i, false
	}
	integral = true
	if j < len(b) && b[j] == '.' {
		k := digits(b, j+1)
		if k == j+1 {
			return i, false
		}
		j, integral = k, false
	}
	if j < len(b) && (b[j] == 'e' || b[j] == 'E') {
		k := j + 1
		if k < len(b) && (b[k] == '+' || b[k] == '-') {
			k++
		}
		m := digits(b, k)
		if m == k {
			return i, false
		}
		j, integral = m, false
	}
	return j, integral
}

func digits(b []byte, j int) int {
	for j < len(b) && '0' <= b[j] && b[j] <= '9' {
		j++
	}
	return j
}

// isDateTime is jsonschema/v5's own date-time check: what Validate asserts.
var isDateTime = jsonschema.Formats["date-time"]

// dateTime reports whether s (a string's raw text; plain: without escapes)
// is an RFC 3339 date-time as jsonschema/v5 checks it. The common shape,
// 2006-01-02T15:04:05[.frac](Z|+07:00), is checked here without allocating;
// anything else (escapes, lower-case t or z, leap seconds) is left to
// jsonschema/v5's check.
func dateTime(s []byte, plain bool) bool {
	if plain && quickDateTime(s) {
		return true
	}
	text := string(s)
	if !plain {
		var ok bool
		if text, ok = unquote(s); !ok {
			return false
		}
	}
	return isDateTime(text)
}

// quickDateTime accepts a subset of what isDateTime accepts.
func quickDateTime(s []byte) bool {
	if len(s) < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' {
		return false
	}
	year, ok1 := num(s[0:4])
	month, ok2 := num(s[5:7])
	day, ok3 := num(s[8:10])
	hour, ok4 := num(s[11:13])
	minute, ok5 := num(s[14:16])
	sec, ok6 := num(s[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || month < 1 || month > 12 || day < 1 || day > daysIn(month, year) ||
		hour > 23 || minute > 59 || sec > 59 {
		return false
	}
	rest := s[19:]
	if rest[0] == '.' {
		k := digits(rest, 1)
		if k == 1 {
			return false
		}
		rest = rest[k:]
	}
	if len(rest) == 1 {
		return rest[0] == 'Z'
	}
	if len(rest) != 6 || (rest[0] != '+' && rest[0] != '-') || rest[3] != ':' {
		return false
	}
	zh, ok1 := num(rest[1:3])
	zm, ok2 := num(rest[4:6])
	return ok1 && ok2 && zh <= 23 && zm <= 59
}

func num(b []byte) (int, bool) {
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// unquote decodes a string's raw text (escapes included).
func unquote(s []byte) (string, bool) { return jsonscan.String(c2q(s)) }
