package singer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v5"
)

// CatalogShape is the JSON Schema (draft 7) of the catalog file
// ParseCatalog reads: the shape every catalog is validated against, with
// jsonschema/v5, before it is decoded. What a schema cannot say (a
// tap_stream_id or breadcrumb given twice) ParseCatalog checks by hand.
const CatalogShape = `{
  "type": "object",
  "required": ["streams"],
  "properties": {
    "streams": {"type": "array", "items": {
      "type": "object",
      "required": ["tap_stream_id", "schema"],
      "properties": {
        "tap_stream_id": {"type": "string", "minLength": 1},
        "stream": {"type": ["string", "null"]},
        "schema": {"type": "object"},
        "key_properties": {"type": ["array", "null"], "items": {"type": "string"}},
        "replication_key": {"type": ["string", "null"]},
        "replication_method": {"type": ["string", "null"]},
        "description": {"type": ["string", "null"]},
        "selected": {"type": ["boolean", "null"]},
        "metadata": {"type": ["array", "null"], "items": {
          "type": "object",
          "required": ["breadcrumb", "metadata"],
          "properties": {
            "breadcrumb": {"type": "array", "items": {"type": "string"}},
            "metadata": {"type": "object", "properties": {
              "inclusion": {"type": ["string", "null"], "enum": ["automatic", "available", "unsupported", null]},
              "selected": {"type": ["boolean", "null"]},
              "selected-by-default": {"type": ["boolean", "null"]},
              "table-key-properties": {"type": ["array", "null"], "items": {"type": "string"}},
              "valid-replication-keys": {"type": ["array", "null"], "items": {"type": "string"}},
              "forced-replication-method": {"type": ["string", "null"]},
              "replication-method": {"type": ["string", "null"]},
              "replication-key": {"type": ["string", "null"]}
            }}
          }
        }}
      }
    }}
  }
}`

// catalogShape is CatalogShape compiled once, and decoded for wording its
// errors.
var catalogShape = sync.OnceValues(func() (*jsonschema.Schema, map[string]any) {
	c := jsonschema.NewCompiler()
	c.Draft = jsonschema.Draft7
	if err := c.AddResource("mem:///catalog.json", strings.NewReader(CatalogShape)); err != nil {
		panic(err) // a constant; TestCatalogShape compiles it
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(CatalogShape), &doc); err != nil {
		panic(err)
	}
	return c.MustCompile("mem:///catalog.json"), doc
})

// shapeProblem is one key of a catalog the shape refuses.
type shapeProblem struct {
	path []string // JSON pointer tokens of the key
	msg  string
}

// checkShape validates data, valid JSON, against CatalogShape and returns
// nil or a *CatalogError for the first failing key (in document order)
// carrying the others, one key each.
func (p catalogParser) checkShape(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var doc any
	if dec.Decode(&doc) != nil {
		return nil // not valid JSON: refused before
	}
	schema, shape := catalogShape()
	var ve *jsonschema.ValidationError
	if !errors.As(schema.Validate(doc), &ve) {
		return nil
	}
	found := map[string]shapeProblem{}
	collectShape(ve, doc, shape, found)
	problems := make([]shapeProblem, 0, len(found))
	for _, pr := range found {
		problems = append(problems, pr)
	}
	slices.SortFunc(problems, func(a, b shapeProblem) int { return comparePath(a.path, b.path) })
	first := &CatalogError{File: p.file, Key: keyOf(problems[0].path), Msg: problems[0].msg}
	for _, pr := range problems[1:] {
		first.Others = append(first.Others, &CatalogError{File: p.file, Key: keyOf(pr.path), Msg: pr.msg})
	}
	return first
}

// collectShape words each leaf failure of e as one problem per key (a
// type error wins over others at the same key).
func collectShape(e *jsonschema.ValidationError, doc any, shape map[string]any, found map[string]shapeProblem) {
	for _, c := range e.Causes {
		collectShape(c, doc, shape, found)
	}
	if len(e.Causes) > 0 {
		return
	}
	kwPath := pointerTokens(e.KeywordLocation)
	at := pointerTokens(e.InstanceLocation)
	node, _ := lookup(shape, kwPath[:len(kwPath)-1]).(map[string]any)
	value := lookup(doc, at)
	var msgs []shapeProblem
	switch kwPath[len(kwPath)-1] {
	case "required":
		obj, _ := value.(map[string]any)
		for _, name := range node["required"].([]any) {
			if _, ok := obj[name.(string)]; !ok {
				msgs = append(msgs, shapeProblem{append(slices.Clip(at), name.(string)), "missing"})
			}
		}
	case "minLength":
		msgs = append(msgs, shapeProblem{at, "missing"})
	case "enum":
		msgs = append(msgs, shapeProblem{at, fmt.Sprintf("%q is not one of automatic, available, unsupported", value)})
	case "type":
		if len(kwPath) >= 3 && kwPath[len(kwPath)-2] == "items" && node["type"] == "string" {
			// an item of an array of strings: the array is what is wrong
			msgs = append(msgs, shapeProblem{at[:len(at)-1], "not an array of strings (got array)"})
			break
		}
		msgs = append(msgs, shapeProblem{at, fmt.Sprintf("not %s (got %s)", expected(node), goKind(value))})
	default:
		msgs = append(msgs, shapeProblem{at, e.Message})
	}
	for _, m := range msgs {
		k := strings.Join(m.path, "/")
		if prev, ok := found[k]; !ok || strings.HasPrefix(m.msg, "not ") && !strings.HasPrefix(prev.msg, "not ") {
			found[k] = m
		}
	}
}

// expected names the type a schema node wants, for "not a string".
func expected(node map[string]any) string {
	t := node["type"]
	if list, ok := t.([]any); ok {
		t = list[0]
	}
	if items, ok := node["items"].(map[string]any); ok && t == "array" && items["type"] == "string" {
		return "an array of strings"
	}
	switch t {
	case "object", "array":
		return "an " + t.(string)
	}
	return fmt.Sprintf("a %v", t)
}

// goKind names the JSON kind of a decoded value.
func goKind(v any) string {
	switch v.(type) {
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case string:
		return "string"
	case bool:
		return "boolean"
	case nil:
		return "null"
	}
	return "number"
}

// lookup follows JSON pointer tokens into a decoded document.
func lookup(v any, tokens []string) any {
	for _, t := range tokens {
		switch c := v.(type) {
		case map[string]any:
			v = c[t]
		case []any:
			i, err := strconv.Atoi(t)
			if err != nil || i < 0 || i >= len(c) {
				return nil
			}
			v = c[i]
		default:
			return nil
		}
	}
	return v
}

// pointerTokens splits a JSON pointer ("" or "/a/0") into its tokens.
func pointerTokens(ptr string) []string {
	if ptr == "" {
		return nil
	}
	tokens := strings.Split(strings.TrimPrefix(ptr, "/"), "/")
	for i, t := range tokens {
		tokens[i] = strings.NewReplacer("~1", "/", "~0", "~").Replace(t)
	}
	return tokens
}

// keyOf writes a path as ParseCatalog's errors name keys:
// streams[3].metadata[0].breadcrumb.
func keyOf(path []string) string {
	var b strings.Builder
	for _, t := range path {
		if _, err := strconv.Atoi(t); err == nil {
			b.WriteString("[" + t + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(t)
	}
	return b.String()
}

// comparePath orders paths as the keys appear in a document: indexes by
// number.
func comparePath(a, b []string) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] == b[i] {
			continue
		}
		x, errX := strconv.Atoi(a[i])
		y, errY := strconv.Atoi(b[i])
		if errX == nil && errY == nil {
			return x - y
		}
		return strings.Compare(a[i], b[i])
	}
	return len(a) - len(b)
}
