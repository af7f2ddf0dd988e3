package streams

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/tap-recurly/tap-recurly/client"
	"github.com/tap-recurly/tap-recurly/internal/jsonscan"
	"github.com/tap-recurly/tap-recurly/state"
)

// Per-parent listings.
//
// A per-parent stream (Stream.Parent set) reads one child list per parent
// record, e.g. accounts/{id}/notes for every account, on every run: nothing
// says that a new child record moves its parent's updated_at, so skipping
// unchanged parents could lose records. Its listing has one window, held
// open by its parent feed until every parent id is known and by one chain
// per parent until that child list is read. The bookmark moves only when
// the window is done: each child list is sorted on its own (or not at all),
// and only all of them together cover the range.
//
// Parent ids come from a parentFeed, one per parent list in the run:
//   - when the parent list is read in the run anyway (for accounts or
//     coupons), its records supply them: that listing's range is widened to
//     every parent (its streams drop records before their own bookmark), and
//     once it is read, the parents updated after the signpost (which its
//     end_time left out, though they were created before it) are listed too,
//     usually in one request;
//   - otherwise the feed lists the parent list itself, only for the ids,
//     sorted by created_at up to the signpost: a child record created or
//     changed before the signpost belongs to a parent created before it.
//
// Child records are kept from the stream's bookmark to the signpost (the
// API filters where the list takes begin_time and end_time, the tap does
// where it does not), so a record changed during the run is left for the
// next run and the bookmark never passes a record some later child list
// would still return.

// parentsBegin is where a listing that supplies parent ids begins: every
// record the API holds.
var parentsBegin = time.Unix(0, 0).UTC()

// parentFeed lists the parents of a run's per-parent listings.
type parentFeed struct {
	list     string     // the parent list, e.g. "accounts"
	children []*listing // the per-parent listings it feeds
	from     *listing   // the run's listing of list whose records supply the ids; nil: the feed lists them
	keys     []string   // fields the feed reads from a parent record when it lists them itself
	end      time.Time  // the signpost

	once sync.Once // the feed's own listing starts once
	mu   sync.Mutex
	seen map[string]bool // parent ids already fed
}

// linkParents gives every per-parent listing its feed, and makes the run's
// listing of a parent list, if any, supply the feed's ids.
func (s *Syncer) linkParents(listings []*listing, end time.Time) {
	feeds := map[string]*parentFeed{}
	for _, l := range listings {
		st := l.members[0].sel.Stream
		if !st.PerParent() {
			continue
		}
		f := feeds[st.Parent]
		if f == nil {
			f = &parentFeed{list: st.Parent, keys: []string{"id"}, end: end, seen: map[string]bool{}}
			feeds[st.Parent] = f
			for _, p := range listings {
				if p.source == st.Parent {
					f.from, p.supplies = p, f
				}
			}
		}
		if w := st.ParentWhere.Field; w != "" && !slices.Contains(f.keys, w) {
			f.keys = append(f.keys, w)
		}
		if st.Rows != nil && !slices.Contains(f.keys, "updated_at") {
			f.keys = append(f.keys, "updated_at") // derived rows may carry it
		}
		f.children = append(f.children, l)
		l.kids = f
		l.unordered = true // each child list is sorted on its own: only all of them cover the range
	}
	for _, f := range feeds {
		if f.from != nil {
			for _, k := range f.keys {
				f.from.key(k)
			}
		}
	}
}

// startChildren is a per-parent listing's first job: it opens the
// listing's one window, held until the feed has given every parent, and
// starts the feed's own listing of parents unless the run's listing of the
// parent list supplies them.
func (s *Syncer) startChildren(ctx context.Context, l *listing) error {
	s.markStarted(l)
	s.openWindow(l)
	f := l.kids
	var err error
	f.once.Do(func() {
		if f.from != nil {
			return // fed by that listing's pages, then by readTail
		}
		p := client.ListParams{Limit: PageSize, Sort: "created_at", Order: "asc", EndTime: f.end, Fields: f.keys}
		err = s.readParents(ctx, f, p)
	})
	return err
}

// openWindow gives a per-parent listing its one window, once, held by
// its feed (one chain) until the feed has given every parent, and returns
// it.
func (s *Syncer) openWindow(l *listing) *window {
	s.stateMu.Lock()
	defer s.stateMu.Unlock()
	if l.windows == nil {
		l.windows = []*window{{begin: l.begin, end: l.end, chains: 1}}
		l.remaining = 1
		for _, m := range l.members {
			m.winMax = make([]time.Time, 1)
		}
	}
	return l.windows[0]
}

// readParents lists parents with p (the feed's own pass, or the tail after
// the run's listing of them), feeds each, then marks the feed complete.
func (s *Syncer) readParents(ctx context.Context, f *parentFeed, p client.ListParams) error {
	for page, err := range s.API.List(ctx, f.list, p) {
		if err != nil {
			return fmt.Errorf("%s (parent ids for %s): %w", f.list, f.names(), err)
		}
		if err := s.feedPage(f, page, f.keys); err != nil {
			return fmt.Errorf("%s (parent ids for %s): %w", f.list, f.names(), err)
		}
	}
	return s.feedDone(f)
}

// listingDone is called once a listing has been read to its end: when it
// supplies a feed, the parents updated after the signpost are listed next.
func (s *Syncer) listingDone(l *listing) {
	if s.trace != nil {
		s.trace("listingDone", l)
	}
	f := l.supplies
	if f == nil {
		return
	}
	s.pool.add(0, func(ctx context.Context) error {
		p := client.ListParams{Limit: PageSize, Sort: "updated_at", Order: "asc", BeginTime: f.end, Fields: f.keys}
		return s.readParents(ctx, f, p)
	})
}

// feedDone releases each child listing's hold on its window: every parent
// is known (and queued).
func (s *Syncer) feedDone(f *parentFeed) error {
	for _, l := range f.children {
		if !l.inRange {
			continue
		}
		if s.trace != nil {
			s.trace("feedDone", l)
		}
		if err := s.writeSchemas(l); err != nil {
			return err
		}
		if err := s.finishChain(&chain{l: l, w: s.openWindow(l)}); err != nil {
			return err
		}
	}
	return nil
}

// feedPage queues one child chain per child listing for each parent of a
// page not fed before (a parent may be listed twice: on a window boundary,
// or again in the tail). keys are the fields located in each record.
func (s *Syncer) feedPage(f *parentFeed, page *client.Page, keys []string) error {
	fields := make([][]byte, len(keys))
	idKey, atKey := slices.Index(keys, "id"), slices.Index(keys, "updated_at")
	for i := range page.Records {
		if err := fieldsAt(page, i, keys, fields); err != nil {
			return err
		}
		id, ok := jsonscan.String(fields[idKey])
		if !ok || id == "" {
			return fmt.Errorf("record %d of a page has no id", i)
		}
		f.mu.Lock()
		fed := f.seen[id]
		f.seen[id] = true
		f.mu.Unlock()
		if fed {
			continue
		}
		// A copy: the page's buffer is reused once the page is written.
		parent := &parentRef{id: id, updatedAt: bytes.Clone(fieldAt(fields, atKey))}
		for _, l := range f.children {
			if l.inRange && l.wants(keys, fields) {
				s.queueChild(l, parent)
			}
		}
	}
	return nil
}

// wants reports whether the listing reads the child list of a parent
// record, by the stream's ParentWhere.
func (l *listing) wants(keys []string, fields [][]byte) bool {
	w := l.members[0].sel.Stream.ParentWhere
	if w.Field == "" {
		return true
	}
	v, ok := jsonscan.String(fields[slices.Index(keys, w.Field)])
	return ok && v == w.Value
}

// fieldAt is fields[i], nil when i is -1.
func fieldAt(fields [][]byte, i int) []byte {
	if i < 0 {
		return nil
	}
	return fields[i]
}

// queueChild adds the chain reading the parent's child list to the
// listing's window and to the pool.
func (s *Syncer) queueChild(l *listing, parent *parentRef) {
	id := parent.id
	c := l.childChain(s.openWindow(l), id)
	c.parent = parent
	s.stateMu.Lock()
	c.w.chains++
	s.stateMu.Unlock()
	s.pool.add(1, func(ctx context.Context) error {
		return s.readPages(ctx, &c, s.childPages(ctx, c, id))
	})
}

// childChain is the chain reading parent id's child list, with the list
// parameters the stream's Params allow.
func (l *listing) childChain(w *window, id string) chain {
	st := l.members[0].sel.Stream
	c := chain{l: l, w: w, path: fmt.Sprintf(st.Source, url.PathEscape(id))}
	switch st.Params {
	case AllParams:
		c.params = l.params(l.begin, l.end)
	case DateParams:
		c.path += "?" + url.Values{
			"sort":       {st.sourceKey()},
			"begin_time": {l.begin.UTC().Format(time.RFC3339)},
			"end_time":   {l.end.UTC().Format(time.RFC3339)},
		}.Encode()
		c.params.Unpaged = true
	case NoParams:
		c.params.Unpaged = true
	}
	c.params.Fields = l.keys
	return c
}

// childPages are the pages of one child list, holding only records from
// the stream's bookmark to the signpost. A 404 (the parent vanished after
// it was listed) ends them with no page.
func (s *Syncer) childPages(ctx context.Context, c chain, parentID string) iter.Seq2[*client.Page, error] {
	pages := s.API.List(ctx, c.path, c.params)
	if c.l.members[0].sel.Stream.Params == OneObject {
		pages = s.oneObject(ctx, c.path)
	}
	return func(yield func(*client.Page, error) bool) {
		first := true
		for page, err := range pages {
			if first && errors.Is(err, client.ErrNotFound) {
				s.logger().Debug(fmt.Sprintf("%s: %s %s is gone (404 on %s); skipped", c.l.names(), c.l.kids.list, parentID, c.path),
					"stream", c.l.names(), "parent", parentID)
				return
			}
			first = false
			if err == nil {
				page, err = c.l.keepInRange(page)
			}
			if !yield(page, err) || err != nil {
				return
			}
		}
	}
}

// oneObject is a path that answers one object, not a list: a page holding
// that one record.
func (s *Syncer) oneObject(ctx context.Context, path string) iter.Seq2[*client.Page, error] {
	return func(yield func(*client.Page, error) bool) {
		body, _, err := s.API.Get(ctx, path)
		if err == nil && (len(body) == 0 || body[0] != '{') {
			err = fmt.Errorf("GET %s: the answer is not a JSON object", path)
		}
		if err != nil {
			yield(nil, err)
			return
		}
		yield(&client.Page{Records: []json.RawMessage{body}}, nil)
	}
}

// keepInRange keeps the records of a child page whose replication value is
// from the stream's bookmark to the signpost (or null: nothing to place
// them by, so they are kept). The page's Fields and Repaired follow its
// records.
func (l *listing) keepInRange(page *client.Page) (*client.Page, error) {
	m := l.members[0]
	key := m.sel.Stream.sourceKey()
	k := slices.Index(l.keys, key)
	fields := make([][]byte, len(l.keys))
	var drop []int // the records out of range, in increasing order
	for i := range page.Records {
		v, err := l.fieldOf(page, i, k, key, fields)
		if err != nil {
			return nil, err
		}
		if t, ok := rangeValue(v); ok && (t.Before(m.start) || t.After(l.end)) {
			drop = append(drop, i)
		}
	}
	if len(drop) > 0 {
		dropRecords(page, drop, len(l.keys))
	}
	return page, nil
}

// fieldOf is record i's value of key, which is l.keys[k] when k >= 0: then
// as the client's pass located it (fields receives all of l.keys), else
// scanned for.
func (l *listing) fieldOf(page *client.Page, i, k int, key string, fields [][]byte) ([]byte, error) {
	if k >= 0 {
		err := l.fieldsOf(page, i, fields)
		return fields[k], err
	}
	var v [1][]byte
	if err := jsonscan.Fields(page.Records[i], []string{key}, v[:]); err != nil {
		return nil, fmt.Errorf("%s: record %d of a page is not a JSON object: %w", l.names(), i, err)
	}
	return v[0], nil
}

// rangeValue reads a child record's replication value v as keepInRange
// places it: an RFC 3339 timestamp, or a date; false for anything else
// (null or absent: the record is kept).
func rangeValue(v []byte) (time.Time, bool) {
	if t, ok := timestamp(v); ok {
		return t, true
	}
	s, ok := jsonscan.String(v)
	if !ok {
		return time.Time{}, false
	}
	t, err := state.ParseTime(s)
	return t, err == nil
}

// dropRecords takes the records at the indices drop (increasing) out of
// page, with their Fields (n a record), Checked flags and Repaired marks,
// into new slices: the client's stay as they were.
func dropRecords(page *client.Page, drop []int, n int) {
	withFields, withChecks := len(page.Fields) == len(page.Records)*n, len(page.Checked) == len(page.Records)
	records := make([]json.RawMessage, 0, len(page.Records)-len(drop))
	var fields [][]byte
	var checked []bool
	var repaired []int
	for i, rec := range page.Records {
		if len(drop) > 0 && drop[0] == i {
			drop = drop[1:]
			continue
		}
		if _, ok := slices.BinarySearch(page.Repaired, i); ok {
			repaired = append(repaired, len(records))
		}
		records = append(records, rec)
		if withFields {
			fields = append(fields, page.Fields[i*n:(i+1)*n]...)
		}
		if withChecks {
			checked = append(checked, page.Checked[i])
		}
	}
	page.Records, page.Fields, page.Checked, page.Repaired = records, fields, checked, repaired
}

// names is the feed's child streams joined by "+", for error lines.
func (f *parentFeed) names() string {
	name := ""
	for i, l := range f.children {
		if i > 0 {
			name += "+"
		}
		name += l.names()
	}
	return name
}
