package client

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/tap-recurly/tap-recurly/internal/excerpt"
)

// redacted replaces a secret in any text the client prints.
const redacted = "[redacted]"

// redactor blanks the API key out of text a server sent back: the key itself and the base64 of "key:" (the
// Basic credential, which "Basic <b64>" contains), each also in the escaped forms a JSON encoder or a URL
// may give it (every character may be written \uXXXX or %XX, and '/' as \/), so neither the raw bytes
// before decoding nor the decoded text after it can show the key.
//
// Every request's path goes through it, so text that cannot hold a match is let through without running
// the pattern (see mayHold).
type redactor struct {
	re    *regexp.Regexp
	forms []form // empty: no key, nothing to blank
	// plainForms: no form contains '%' or '\', so an escape in the text is never a form's own character
	// and mayHold may count it as one character of a match; otherwise it counts escapes byte by byte.
	plainForms bool
}

// form is one form of the key, as mayHold sees it: the bytes it is made of and its length in characters.
type form struct {
	in [256]bool
	n  int
}

func newRedactor(apiKey string) *redactor {
	r := &redactor{plainForms: true}
	var alts []string
	for _, s := range []string{apiKey, base64.StdEncoding.EncodeToString([]byte(apiKey + ":")),
		base64.StdEncoding.EncodeToString([]byte(apiKey))} {
		if strings.TrimSpace(s) == "" {
			continue
		}
		alts = append(alts, escapedForms(s))
		f := form{n: utf8.RuneCountInString(s)}
		for i := 0; i < len(s); i++ {
			f.in[s[i]] = true
		}
		r.forms = append(r.forms, f)
		r.plainForms = r.plainForms && !strings.ContainsAny(s, `%\`)
	}
	if !r.plainForms {
		// Escapes cannot be told from the key's own characters: count every byte of one as a byte of a
		// match (a match of n characters is then a run of at least n such bytes).
		for i := range r.forms {
			for _, c := range []byte(`%\u/0123456789abcdefABCDEF`) {
				r.forms[i].in[c] = true
			}
		}
	}
	if len(alts) > 0 {
		r.re = regexp.MustCompile(strings.Join(alts, "|"))
	}
	return r
}

// mayHold reports whether s may hold a form of the key; false means it surely holds none. A match of a form
// is that many characters in a row, each one of the form's bytes (a multi-byte character counts once per
// byte, which only lengthens a run) or an escape (%XX, \uXXXX or \/), so text without such a run for any
// form holds none. URLs full of base64 cursors and %-escaped timestamps pass without the pattern.
func mayHold[T string | []byte](r *redactor, s T) bool {
	for i := range r.forms {
		if runOf(&r.forms[i], r.plainForms, s) {
			return true
		}
	}
	return false
}

// runOf reports whether s has a run of at least f.n characters a match of f can consist of; escapes count
// as characters only when escapes is set. units[i%7] is the most characters a run ending just before s[i]
// can have, taking each escape ending there as one character or its bytes one by one, whichever is more
// (so a '%' before the key's own hex digits cannot hide a match).
func runOf[T string | []byte](f *form, escapes bool, s T) bool {
	var units [7]int
	for i := 1; i <= len(s); i++ {
		best := 0
		if f.in[s[i-1]] {
			best = units[(i-1)%7] + 1
		}
		if escapes {
			if w := escapeEndingAt(s, i); w > 0 {
				best = max(best, units[(i-w)%7]+1)
			}
		}
		if units[i%7] = best; best >= f.n {
			return true
		}
	}
	return false
}

// escapeEndingAt is the length of the escape (%XX, \/ or \uXXXX) ending just before s[i], or 0.
func escapeEndingAt[T string | []byte](s T, i int) int {
	switch {
	case i >= 3 && s[i-3] == '%' && isHexByte(s[i-2]) && isHexByte(s[i-1]):
		return 3
	case i >= 2 && s[i-2] == '\\' && s[i-1] == '/':
		return 2
	case i >= 6 && s[i-6] == '\\' && s[i-5] == 'u' && isHexByte(s[i-4]) && isHexByte(s[i-3]) && isHexByte(s[i-2]) && isHexByte(s[i-1]):
		return 6
	}
	return 0
}

func isHexByte(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// escapedForms is a pattern matching s with each character in any of its escaped forms.
func escapedForms(s string) string {
	var b strings.Builder
	for _, r := range s {
		b.WriteString("(?:")
		b.WriteString(regexp.QuoteMeta(string(r)))
		if r < utf8.RuneSelf {
			fmt.Fprintf(&b, `|%%(?i:%02x)`, r)
		}
		if r <= 0xFFFF {
			fmt.Fprintf(&b, `|\\u(?i:%04x)`, r)
		}
		if r == '/' {
			b.WriteString(`|\\/`)
		}
		b.WriteString(")")
	}
	return b.String()
}

// bytes returns b with every form of the key replaced.
func (r *redactor) bytes(b []byte) []byte {
	if !mayHold(r, b) {
		return b
	}
	return r.re.ReplaceAllLiteral(b, []byte(redacted))
}

// string returns s with every form of the key replaced.
func (r *redactor) string(s string) string {
	if !mayHold(r, s) {
		return s
	}
	return r.re.ReplaceAllLiteralString(s, redacted)
}

// clean returns untrusted text fit for an error or a log line: the key blanked (before and after
// shortening, so dropping an unprintable character cannot rejoin one) and one printable line of at most n
// runes (see excerpt.Of).
func (r *redactor) clean(s string, n int) string { return r.string(excerpt.Of(r.string(s), n)) }

// link returns a request URI or a link a server sent, fit to log or to put in an error: the key blanked in
// any form, user info dropped, and the value of every query parameter whose name looks like a credential
// (key, token, secret, password, auth, signature, session) replaced. Other parameters keep their order and
// encoding.
func (r *redactor) link(s string) string {
	s = r.string(s)
	if u, err := url.Parse(s); err == nil && u.User != nil {
		u.User = nil
		s = u.String()
	}
	path, query, ok := strings.Cut(s, "?")
	if !ok {
		return s
	}
	parts := strings.Split(query, "&")
	for i, p := range parts {
		name, _, _ := strings.Cut(p, "=")
		if n, err := url.QueryUnescape(name); err == nil && credentialParam(n) {
			parts[i] = name + "=" + redacted
		}
	}
	return path + "?" + strings.Join(parts, "&")
}

// credentialParam reports whether a query parameter's name looks like it carries a credential.
func credentialParam(name string) bool {
	n := strings.ToLower(name)
	for _, w := range []string{"key", "token", "secret", "passw", "auth", "signature", "session", "credential"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	return n == "sig" || n == "pwd"
}
