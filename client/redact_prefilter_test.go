package client

import (
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestRedactorPrefilter: the cheap check that lets most text through
// without running the pattern never lets a form of the key through: each
// form, escaped any way the pattern knows, inside text of every kind, is
// blanked; text without a long enough run of key-like bytes is returned as
// is (the same string).
func TestRedactorPrefilter(t *testing.T) {
	const key = "0123456789abcdef0123456789abcdef" // Recurly's keys are 32 hex characters
	r := newRedactor(key)
	b64 := base64.StdEncoding.EncodeToString([]byte(key + ":"))
	percent := func(s string) string {
		var b strings.Builder
		for _, c := range s {
			fmt.Fprintf(&b, "%%%02X", c)
		}
		return b.String()
	}
	uesc := func(s string) string {
		var b strings.Builder
		for _, c := range s {
			fmt.Fprintf(&b, `\u%04x`, c)
		}
		return b.String()
	}
	mixed := key[:10] + percent(key[10:20]) + uesc(key[20:])
	for _, form := range []string{key, b64, strings.ReplaceAll(b64, "/", `\/`), percent(key), uesc(key), uesc(b64), mixed, "Basic " + b64} {
		for _, text := range []string{form, "x" + form + "y", "/sites/s/accounts?cursor=" + form + "&limit=200", `{"message":"` + form + `"}`, "%" + form, `\` + form} {
			if got := r.string(text); strings.Contains(got, key) || strings.Contains(got, b64) || got == text {
				t.Errorf("string(%q) = %q: the key is not blanked", text, got)
			}
			if got := string(r.bytes([]byte(text))); got == text {
				t.Errorf("bytes(%q) unchanged", text)
			}
		}
	}
	for _, text := range []string{
		"/sites/subdomain-demo/accounts?begin_time=2019-01-01T00%3A00%3A00Z&end_time=2026-11-29T08%3A00%3A00Z&limit=200&order=asc&sort=updated_at",
		`{"error":{"type":"not_found","message":"Couldn't find Account with code = x"}}`,
		"",
	} {
		if mayHold(r, text) {
			t.Errorf("mayHold(%q) = true: the pattern would run for nothing", text)
		}
		if got := r.string(text); got != text {
			t.Errorf("string(%q) = %q, want it unchanged", text, got)
		}
	}
}

// TestRedactorPrefilterRandom: mayHold is true for any text holding a form of the key with any mix of
// escapes, inside random text made of the bytes that could confuse the count (escape characters, hex
// digits, base64 characters).
func TestRedactorPrefilterRandom(t *testing.T) {
	for _, key := range []string{"5f2c9a1e7b3d4068a9c1e2f3b4d5a6c7", `odd%key\with/escapes-42`} {
		t.Run(key, func(t *testing.T) { prefilterCatchesEveryForm(t, key) })
	}
}

func prefilterCatchesEveryForm(t *testing.T, key string) {
	r := newRedactor(key)
	forms := []string{key, base64.StdEncoding.EncodeToString([]byte(key + ":")), base64.StdEncoding.EncodeToString([]byte(key))}
	rng := rand.New(rand.NewPCG(1, 2))
	junk := func() string {
		const alphabet = `%\u/0123456789abcdefABCDEF+=&?-:xyz`
		b := make([]byte, rng.IntN(12))
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		return string(b)
	}
	for range 5000 {
		f := forms[rng.IntN(len(forms))]
		var b strings.Builder
		b.WriteString(junk())
		for _, c := range f {
			switch rng.IntN(4) {
			case 0:
				fmt.Fprintf(&b, "%%%02X", c)
			case 1:
				fmt.Fprintf(&b, `\u%04x`, c)
			case 2:
				if c == '/' {
					b.WriteString(`\/`)
					continue
				}
				fallthrough
			default:
				b.WriteRune(c)
			}
		}
		b.WriteString(junk())
		text := b.String()
		if !mayHold(r, text) {
			t.Fatalf("mayHold(%q) = false, but it holds a form of the key", text)
		}
		if got := r.string(text); got == text {
			t.Fatalf("string(%q) left it unchanged", text)
		}
	}
	link := "/sites/subdomain-demo/accounts?cursor=AAAAAGWgcm0LsQPP3UBOoJmQLro&limit=200&order=asc&sort=updated_at&begin_time=2019-01-01T00%3A00%3A00Z"
	if r.plainForms && mayHold(r, link) {
		t.Errorf("mayHold(%q) = true: a cursor link would run the pattern for nothing", link)
	}
}
