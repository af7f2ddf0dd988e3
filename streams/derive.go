package streams

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
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

	once sync.Once
	plan *derivePlan
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
	// Value, when set, computes the value instead of From, from the raw
	// JSON of the record and of the element; nil gives null.
	Value func(record, elem []byte) any
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

// Rows are derived from the record's raw JSON, without decoding it: each
// value is copied byte for byte from where the column's path finds it, so
// numbers and strings stay exactly as the API wrote them. One scan of the
// record (and of each unpacked element) finds every top-level field the
// columns read; nested paths then scan only the nested object.

// rowSource is what a derived row's values are read from.
type rowSource struct {
	record []byte
	parent *parentRef // the parent of a per-parent record, else nil
	synced string     // the extraction time, formatted
}

// derivePlan is a Derive worked out once: the top-level fields to read and
// where each column finds its value among them.
type derivePlan struct {
	unpack, orElse []string // path segments
	recKeys        []string // top-level fields of the record ("^" columns; every path when nothing is unpacked)
	elemKeys       []string // top-level fields of each unpacked element
	cols           []colPlan
}

// colPlan is one column of a derivePlan.
type colPlan struct {
	prefix []byte // `"name":` (with a leading comma after the first)
	kind   colKind
	key    int      // index in recKeys or elemKeys
	rest   []string // the path below that field
	c      Column
}

type colKind int

const (
	fromNull colKind = iota
	fromRecord
	fromElem
	fromSelf
	fromSynced
	fromParentID
	fromParentAt
	fromValue
)

// Apply derives the rows of one source record extracted at synced, as the
// sync does (without a parent: ParentID and ParentUpdatedAt columns are
// null).
func (d *Derive) Apply(record json.RawMessage, synced time.Time) ([]json.RawMessage, error) {
	return d.rows(rowSource{record: record, synced: syncedText(synced)})
}

func (d *Derive) planned() *derivePlan {
	d.once.Do(func() {
		p := &derivePlan{unpack: segments(d.Unpack), orElse: segments(d.Else)}
		for i, c := range d.Columns {
			cp := colPlan{c: c, prefix: []byte(fmt.Sprintf("%q:", c.Name))}
			if i > 0 {
				cp.prefix = append([]byte{','}, cp.prefix...)
			}
			switch {
			case c.Value != nil:
				cp.kind = fromValue
			case c.From == "":
				cp.kind = fromNull
			case c.From == Synced:
				cp.kind = fromSynced
			case c.From == ParentID:
				cp.kind = fromParentID
			case c.From == ParentUpdatedAt:
				cp.kind = fromParentAt
			case c.From == ".":
				cp.kind = fromSelf
			case strings.HasPrefix(c.From, "^") || d.Unpack == "":
				path := segments(strings.TrimPrefix(c.From, "^"))
				cp.kind, cp.key, cp.rest = fromRecord, keyIndex(&p.recKeys, path[0]), path[1:]
			default:
				path := segments(c.From)
				cp.kind, cp.key, cp.rest = fromElem, keyIndex(&p.elemKeys, path[0]), path[1:]
			}
			p.cols = append(p.cols, cp)
		}
		d.plan = p
	})
	return d.plan
}

func segments(path string) []string {
	if path == "" {
		return nil
	}
	return strings.Split(path, ".")
}

// keyIndex is the index of name in *keys, added when missing.
func keyIndex(keys *[]string, name string) int {
	if i := slices.Index(*keys, name); i >= 0 {
		return i
	}
	*keys = append(*keys, name)
	return len(*keys) - 1
}

// rows derives the rows of a record.
func (d *Derive) rows(src rowSource) ([]json.RawMessage, error) {
	p := d.planned()
	rec := make([][]byte, len(p.recKeys))
	if err := jsonscan.Fields(src.record, p.recKeys, rec); err != nil {
		return nil, fmt.Errorf("not a JSON object: %w", err)
	}
	if p.unpack == nil {
		row, err := p.row(src, rec, nil, nil)
		return []json.RawMessage{row}, err
	}
	var elems [][]byte
	collect := func(v []byte) {
		switch kind(v) {
		case '[':
			elems = elements(v)
		case '{':
			elems = [][]byte{v}
		}
	}
	collect(at(src.record, p.unpack))
	if len(elems) == 0 && p.orElse != nil {
		if v := at(src.record, p.orElse); kind(v) == '{' {
			elems = [][]byte{v}
		}
	}
	out := make([]json.RawMessage, 0, len(elems))
	vals := make([][]byte, len(p.elemKeys))
	for _, e := range elems {
		if kind(e) == '{' {
			if err := jsonscan.Fields(e, p.elemKeys, vals); err != nil {
				return nil, fmt.Errorf("%s: %w", d.Unpack, err)
			}
		} else {
			clear(vals)
		}
		row, err := p.row(src, rec, e, vals)
		if err != nil {
			return nil, err
		}
		out = append(out, row)
	}
	return out, nil
}

// row writes one row as a JSON object, its columns in order.
func (p *derivePlan) row(src rowSource, rec [][]byte, elem []byte, vals [][]byte) (json.RawMessage, error) {
	b := make([]byte, 0, 64*len(p.cols))
	b = append(b, '{')
	for _, c := range p.cols {
		b = append(b, c.prefix...)
		var v []byte
		switch c.kind {
		case fromRecord:
			v = at(rec[c.key], c.rest)
		case fromElem:
			v = at(vals[c.key], c.rest)
		case fromSelf:
			v = elem
		case fromSynced:
			v = []byte(`"` + src.synced + `"`)
		case fromParentID, fromParentAt:
			v = src.parentValue(c.kind)
		case fromValue:
			if x := c.c.Value(src.record, elem); x != nil {
				enc, err := json.Marshal(x)
				if err != nil {
					return nil, fmt.Errorf("column %s: %w", c.c.Name, err)
				}
				v = enc
			}
		}
		if len(v) == 0 {
			v = []byte("null")
		}
		b = append(b, v...)
	}
	return append(b, '}'), nil
}

// parentValue is the raw JSON of the parent's id or updated_at (nil when
// there is none).
func (src rowSource) parentValue(k colKind) []byte {
	if src.parent == nil {
		return nil
	}
	if k == fromParentID {
		b, _ := json.Marshal(src.parent.id)
		return b
	}
	return src.parent.updatedAt
}

// at is the raw value at a path of object fields below v (nil when a step
// is missing or not an object).
func at(v []byte, path []string) []byte {
	var one [1][]byte
	for _, name := range path {
		if kind(v) != '{' {
			return nil
		}
		if err := jsonscan.Fields(v, []string{name}, one[:]); err != nil {
			return nil
		}
		v = one[0]
	}
	return v
}

// kind is the first byte of a raw JSON value ('{', '[', '"', 'n', ...), 0
// for none.
func kind(v []byte) byte {
	i := jsonscan.SkipSpace(v, 0)
	if i >= len(v) {
		return 0
	}
	return v[i]
}

// elements are the raw elements of a JSON array (nil if it is malformed:
// the client has checked every page already).
func elements(arr []byte) [][]byte {
	var out [][]byte
	i := jsonscan.SkipSpace(arr, jsonscan.SkipSpace(arr, 0)+1)
	for i < len(arr) && arr[i] != ']' {
		end, err := jsonscan.Value(arr, i)
		if err != nil {
			return nil
		}
		out = append(out, arr[i:end])
		i = jsonscan.SkipSpace(arr, end)
		if i < len(arr) && arr[i] == ',' {
			i = jsonscan.SkipSpace(arr, i+1)
		}
	}
	return out
}

// syncedText is the _fivetran_synced value of rows extracted at t.
func syncedText(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }
