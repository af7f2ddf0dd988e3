// Package layouts holds the tap's layouts: the sets of tables a sync can
// emit. A layout is data: each table is a streams.Stream row naming the
// listing it comes from, how its rows derive from a record (as-is,
// flattened, or unpacked from an array: streams.Derive), its keys and its
// bookmark. The one sync loop (streams.Syncer) serves every layout.
//
//	streams      the fifteen streams: API records as-is (the default)
//	dbt_recurly  the 18 source tables of Fivetran's dbt_recurly package
package layouts

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/tap-recurly/tap-recurly/schemas"
	"github.com/tap-recurly/tap-recurly/streams"
)

// Names of the layouts, for the layout setting.
const (
	Streams    = "streams"
	DBTRecurly = "dbt_recurly"
)

// Names lists every layout, the default first.
var Names = []string{Streams, DBTRecurly}

// Layout is one set of tables with their JSON Schemas. It is read-only
// and safe for concurrent use.
type Layout struct {
	Name    string
	tables  []streams.Stream // sorted by name
	schemas map[string]json.RawMessage
}

// The layouts are built on first use: a run uses one, and deriving the
// dbt_recurly tables' schemas at start-up would cost every run about 2.5 ms
// and 1.6 MB of garbage.
var (
	streamsLayout = sync.OnceValue(func() *Layout { return mustBuild(Streams, streams.All(), streamSchema) })
	dbtLayout     = sync.OnceValue(func() *Layout { return mustBuild(DBTRecurly, dbtTables(), dbtSchema) })
)

// Get returns the layout called name ("" is the default, streams).
func Get(name string) (*Layout, error) {
	switch name {
	case "", Streams:
		return streamsLayout(), nil
	case DBTRecurly:
		return dbtLayout(), nil
	}
	return nil, fmt.Errorf("unknown layout %q (known: %s)", name, strings.Join(Names, ", "))
}

// Default is the streams layout.
func Default() *Layout { return streamsLayout() }

// All returns the layout's tables, sorted by name; the slice is the
// caller's own.
func (l *Layout) All() []streams.Stream { return slices.Clone(l.tables) }

// ByName returns the table called name.
func (l *Layout) ByName(name string) (streams.Stream, bool) {
	i, ok := slices.BinarySearchFunc(l.tables, name, func(s streams.Stream, n string) int { return strings.Compare(s.Name, n) })
	if !ok {
		return streams.Stream{}, false
	}
	return l.tables[i], true
}

// Schema returns a fresh copy of the JSON Schema of the table's records.
func (l *Layout) Schema(name string) (json.RawMessage, error) {
	s, ok := l.schemas[name]
	if !ok {
		return nil, fmt.Errorf("%w: %q in layout %s", schemas.ErrUnknownStream, name, l.Name)
	}
	return slices.Clone(s), nil
}

// Names lists the layout's table names, sorted.
func (l *Layout) Names() []string {
	names := make([]string, len(l.tables))
	for i, t := range l.tables {
		names[i] = t.Name
	}
	return names
}

func streamSchema(st streams.Stream) (json.RawMessage, error) { return schemas.Get(st.Name) }

// mustBuild sorts a layout's tables and derives each one's schema once; a
// table without a schema is a programming error.
func mustBuild(name string, tables []streams.Stream, schema func(streams.Stream) (json.RawMessage, error)) *Layout {
	slices.SortFunc(tables, func(a, b streams.Stream) int { return strings.Compare(a.Name, b.Name) })
	l := &Layout{Name: name, tables: tables, schemas: map[string]json.RawMessage{}}
	for _, t := range tables {
		s, err := schema(t)
		if err != nil {
			panic(fmt.Sprintf("layouts: %s.%s: %v", name, t.Name, err))
		}
		l.schemas[t.Name] = s
	}
	return l
}

// NullColumns lists, as table.column, the columns of a layout's tables
// that the API cannot supply: present in every row, always null.
func (l *Layout) NullColumns() []string {
	var out []string
	for _, t := range l.tables {
		if t.Rows == nil {
			continue
		}
		for _, c := range t.Rows.Columns {
			if c.From == "" && c.Value == nil {
				out = append(out, t.Name+"."+c.Name)
			}
		}
	}
	return out
}
