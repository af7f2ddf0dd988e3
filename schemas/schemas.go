// Package schemas holds the JSON Schema of each Singer stream's records, one
// file per stream (<stream>.json), embedded into the binary.
//
// The files are generated from Recurly's v2018-08-09 OpenAPI spec by
// ./internal/gen (run `go generate ./schemas`); tests fail when a file drifts
// from the spec or from the generator's output. Never edit them by hand.
//
// Choices made for every schema:
//   - Only keywords shared by JSON Schema draft 4 and draft 7 are used and
//     there is no "$schema" member, so draft-4 Singer tools (singer-check-tap)
//     and draft-7 validators read the same thing.
//   - The top level is "additionalProperties": true: Recurly adds fields over
//     time, and a field the spec does not list must not fail a record.
//     Nested objects leave additionalProperties unset, which also allows them.
//   - The primary key is a non-null string listed in "required"; every other
//     value, at any depth and including array items, also accepts null.
//   - Timestamps carry "format": "date-time" (RFC 3339). No other format,
//     enum, length or range is enforced, so a new enum value or an empty
//     string never fails a record; known enum values appear in "description".
//   - Objects the spec leaves open (gateway_response_values,
//     risk_rules_triggered) are {"type":["null","object"]} with any members.
//   - coupons.plans accepts an array or a string: v2018-08-09 sends "all".
package schemas

//go:generate go run ./internal/gen

import (
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

//go:embed *.json
var files embed.FS

// ErrUnknownStream is returned (wrapped) by Get for a name with no schema.
var ErrUnknownStream = errors.New("schemas: unknown stream")

// Get returns the JSON Schema of the named stream's records. The returned
// bytes are a fresh copy the caller may keep or modify. A name without a
// schema file gives an error wrapping ErrUnknownStream.
func Get(stream string) (json.RawMessage, error) {
	if stream == "" || strings.ContainsAny(stream, `/\.`) {
		return nil, fmt.Errorf("%w: %q", ErrUnknownStream, stream)
	}
	data, err := files.ReadFile(stream + ".json")
	if err != nil {
		return nil, fmt.Errorf("%w: %q", ErrUnknownStream, stream)
	}
	return json.RawMessage(data), nil
}

// Streams returns the names of the streams that have a schema, sorted.
func Streams() []string {
	entries, _ := files.ReadDir(".") // the embedded root always reads
	var names []string
	for _, e := range entries {
		names = append(names, strings.TrimSuffix(e.Name(), ".json"))
	}
	return names
}
