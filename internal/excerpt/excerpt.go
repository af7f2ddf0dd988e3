// Package excerpt shortens untrusted text (a server's answer, a value from a
// file) to one printable line fit for an error message or a log line. It is
// the one such helper of the tap.
package excerpt

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Of returns s on one line: runs of white space become one space (none at
// either end), other unprintable runes and invalid UTF-8 are dropped, and
// the result is cut to at most n runes with "…" appended when anything was
// cut.
func Of(s string, n int) string {
	var b strings.Builder
	count, space := 0, false
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == utf8.RuneError && size == 1:
			continue // invalid UTF-8
		case unicode.IsSpace(r):
			space = count > 0
			continue
		case !unicode.IsPrint(r):
			continue
		}
		need := 1
		if space {
			need = 2
		}
		if count+need > n {
			b.WriteString("…")
			return b.String()
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
		count += need
	}
	return b.String()
}
