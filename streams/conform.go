package streams

import (
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/tap-recurly/tap-recurly/internal/conform"
)

// SampleSize is how many records of the run's sample stream are validated
// in full against their SCHEMA with jsonschema/v5, besides every record
// whose values were converted. The fast path (conform.Checker and
// conform.Schema.Conform) checks the types and date-times of every record;
// the sample checks the fast path. One stream per run is sampled (see
// Options.SampleStream): compiling a stream's schema with jsonschema/v5
// costs about 3 ms, and compiling all fifteen was half of the CPU of a run
// that found nothing new.
const SampleSize = 10

// SchemaStats is what conforming a stream's records to its SCHEMA did in a
// run, for the end-of-run report. The zero value means nothing to report.
type SchemaStats struct {
	Converted       int64            // values converted to the schema's type
	ConvertedFields map[string]int64 // values converted, by field ("line_items[].total")
	UnknownRecords  int64            // records that carried fields the schema lacks
	UnknownFields   map[string]int64 // records carrying each such field
	Validated       int64            // records validated in full with jsonschema/v5
}

// Warnings is how many schema warnings the stream had: converted values
// plus records with unknown fields.
func (s SchemaStats) Warnings() int64 { return s.Converted + s.UnknownRecords }

// conformer is one stream's conformance for a run: its SCHEMA compiled once
// (on first use), the sample still to validate and the counts. Its zero
// value is ready; it is safe for concurrent use.
type conformer struct {
	once   sync.Once
	schema *conform.Schema
	err    error

	sample  bool // the run's sample stream: its first SampleSize records are validated in full
	sampled atomic.Int64

	mu    sync.Mutex
	stats SchemaStats
	first map[string]string // field -> id of the first record it was converted or unknown in
}

// conformRecord makes r.body conform to m's SCHEMA (see package conform):
// values that convert without loss are converted and counted, fields the
// schema lacks are kept and counted, and a value that does not convert
// stops the stream with a RecordError naming it by JSON pointer. checked
// says r.body passed m's SCHEMA check already (conform.Checker), so it
// conforms as it stands.
func (s *Syncer) conformRecord(m *member, r *record, src sourceRecord, checked bool) error {
	c := &m.conform
	st := m.sel.Stream
	schema, err := c.compiled(m.sel.Schema)
	if err != nil {
		return fmt.Errorf("%s: %w", st.Name, err)
	}
	// A record that passed this SCHEMA's check (the client's pass, or checkEmbedded) conforms as it stands.
	res := conform.Result{Record: r.body}
	if !checked {
		res, err = schema.Conform(r.body)
	}
	if err == nil && (len(res.Converted) > 0 || schema.Opaque() || c.sample && c.sampled.Load() < SampleSize && c.sampled.Add(1) <= SampleSize) {
		err = schema.Validate(res.Record)
		c.count(func(stats *SchemaStats) { stats.Validated++ })
	}
	if err != nil {
		var ce *conform.Error
		if errors.As(err, &ce) {
			return &RecordError{Stream: st.Name, ID: r.id(), Index: src.i, Problem: fmt.Sprintf(
				"field %s: %s; a rerun stops here too until the data is fixed or the field is deselected in the catalog", ce.Pointer, ce.Problem)}
		}
		return &RecordError{Stream: st.Name, ID: r.id(), Index: src.i, Problem: err.Error()}
	}
	if len(res.Converted) > 0 || len(res.Unknown) > 0 {
		c.note(r.id(), res)
	}
	r.body = res.Record
	return nil
}

// compiled is the stream's SCHEMA compiled, once.
func (c *conformer) compiled(schema []byte) (*conform.Schema, error) {
	c.once.Do(func() { c.schema, c.err = conform.Compile(schema) })
	return c.schema, c.err
}

func (c *conformer) count(f func(*SchemaStats)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f(&c.stats)
}

// note counts a record's conversions and unknown fields.
func (c *conformer) note(id string, res conform.Result) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stats.ConvertedFields == nil {
		c.stats.ConvertedFields, c.stats.UnknownFields, c.first = map[string]int64{}, map[string]int64{}, map[string]string{}
	}
	for _, cv := range res.Converted {
		c.stats.Converted++
		key := cv.Field + " (" + cv.From + " to " + cv.To + ")"
		c.stats.ConvertedFields[key]++
		if _, ok := c.first[key]; !ok {
			c.first[key] = id
		}
	}
	if len(res.Unknown) > 0 {
		c.stats.UnknownRecords++
	}
	for _, f := range res.Unknown {
		c.stats.UnknownFields[f]++
		if _, ok := c.first[f]; !ok {
			c.first[f] = id
		}
	}
}

// snapshot is a copy of the counts.
func (c *conformer) snapshot() SchemaStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.stats
	out.ConvertedFields = maps.Clone(c.stats.ConvertedFields)
	out.UnknownFields = maps.Clone(c.stats.UnknownFields)
	return out
}

// reportSchema logs, once per stream per run, the values converted to the
// schema's types and the fields the schema lacks.
func (s *Syncer) reportSchema(listings []*listing) {
	for _, l := range listings {
		for _, m := range l.members {
			c := &m.conform
			stats := c.snapshot()
			name := m.sel.Stream.Name
			c.mu.Lock()
			converted := fieldCounts(stats.ConvertedFields, c.first)
			unknown := fieldCounts(stats.UnknownFields, c.first)
			c.mu.Unlock()
			if stats.Converted > 0 {
				s.logger().Warn(fmt.Sprintf("stream %s: %d values converted without loss to their schema type: %s",
					name, stats.Converted, converted), "stream", name, "converted", stats.Converted)
			}
			if stats.UnknownRecords > 0 {
				s.logger().Warn(fmt.Sprintf("stream %s: %d records carried fields its schema lacks, emitted as they are (the SCHEMA allows additional properties): %s",
					name, stats.UnknownRecords, unknown), "stream", name, "unknown_field_records", stats.UnknownRecords)
			}
		}
	}
}

// fieldCounts lists "field (n records, first "id")" by field name.
func fieldCounts(counts map[string]int64, first map[string]string) string {
	var parts []string
	for _, f := range slices.Sorted(maps.Keys(counts)) {
		parts = append(parts, fmt.Sprintf("%s %d (first in record %q)", f, counts[f], first[f]))
	}
	return strings.Join(parts, ", ")
}

// pickSample marks the conformer of the run's sample stream: the one
// Options.SampleStream names, else one of the selected streams at random.
func (s *Syncer) pickSample(listings []*listing) {
	var members []*member
	for _, l := range listings {
		members = append(members, l.members...)
	}
	if len(members) == 0 {
		return
	}
	m := members[rand.IntN(len(members))]
	if name := s.Options.SampleStream; name != "" {
		i := slices.IndexFunc(members, func(m *member) bool { return m.sel.Stream.Name == name })
		if i < 0 {
			return
		}
		m = members[i]
	}
	m.conform.sample = true
	s.logger().Info(fmt.Sprintf("stream %s: its first %d records are validated in full with jsonschema/v5 (one stream per run, picked at random); every record's types are checked",
		m.sel.Stream.Name, SampleSize), "stream", m.sel.Stream.Name, "sample", SampleSize)
}
