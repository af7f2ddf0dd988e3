package streams

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tap-recurly/tap-recurly/internal/jsonscan"
)

// Derive says how a table's rows come from a source record (the listed
// record, or the record it embeds under Stream.Embedded): one flat row from
// the record, or one row per element of an array in it. A stream whose
// Derive is nil writes the record itself, untouched.
type Derive struct {
	// Unpack is the dotted path of an array in the record: one row per
	// element (none when it is null, absent or empty). An object there
	// gives one row. "" gives one row from the record itself.
	Unpack string
	// Else, when Unpack gives no element, is the dotted path of an object
	// that then gives the one row ("" : no row).
	Else string
	// Columns are the row's columns, in order; a row holds exactly these.
	Columns []Column
}

// Column is one column of a derived row and where its value comes from.
type Column struct {
	Name string
	// From is where the value is:
	//   "a.b"   the dotted path in the element (in the record when nothing
	//           is unpacked);
	//   "^a.b"  the dotted path in the record, beside the unpacked element;
	//   "."     the element itself (arrays of strings);
	//   Synced  the time the row was extracted (RFC 3339, UTC);
	//   ParentID, ParentUpdatedAt  the id and updated_at of the parent
	//           record whose child list the record came from (per-parent
	//           streams; null for others);
	//   ""      nothing: the API does not supply it, the value is null.
	// An absent field gives null.
	From string
	// Value, when set, computes the value instead of From, from the
	// record and the element.
	Value func(record, elem any) any
	// Type is the column's JSON Schema type when no spec type describes it
	// (From "" or Value set): "string", "date-time", "number", "integer",
	// "boolean" or "object".
	Type string
}

// Special values of Column.From.
const (
	Synced          = "@synced"
	ParentID        = "@parent.id"
	ParentUpdatedAt = "@parent.updated_at"
)

// rowSource is what a derived row's values are read from.
type rowSource struct {
	record any
	parent *parentRef // the parent of a per-parent record, else nil
	synced string     // the extraction time, formatted
}

// Apply derives the rows of one source record extracted at synced, as the
// sync does (without a parent: ParentID and ParentUpdatedAt columns are
// null).
func (d *Derive) Apply(record json.RawMessage, synced time.Time) ([]json.RawMessage, error) {
	tree, err := decodeRecord(record)
	if err != nil {
		return nil, err
	}
	return d.rows(rowSource{record: tree, synced: syncedText(synced)})
}

// rows derives the rows of a record (already decoded with UseNumber).
func (d *Derive) rows(src rowSource) ([]json.RawMessage, error) {
	if d.Unpack == "" {
		row, err := d.row(src, src.record)
		return []json.RawMessage{row}, err
	}
	var elems []any
	switch v := lookup(src.record, d.Unpack).(type) {
	case []any:
		elems = v
	case map[string]any:
		elems = []any{v}
	}
	if len(elems) == 0 && d.Else != "" {
		if v, ok := lookup(src.record, d.Else).(map[string]any); ok {
			elems = []any{v}
		}
	}
	out := make([]json.RawMessage, 0, len(elems))
	for _, e := range elems {
		row, err := d.row(src, e)
		if err != nil {
			return nil, err
		}
		out = append(out, row)
	}
	return out, nil
}

// row writes one row as a JSON object, its columns in order.
func (d *Derive) row(src rowSource, elem any) (json.RawMessage, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	b.WriteByte('{')
	for i, c := range d.Columns {
		if i > 0 {
			b.WriteByte(',')
		}
		if err := enc.Encode(c.Name); err != nil {
			return nil, err
		}
		b.Truncate(b.Len() - 1) // Encode's newline
		b.WriteByte(':')
		if err := enc.Encode(c.value(src, elem)); err != nil {
			return nil, fmt.Errorf("column %s: %w", c.Name, err)
		}
		b.Truncate(b.Len() - 1)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// value is the column's value in a row.
func (c Column) value(src rowSource, elem any) any {
	switch {
	case c.Value != nil:
		return c.Value(src.record, elem)
	case c.From == "":
		return nil
	case c.From == Synced:
		return src.synced
	case c.From == ParentID || c.From == ParentUpdatedAt:
		return src.parentValue(c.From)
	case c.From == ".":
		return elem
	case strings.HasPrefix(c.From, "^"):
		return lookup(src.record, c.From[1:])
	}
	return lookup(elem, c.From)
}

// parentValue is the parent's id or updated_at (nil when there is none).
func (src rowSource) parentValue(from string) any {
	if src.parent == nil {
		return nil
	}
	if from == ParentID {
		return src.parent.id
	}
	if at, ok := jsonscan.String(src.parent.updatedAt); ok {
		return at
	}
	return nil
}

// lookup is the value at a dotted path in v (nil when any step is missing
// or not an object).
func lookup(v any, path string) any {
	for path != "" {
		obj, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		name, rest, _ := strings.Cut(path, ".")
		v, path = obj[name], rest
	}
	return v
}

// decodeRecord decodes a record for deriving rows, keeping numbers as
// written.
func decodeRecord(raw json.RawMessage) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, ok := v.(map[string]any); !ok {
		return nil, errors.New("not a JSON object")
	}
	return v, nil
}

// syncedText is the _fivetran_synced value of rows extracted at t.
func syncedText(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }
