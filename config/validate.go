package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v5"

	"github.com/tap-recurly/tap-recurly/internal/excerpt"
)

// settingsSchema is JSONSchema compiled once with jsonschema/v5: the schema
// --about publishes is the one every config file is checked against.
var settingsSchema = sync.OnceValue(func() *jsonschema.Schema {
	doc, err := json.Marshal(JSONSchema())
	if err != nil {
		panic(err) // JSONSchema is built from plain values
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat = true
	const url = "mem:///tap-recurly-config.json"
	if err := c.AddResource(url, bytes.NewReader(doc)); err != nil {
		panic(err)
	}
	return c.MustCompile(url) // a test compiles it too
})

// schemaProblems validates a config document (already known to be a JSON
// object) against the settings schema and returns the settings it fails,
// each with the first keyword that failed ("required", "type", "maximum",
// "pattern", "format", ...).
func schemaProblems(data []byte, raw map[string]json.RawMessage) map[string]string {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var doc any
	if dec.Decode(&doc) != nil {
		return nil // decodeObject has refused it already
	}
	var ve *jsonschema.ValidationError
	if !errors.As(settingsSchema().Validate(doc), &ve) {
		return nil
	}
	failed := map[string]string{}
	var walk func(*jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) > 0 {
			for _, c := range e.Causes {
				walk(c)
			}
			return
		}
		kw := e.KeywordLocation[strings.LastIndexByte(e.KeywordLocation, '/')+1:]
		if key := strings.TrimPrefix(e.InstanceLocation, "/"); key != "" {
			key, _, _ = strings.Cut(key, "/")
			key = strings.NewReplacer("~1", "/", "~0", "~").Replace(key)
			if _, seen := failed[key]; !seen {
				failed[key] = kw
			}
			return
		}
		if kw == "required" {
			for _, s := range Settings {
				if _, present := raw[s.Name]; s.Required && !present {
					failed[s.Name] = kw
				}
			}
		}
	}
	walk(ve)
	return failed
}

// explain words what the schema refused in the setting's value v (nil when
// absent) as one line, in the same words for every way of saying it.
func (s Setting) explain(keyword string, v json.RawMessage) string {
	kind := jsonKind(v)
	text := strings.TrimSpace(string(v))
	var str string
	isString := json.Unmarshal(v, &str) == nil && kind == "a string"
	switch {
	case v == nil || kind == "null":
		return "required"
	case isString && strings.TrimSpace(str) == "" && s.Required:
		return "required, got an empty string"
	case s.Kind == KindInteger && (keyword == "minimum" || keyword == "maximum"):
		return fmt.Sprintf("must be between %d and %d, got %s", s.Min, s.Max, text)
	case s.Kind == KindInteger && (kind == "a number" || isString):
		return "must be an integer, got " + excerpt.Of(text, 40)
	case s.Kind == KindInteger:
		return "must be an integer, got " + kind
	case !isString:
		return "must be a string, got " + kind
	}
	if err := s.setStr(&Config{}, strings.TrimSpace(str)); err != nil {
		return err.Error() // the setter's own words for a value it refuses too
	}
	return fmt.Sprintf("%s does not match the settings schema (%s)", excerpt.Of(text, 40), keyword)
}
