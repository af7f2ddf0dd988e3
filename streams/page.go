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
)

// pageOut is what one page gives each member stream of its listing, and
// where the page ends in the listing.
type pageOut struct {
	batches [][]json.RawMessage // records to write, per member
	max     []time.Time         // largest replication value among them, per member
	last    time.Time           // position of the last record kept (see listing.position)
	ordered bool                // every record's position exact and in ascending order
	past    bool                // records past the chain's until were skipped
}

// writePage writes one page of a chain: the listing's SCHEMAs (first page
// only), each member's records, then the bookmarks over them and a STATE.
func (s *Syncer) writePage(ctx context.Context, c chain, page *client.Page) (pageOut, error) {
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
	return out, s.checkpoint(c, out.max, false)
}

// extract takes each member stream's records out of a page, in order.
func (s *Syncer) extract(ctx context.Context, c chain, page *client.Page) (pageOut, error) {
	l := c.l
	out := pageOut{batches: make([][]json.RawMessage, len(l.members)), max: make([]time.Time, len(l.members)), ordered: true}
	fields := make([][]byte, len(l.keys))
	for i, rec := range page.Records {
		if err := l.fieldsOf(page, i, fields); err != nil {
			return out, err
		}
		pos, exact := l.position(fields)
		if !c.until.IsZero() && pos.After(c.until) {
			out.past = true // a later window's record
			continue
		}
		out.ordered = out.ordered && exact && !pos.Before(out.last)
		out.last = pos
		for mi, m := range l.members {
			if m.filter && !pos.IsZero() && pos.Before(m.start) {
				continue // before this stream's bookmark: read for another member
			}
			r, rk, err := s.recordOf(ctx, l, m, i, rec, fields)
			if err != nil {
				return out, err
			}
			if r == nil {
				continue
			}
			if rk.After(out.max[mi]) {
				out.max[mi] = rk
			}
			out.batches[mi] = append(out.batches[mi], r)
		}
	}
	return out, nil
}

// fieldsOf puts record i's listing keys into fields: from the client's
// checking pass when it located them, else by scanning the record.
func (l *listing) fieldsOf(page *client.Page, i int, fields [][]byte) error {
	if n := len(l.keys); len(page.Fields) == len(page.Records)*n {
		copy(fields, page.Fields[i*n:(i+1)*n])
		return nil
	}
	if err := jsonscan.Fields(page.Records[i], l.keys, fields); err != nil {
		return fmt.Errorf("%s: record %d of a page is not a JSON object: %w", l.names(), i, err)
	}
	return nil
}

// position is where a source record is in its listing: its updated_at
// (exact), or else, for transactions, which carry none, its replication
// value, which is never later (not exact: a lower bound). Zero when the
// record has neither.
func (l *listing) position(fields [][]byte) (pos time.Time, exact bool) {
	if v, ok := jsonscan.String(fields[l.posKey]); ok {
		if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
			return t, true
		}
	}
	if l.lowKey >= 0 {
		if v, ok := jsonscan.String(fields[l.lowKey]); ok {
			pos, _ = time.Parse(time.RFC3339Nano, v)
		}
	}
	return pos, false
}

// recordOf is member m's record from source record i (nil when the source
// record has none), checked and projected, with its replication value
// (zero when null).
func (s *Syncer) recordOf(ctx context.Context, l *listing, m *member, i int, rec json.RawMessage, fields [][]byte) (json.RawMessage, time.Time, error) {
	st := m.sel.Stream
	out, pk, rk := rec, fields[max(m.pkKey, 0)], fields[max(m.rkKey, 0)]
	if m.embKey >= 0 {
		emb, err := s.embedded(ctx, l, m, i, fields)
		if err != nil || emb == nil {
			return nil, time.Time{}, err
		}
		var sub [2][]byte
		if err := jsonscan.Fields(emb, []string{st.KeyProperty, st.ReplicationKey}, sub[:]); err != nil {
			return nil, time.Time{}, fmt.Errorf("%s: embedded %s of record %d is not a JSON object: %w", st.Name, st.Embedded, i, err)
		}
		out, pk, rk = emb, sub[0], sub[1]
	}
	id, ok := jsonscan.String(pk)
	if !ok || id == "" {
		return nil, time.Time{}, &RecordError{Stream: st.Name, Index: i, Problem: fmt.Sprintf("missing primary key %q", st.KeyProperty)}
	}
	var t time.Time
	if !jsonscan.IsNull(rk) {
		v, ok := jsonscan.String(rk)
		var err error
		if t, err = time.Parse(time.RFC3339Nano, v); !ok || err != nil {
			return nil, time.Time{}, &RecordError{Stream: st.Name, ID: id, Index: i, Problem: fmt.Sprintf("%s %s is not an RFC 3339 timestamp", st.ReplicationKey, excerpt.Bytes(rk, 60))}
		}
	}
	if m.sel.Project != nil {
		projected, err := m.sel.Project(out)
		if err != nil {
			return nil, time.Time{}, &RecordError{Stream: st.Name, ID: id, Index: i, Problem: err.Error()}
		}
		out = projected
	}
	return out, t, nil
}

// embedded is the record a source record embeds for m (nil when it holds
// null or none), fetched from the stream's Fallback path when the source
// record lacks the field altogether.
func (s *Syncer) embedded(ctx context.Context, l *listing, m *member, i int, fields [][]byte) (json.RawMessage, error) {
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

// emit writes each member's records of a page and counts them.
func (s *Syncer) emit(l *listing, out pageOut) error {
	extracted := s.now().UTC()
	for mi, m := range l.members {
		if len(out.batches[mi]) == 0 {
			continue
		}
		if err := s.Out.WriteRecords(m.sel.Stream.Name, out.batches[mi], extracted); err != nil {
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
