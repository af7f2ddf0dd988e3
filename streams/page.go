package streams

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/tap-recurly/tap-recurly/client"
	"github.com/tap-recurly/tap-recurly/internal/excerpt"
	"github.com/tap-recurly/tap-recurly/internal/jsonscan"
	"github.com/tap-recurly/tap-recurly/internal/rfc3339"
	"github.com/tap-recurly/tap-recurly/state"
)

// pageOut is what one page gives each member stream of its listing, and
// where the page ends in the listing.
type pageOut struct {
	batches   [][]json.RawMessage // records to write, per member
	loose     []bool              // per member: a record of its batch did not pass its SCHEMA check (see emit)
	max       []time.Time         // largest replication value among them (at most the run's end), per member
	last      time.Time           // position of the last record kept (see listing.position)
	ordered   bool                // every record's position exact and in ascending order
	backwards bool                // a record's exact position is earlier than one before it in the chain
	past      bool                // records past the chain's until were skipped
	extracted time.Time           // when the page's records were taken out
}

// sourceRecord is one record of a page, as the page loop sees it.
type sourceRecord struct {
	i        int // index in its page
	of       int // records in its page
	raw      json.RawMessage
	fields   [][]byte  // the listing's keys
	pos      time.Time // its position in the listing
	exact    bool      // pos is the record's updated_at
	repaired bool      // the client replaced invalid UTF-8 in it with U+FFFD
	checked  bool      // it passed the listing's check in the client's pass (listing.check)
	// For derived rows (Stream.Rows): its parent (per-parent listings) and
	// the extraction time.
	parent *parentRef
	synced string
}

// writePage writes one page of a chain: the listing's SCHEMAs (first page
// only), each member's records, then the bookmarks over them and a STATE.
func (s *Syncer) writePage(ctx context.Context, c *chain, page *client.Page) (pageOut, error) {
	if err := s.writeSchemas(c.l); err != nil {
		return pageOut{}, err
	}
	out, err := s.extract(ctx, c, page)
	if err != nil {
		return out, err
	}
	if err := s.emit(c.l, out); err != nil {
		return out, err
	}
	if out.backwards {
		s.markUnordered(c.l)
	}
	if c.l.supplies != nil {
		if err := s.feedPage(c.l.supplies, page, c.l.keys); err != nil {
			return out, fmt.Errorf("%s: %w", c.l.names(), err)
		}
	}
	return out, s.checkpoint(c, out.max, false)
}

// extract takes each member stream's records out of a page, in order.
func (s *Syncer) extract(ctx context.Context, c *chain, page *client.Page) (pageOut, error) {
	l := c.l
	out := pageOut{batches: make([][]json.RawMessage, len(l.members)), loose: make([]bool, len(l.members)),
		max: make([]time.Time, len(l.members)), ordered: true, extracted: s.now().UTC()}
	src := sourceRecord{of: len(page.Records), fields: make([][]byte, len(l.keys)), parent: c.parent}
	if l.derives {
		src.synced = syncedText(out.extracted)
	}
	repaired := page.Repaired
	for i, rec := range page.Records {
		src.i, src.raw = i, rec
		src.checked = page.Checked != nil && page.Checked[i]
		src.repaired = len(repaired) > 0 && repaired[0] == i
		if src.repaired {
			repaired = repaired[1:]
		}
		if err := l.fieldsOf(page, i, src.fields); err != nil {
			return out, err
		}
		var keep bool
		if src.pos, src.exact, keep = c.place(src.fields, &out); !keep {
			continue
		}
		for mi, m := range l.members {
			if err := s.take(ctx, c, mi, m, src, &out); err != nil {
				return out, err
			}
		}
	}
	return out, nil
}

// place finds where a record is in the listing (exact: its updated_at) and
// notes it in out; keep is false when the record belongs to a later window.
func (c *chain) place(fields [][]byte, out *pageOut) (pos time.Time, exact, keep bool) {
	pos, exact = c.l.position(fields)
	if !c.until.IsZero() && pos.After(c.until) {
		out.past = true
		return pos, exact, false
	}
	if exact {
		out.backwards = out.backwards || pos.Before(c.prev)
		c.prev = pos
	}
	out.ordered = out.ordered && exact && !pos.Before(out.last)
	out.last = pos
	return pos, exact, true
}

// take adds member m's record from src, if it has one, to out. A
// replication value after the run's end is kept in the record but moves
// the bookmark only to the end.
func (s *Syncer) take(ctx context.Context, c *chain, mi int, m *member, src sourceRecord, out *pageOut) error {
	if m.filter && !src.pos.IsZero() && src.pos.Before(m.start) {
		return nil // before this stream's bookmark: read for another member
	}
	r, err := s.recordOf(ctx, c.l, m, src)
	if err != nil || (r.body == nil && r.rows == nil) {
		return err
	}
	name := m.sel.Stream.Name
	if src.repaired && m.warnedRepaired.CompareAndSwap(false, true) {
		s.logger().Warn(fmt.Sprintf("stream %s: record %q held invalid UTF-8, replaced with U+FFFD (further ones in this stream are not reported)", name, r.id()),
			"stream", name, "record", r.id())
	}
	rk := r.rk
	if end := c.l.end; rk.After(end) {
		if m.warnedFuture.CompareAndSwap(false, true) {
			s.logger().Warn(fmt.Sprintf("stream %s: record %q has %s %s, after this run's end %s; it is emitted, but the bookmark stops at %s",
				name, r.id(), m.sel.Stream.ReplicationKey, state.Format(rk), state.Format(end), state.Format(end)), "stream", name, "record", r.id())
		}
		rk = end
	}
	if rk.After(out.max[mi]) {
		out.max[mi] = rk
	}
	if out.batches[mi] == nil {
		out.batches[mi] = make([]json.RawMessage, 0, src.of) // the page's size at once: no regrowing
	}
	out.loose[mi] = out.loose[mi] || !r.checked
	if m.sel.Stream.Rows != nil {
		out.batches[mi] = append(out.batches[mi], r.rows...)
		return nil
	}
	out.batches[mi] = append(out.batches[mi], r.body)
	return nil
}

// fieldsOf puts record i's listing keys into fields: from the client's
// checking pass when it located them, else by scanning the record.
func (l *listing) fieldsOf(page *client.Page, i int, fields [][]byte) error {
	if err := fieldsAt(page, i, l.keys, fields); err != nil {
		return fmt.Errorf("%s: %w", l.names(), err)
	}
	return nil
}

// fieldsAt puts record i's values of keys into fields: from the client's
// checking pass when it located them, else by scanning the record.
func fieldsAt(page *client.Page, i int, keys []string, fields [][]byte) error {
	if n := len(keys); len(page.Fields) == len(page.Records)*n {
		copy(fields, page.Fields[i*n:(i+1)*n])
		return nil
	}
	if err := jsonscan.Fields(page.Records[i], keys, fields); err != nil {
		return fmt.Errorf("record %d of a page is not a JSON object: %w", i, err)
	}
	return nil
}

// position is where a source record is in its listing: its updated_at
// (exact), or else, for transactions, which carry none, its replication
// value, which is never later (not exact: a lower bound). Zero when the
// record has neither.
func (l *listing) position(fields [][]byte) (pos time.Time, exact bool) {
	if t, ok := timestamp(fields[l.posKey]); ok {
		return t, true
	}
	if l.lowKey >= 0 {
		pos, _ = timestamp(fields[l.lowKey])
	}
	return pos, false
}

// timestamp reads a raw JSON value holding an RFC 3339 timestamp; false
// when it holds anything else.
func timestamp(v []byte) (time.Time, bool) {
	text, ok := jsonscan.Text(v)
	if !ok {
		return time.Time{}, false
	}
	return rfc3339.Parse(text) // as time.Parse(time.RFC3339Nano, …), faster on the API's shapes
}

// record is one stream's record, checked and projected.
type record struct {
	body  json.RawMessage   // nil: the source record gives none
	rows  []json.RawMessage // a derived stream's rows (non-nil, maybe empty, when the source record gives some)
	idRaw []byte            // its primary key's text, read only for messages
	rk    time.Time         // the replication value; zero when null
	// checked: body passed the stream's SCHEMA check (conform.Checker) as it stands, so it is compact
	// JSON on one line.
	checked bool
}

// id is the record's primary key, for messages.
func (r record) id() string { return string(r.idRaw) }

// recordOf is member m's record from a source record.
func (s *Syncer) recordOf(ctx context.Context, l *listing, m *member, src sourceRecord) (record, error) {
	st := m.sel.Stream
	out, pk, rk := src.raw, src.fields[max(m.pkKey, 0)], src.fields[max(m.rkKey, 0)]
	checked := src.checked && m.checked // the record passed m's SCHEMA check already
	if m.embKey >= 0 {
		emb, err := s.embedded(ctx, l, m, src.fields)
		if err != nil || emb == nil {
			return record{}, err
		}
		var sub [2][]byte
		if checked = m.checkEmbedded(emb, sub[:]); !checked {
			if err := jsonscan.Fields(emb, []string{st.KeyProperty, st.sourceKey()}, sub[:]); err != nil {
				return record{}, fmt.Errorf("%s: embedded %s of record %d is not a JSON object: %w", st.Name, st.Embedded, src.i, err)
			}
		}
		out, pk, rk = emb, sub[0], sub[1]
	}
	r := record{body: out}
	var ok bool
	if r.idRaw, ok = jsonscan.Text(pk); st.KeyProperty != "" && (!ok || len(r.idRaw) == 0) {
		return record{}, &RecordError{Stream: st.Name, Index: src.i, Problem: keyProblem(st.KeyProperty, pk)}
	}
	switch {
	case m.embKey < 0 && m.rkKey == l.posKey && src.exact:
		r.rk = src.pos // the same field, parsed once already
	case !jsonscan.IsNull(rk):
		if r.rk, ok = timestamp(rk); !ok {
			return record{}, &RecordError{Stream: st.Name, ID: r.id(), Index: src.i, Problem: fmt.Sprintf("%s %s is not an RFC 3339 timestamp", st.sourceKey(), excerpt.Of(string(rk), 60))}
		}
	}
	if st.Rows != nil {
		return s.derive(m, src, r, out)
	}
	if m.sel.Project != nil {
		projected, err := m.sel.Project(out)
		if err != nil {
			return record{}, &RecordError{Stream: st.Name, ID: r.id(), Index: src.i, Problem: err.Error()}
		}
		r.body = projected
	}
	if err := s.conformRecord(m, &r, src, checked); err != nil {
		return record{}, err
	}
	r.checked = checked
	return r, nil
}

// keyProblem says what is wrong with a primary key's raw value pk (nil:
// the record lacks it) that is not a non-empty string.
func keyProblem(key string, pk []byte) string {
	switch {
	case pk == nil:
		return fmt.Sprintf("missing primary key %q", key)
	case jsonscan.IsNull(pk):
		return fmt.Sprintf("primary key %q is null", key)
	case string(pk) == `""`:
		return fmt.Sprintf("primary key %q is an empty string", key)
	}
	return fmt.Sprintf("primary key %q is not a string: %s", key, excerpt.Of(string(pk), 40))
}

// derive sets r's rows: the derived stream's rows from the source record
// (or its embedded record, body), each projected to the selected columns
// and conformed to the table's SCHEMA.
func (s *Syncer) derive(m *member, src sourceRecord, r record, body json.RawMessage) (record, error) {
	st := m.sel.Stream
	var err error
	r.rows, err = st.Rows.rows(rowSource{record: body, parent: src.parent, synced: src.synced})
	for i := 0; err == nil && i < len(r.rows); i++ {
		if m.sel.Project != nil {
			r.rows[i], err = m.sel.Project(r.rows[i])
		}
	}
	if err != nil {
		return record{}, &RecordError{Stream: st.Name, ID: r.id(), Index: src.i, Problem: err.Error()}
	}
	for i, row := range r.rows { // each row conforms to the table's SCHEMA, as records do
		one := record{body: row, idRaw: r.idRaw}
		if err := s.conformRecord(m, &one, src, false); err != nil {
			return record{}, err
		}
		r.rows[i] = one.body
	}
	if r.rows == nil {
		r.rows = []json.RawMessage{}
	}
	r.body = nil
	return r, nil
}

// embedded is the record a source record embeds for m (nil when it holds
// null or none), fetched from the stream's Fallback path when the source
// record lacks the field altogether.
func (s *Syncer) embedded(ctx context.Context, l *listing, m *member, fields [][]byte) (json.RawMessage, error) {
	st := m.sel.Stream
	emb := fields[m.embKey]
	if emb == nil && st.Fallback != "" {
		id, ok := jsonscan.String(fields[l.idKey])
		if !ok || id == "" {
			return nil, fmt.Errorf("%s: a %s record without %s has no id to fetch it by", st.Name, st.Source, st.Embedded)
		}
		body, _, err := s.API.Get(ctx, fmt.Sprintf(st.Fallback, url.PathEscape(id)))
		switch {
		case errors.Is(err, client.ErrNotFound):
			return nil, nil
		case err != nil:
			return nil, fmt.Errorf("%s: %w", st.Name, err)
		}
		emb = body
	}
	if jsonscan.IsNull(emb) {
		return nil, nil
	}
	return emb, nil
}

// emit writes each member's records of a page and counts them. A batch
// whose records all passed their SCHEMA check as they stand is known to be
// one line each, and the writer need not scan it for line breaks.
func (s *Syncer) emit(l *listing, out pageOut) error {
	extracted := out.extracted
	for mi, m := range l.members {
		if len(out.batches[mi]) == 0 {
			continue
		}
		write := s.Out.WriteLineRecords
		if out.loose[mi] {
			write = s.Out.WriteRecords
		}
		if err := write(m.sel.Stream.Name, out.batches[mi], extracted); err != nil {
			return err
		}
		m.count.Add(int64(len(out.batches[mi])))
	}
	return nil
}

// writeSchemas writes the SCHEMA of each of the listing's streams, once:
// when the API first answers for the listing.
func (s *Syncer) writeSchemas(l *listing) error {
	l.schemaOnce.Do(func() {
		s.wroteAny.Store(true)
		for _, m := range l.members {
			st := m.sel.Stream
			if err := s.Out.WriteSchema(st.Name, m.sel.Schema, st.KeyProperties(), []string{st.ReplicationKey}); err != nil {
				l.schemaErr = err
				return
			}
		}
	})
	return l.schemaErr
}

// RecordError is a record the tap refuses: it stops the stream rather than
// skip the record silently.
type RecordError struct {
	Stream  string
	ID      string // the record's primary key, when it has one
	Index   int    // position in its page
	Problem string
}

func (e *RecordError) Error() string {
	if e.ID != "" {
		return fmt.Sprintf("%s: record %q: %s", e.Stream, e.ID, e.Problem)
	}
	return fmt.Sprintf("%s: record %d of its page: %s", e.Stream, e.Index, e.Problem)
}
