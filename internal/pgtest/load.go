package pgtest

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
)

// batchSize is how many RECORDs of one stream are written per statement.
const batchSize = 500

// Loader writes a Singer stream into tables of one PostgreSQL schema, as an
// upserting target such as pipelinewise's target-postgres does: SCHEMA
// creates the table (or adds new columns) with one column per property, typed
// from the JSON schema, and a primary key on key_properties; RECORD inserts a
// row, or replaces the row with the same key; a stream without
// key_properties is appended to. STATE is kept, not acted on.
//
// Set Conn and Schema (which must exist); the zero value of the rest is
// ready. A Loader is not safe for concurrent use.
type Loader struct {
	Conn   *pgx.Conn
	Schema string

	State   json.RawMessage // the value of the last STATE message
	Records map[string]int  // RECORD messages per stream

	tables map[string]*table
}

// table is one stream's table and the records not yet written to it.
type table struct {
	columns []string // every column the table has, sorted
	keys    []string
	upsert  string // the statement that writes a batch
	pending [][]byte
}

// message is the part of a Singer message the loader reads.
type message struct {
	Type          string          `json:"type"`
	Stream        string          `json:"stream"`
	Schema        json.RawMessage `json:"schema"`
	KeyProperties []string        `json:"key_properties"`
	Record        json.RawMessage `json:"record"`
	Value         json.RawMessage `json:"value"`
}

// Load reads Singer messages from r, one per line, and writes them. Every
// record is in the database when it returns nil.
func (l *Loader) Load(ctx context.Context, r io.Reader) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for n := 1; sc.Scan(); n++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var m message
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			return fmt.Errorf("line %d: %w", n, err)
		}
		if err := l.handle(ctx, m); err != nil {
			return fmt.Errorf("line %d (%s %s): %w", n, m.Type, m.Stream, err)
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	return l.flushAll(ctx)
}

func (l *Loader) handle(ctx context.Context, m message) error {
	switch m.Type {
	case "SCHEMA":
		if t := l.tables[m.Stream]; t != nil {
			if err := l.flush(ctx, m.Stream, t); err != nil {
				return err
			}
		}
		return l.createTable(ctx, m)
	case "RECORD":
		t := l.tables[m.Stream]
		if t == nil {
			return errors.New("RECORD before its stream's SCHEMA")
		}
		if l.Records == nil {
			l.Records = map[string]int{}
		}
		l.Records[m.Stream]++
		t.pending = append(t.pending, m.Record)
		if len(t.pending) >= batchSize {
			return l.flush(ctx, m.Stream, t)
		}
	case "STATE":
		l.State = m.Value
		return l.flushAll(ctx)
	}
	return nil
}

// createTable creates the stream's table, or adds the columns it lacks.
func (l *Loader) createTable(ctx context.Context, m message) error {
	var s struct {
		Properties map[string]property `json:"properties"`
	}
	if err := json.Unmarshal(m.Schema, &s); err != nil {
		return fmt.Errorf("schema: %w", err)
	}
	for _, k := range m.KeyProperties {
		if _, ok := s.Properties[k]; !ok {
			return fmt.Errorf("key property %q is not in the schema", k)
		}
	}
	name := Ident(l.Schema) + "." + Ident(m.Stream)
	defs := make([]string, 0, len(s.Properties)+1)
	for _, c := range slices.Sorted(maps.Keys(s.Properties)) {
		defs = append(defs, Ident(c)+" "+s.Properties[c].pgType())
	}
	if len(m.KeyProperties) > 0 {
		defs = append(defs, "PRIMARY KEY ("+idents(m.KeyProperties)+")")
	}
	stmts := []string{"CREATE TABLE IF NOT EXISTS " + name + " (" + strings.Join(defs, ", ") + ")"}
	for _, c := range slices.Sorted(maps.Keys(s.Properties)) {
		stmts = append(stmts, "ALTER TABLE "+name+" ADD COLUMN IF NOT EXISTS "+Ident(c)+" "+s.Properties[c].pgType())
	}
	for _, q := range stmts {
		if _, err := l.Conn.Exec(ctx, q); err != nil {
			return err
		}
	}
	t := l.tables[m.Stream]
	if t == nil {
		t = &table{}
		if l.tables == nil {
			l.tables = map[string]*table{}
		}
		l.tables[m.Stream] = t
	}
	t.columns = slices.Sorted(maps.Keys(s.Properties))
	t.keys = m.KeyProperties
	t.upsert = upsertSQL(name, t.columns, t.keys)
	return nil
}

// upsertSQL writes a JSON array of records ($1) into table name. Within one
// batch the last record of a key wins, as it would one statement at a time.
func upsertSQL(name string, columns, keys []string) string {
	cols := idents(columns)
	if len(keys) == 0 {
		return "INSERT INTO " + name + " (" + cols + ") SELECT " + cols +
			" FROM jsonb_populate_recordset(NULL::" + name + ", $1::text::jsonb)"
	}
	k := idents(keys)
	set := make([]string, 0, len(columns))
	for _, c := range columns {
		if !slices.Contains(keys, c) {
			set = append(set, Ident(c)+" = EXCLUDED."+Ident(c))
		}
	}
	conflict := "DO NOTHING"
	if len(set) > 0 {
		conflict = "DO UPDATE SET " + strings.Join(set, ", ")
	}
	return "INSERT INTO " + name + " (" + cols + ") SELECT DISTINCT ON (" + k + ") " + cols +
		" FROM (SELECT r.*, e._pgtest_ord FROM jsonb_array_elements($1::text::jsonb) WITH ORDINALITY AS e(_pgtest_doc, _pgtest_ord)," +
		" jsonb_populate_record(NULL::" + name + ", e._pgtest_doc) AS r) AS b" +
		" ORDER BY " + k + ", _pgtest_ord DESC ON CONFLICT (" + k + ") " + conflict
}

func (l *Loader) flushAll(ctx context.Context) error {
	for _, name := range slices.Sorted(maps.Keys(l.tables)) {
		if err := l.flush(ctx, name, l.tables[name]); err != nil {
			return err
		}
	}
	return nil
}

func (l *Loader) flush(ctx context.Context, stream string, t *table) error {
	if len(t.pending) == 0 {
		return nil
	}
	batch := append([]byte{'['}, bytes.Join(t.pending, []byte{','})...)
	batch = append(batch, ']')
	t.pending = t.pending[:0]
	if _, err := l.Conn.Exec(ctx, t.upsert, string(batch)); err != nil {
		return fmt.Errorf("writing %s: %w", stream, err)
	}
	return nil
}

// property is the part of a JSON schema property that decides its column
// type.
type property struct {
	Type   json.RawMessage `json:"type"`
	Format string          `json:"format"`
	AnyOf  []property      `json:"anyOf"`
}

// types is the set of JSON types the property allows, "null" left out.
func (p property) types() (map[string]bool, string) {
	out, format := map[string]bool{}, p.Format
	var list []string
	if err := json.Unmarshal(p.Type, &list); err != nil {
		var one string
		if json.Unmarshal(p.Type, &one) == nil {
			list = []string{one}
		}
	}
	for _, t := range list {
		out[t] = t != "null"
	}
	for _, a := range p.AnyOf {
		sub, f := a.types()
		maps.Copy(out, sub)
		format = cmp.Or(format, f)
	}
	maps.DeleteFunc(out, func(_ string, keep bool) bool { return !keep })
	return out, format
}

// pgType maps a property to a column type as pipelinewise's target-postgres
// does: date-time strings are timestamps, integers bigint, numbers numeric,
// objects and arrays (and anything mixed or untyped) jsonb.
func (p property) pgType() string {
	t, format := p.types()
	switch {
	case len(t) == 1 && t["string"] && format == "date-time":
		return "timestamp with time zone"
	case len(t) == 1 && t["string"]:
		return "text"
	case len(t) == 1 && t["integer"]:
		return "bigint"
	case len(t) == 1 && t["number"], len(t) == 2 && t["number"] && t["integer"]:
		return "numeric"
	case len(t) == 1 && t["boolean"]:
		return "boolean"
	}
	return "jsonb"
}

// Ident quotes a PostgreSQL identifier.
func Ident(s string) string { return pgx.Identifier{s}.Sanitize() }

func idents(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = Ident(n)
	}
	return strings.Join(q, ", ")
}
