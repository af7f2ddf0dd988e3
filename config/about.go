package config

import (
	"fmt"
	"strings"
)

// JSONSchema describes the config file as a JSON Schema, for --about.
// Secret settings are marked writeOnly and secret.
func JSONSchema() map[string]any {
	props := map[string]any{}
	var required []string
	for _, s := range Settings {
		p := map[string]any{"description": s.Description}
		switch s.Kind {
		case KindInteger:
			p["type"] = []string{"integer", "string"}
			if s.Min != 0 || s.Max != 0 {
				p["minimum"], p["maximum"] = s.Min, s.Max
			}
		case KindDate:
			p["type"] = "string"
			p["format"] = "date-time"
		default:
			p["type"] = "string"
		}
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
