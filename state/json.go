package state

import (
	"bytes"
	"encoding/json"
	"slices"
)

// MarshalJSON writes s as encoding/json writes the struct (keys sorted,
// nil maps as null), without reflection: a STATE line goes out after
// every page.
func (s State) MarshalJSON() ([]byte, error) { return s.appendJSON(make([]byte, 0, 1024)), nil }

// appendJSON appends s's JSON (see MarshalJSON) to b.
func (s State) appendJSON(b []byte) []byte {
	b = append(b, `{"bookmarks":`...)
	if s.Bookmarks == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '{')
		for i, stream := range sortedKeys(s.Bookmarks) {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, stream)
			b = append(b, ':')
			b = appendStrings(b, s.Bookmarks[stream])
		}
		b = append(b, '}')
	}
	b = append(b, `,"currently_syncing":`...)
	if s.CurrentlySyncing == nil {
		return append(b, "null}"...)
	}
	return append(appendString(b, *s.CurrentlySyncing), '}')
}

// appendStrings appends a map of strings as a JSON object, keys sorted.
func appendStrings(b []byte, m map[string]string) []byte {
	if m == nil {
		return append(b, "null"...)
	}
	b = append(b, '{')
	for i, k := range sortedKeys(m) {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(appendString(b, k), ':')
		b = appendString(b, m[k])
	}
	return append(b, '}')
}

// sortedKeys are m's keys in increasing order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// appendString appends s as a JSON string. Printable ASCII other than '"'
// and '\' (stream names, keys, RFC 3339 times) goes as it is; anything else
// is left to encoding/json, with HTML characters unescaped as the Singer
// writer writes them (an encoder that escapes them does so on our output).
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			_ = enc.Encode(s) // a string always encodes
			return append(b, bytes.TrimSuffix(buf.Bytes(), []byte("\n"))...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
