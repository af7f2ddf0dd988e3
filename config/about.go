package config

import (
	"fmt"
	"strings"
)

// JSONSchema describes the config file as a JSON Schema (draft 7), for
// --about; Parse checks every config file against this same schema (see
// validate.go). Secret settings are marked writeOnly and secret. null
// means unset for an optional setting.
func JSONSchema() map[string]any {
	props := map[string]any{}
	var required []string
	for _, s := range Settings {
		p := map[string]any{"description": s.Description}
		types := []string{"string"}
		switch s.Kind {
		case KindInteger:
			// Stitch and Meltano may pass numbers as strings: "30".
			types = []string{"integer", "string"}
			p["pattern"] = `^\s*-?[0-9]+\s*$`
			if s.Min != 0 || s.Max != 0 {
				p["minimum"], p["maximum"] = s.Min, s.Max
			}
		case KindDate:
			p["anyOf"] = []any{map[string]any{"format": "date-time"}, map[string]any{"format": "date"}}
		}
		if s.Pattern != "" {
			p["pattern"] = s.Pattern
		}
		var enum []any
		for _, v := range s.Enum {
			enum = append(enum, v)
		}
		if !s.Required {
			types = append(types, "null")
			if enum != nil {
				enum = append(enum, nil) // null: unset
			}
		}
		if enum != nil {
			p["enum"] = enum
		}
		p["type"] = types
		if s.Secret {
			p["writeOnly"] = true
			p["secret"] = true
		}
		if s.Default != nil {
			p["default"] = s.Default
		}
		props[s.Name] = p
		if s.Required {
			required = append(required, s.Name)
		}
	}
	return map[string]any{
		"$schema":    "http://json-schema.org/draft-07/schema#",
		"type":       "object",
		"properties": props,
		"required":   required,
	}
}

// MarkdownTable renders Settings as the Markdown table used by --about
// --format markdown and the README's config reference.
func MarkdownTable() string {
	var b strings.Builder
	b.WriteString("| setting | kind | required | default | description |\n")
	b.WriteString("|---|---|---|---|---|\n")
	for _, s := range Settings {
		req, def := "no", ""
		if s.Required {
			req = "yes"
		}
		if s.Default != nil {
			def = fmt.Sprintf("`%v`", s.Default)
		}
		kind := string(s.Kind)
		if s.Secret {
			kind += " (secret)"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s |\n", s.Name, kind, req, def, s.Description)
	}
	return b.String()
}
