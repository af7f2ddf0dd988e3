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
// before decoding nor the decoded text after it can show the key. It runs only on text bound for an error
// or a log line that is written (see recordAttempt), so one regexp is cheap enough.
type redactor struct {
	re *regexp.Regexp // nil: no key, nothing to blank
}

func newRedactor(apiKey string) *redactor {
	var alts []string
	for _, s := range []string{apiKey, base64.StdEncoding.EncodeToString([]byte(apiKey + ":")),
		base64.StdEncoding.EncodeToString([]byte(apiKey))} {
		if strings.TrimSpace(s) != "" {
			alts = append(alts, escapedForms(s))
		}
	}
	r := &redactor{}
	if len(alts) > 0 {
		r.re = regexp.MustCompile(strings.Join(alts, "|"))
	}
	return r
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
	if r.re == nil {
		return b
	}
	return r.re.ReplaceAllLiteral(b, []byte(redacted))
}

// string returns s with every form of the key replaced.
func (r *redactor) string(s string) string {
	if r.re == nil {
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
