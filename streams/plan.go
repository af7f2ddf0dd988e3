package streams

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tap-recurly/tap-recurly/client"
	"github.com/tap-recurly/tap-recurly/internal/conform"
	"github.com/tap-recurly/tap-recurly/state"
)

// A run is planned in three layers:
//
//   - a listing is one list of the API read for one or more streams (its
//     members) over one time range [begin, end];
//   - a window is a part of that range whose bookmark moves as a unit: the
//     bookmark covers the finished windows in order plus, when its records
//     arrive in replication order, what the first unfinished one wrote;
//   - a chain is one cursor chain, a list path with its parameters paged
//     through API.List, whose records belong to one window.
//
// A site-level listing reads one chain per window (setWindows). A per-parent
// listing (one child list per parent record, such as accounts/{id}/notes)
// is one window read by one chain per parent id, path-escaped into the
// child path: each chain added raises window.chains, and the window is done
// when the last one finishes; since each child list is sorted on its own,
// its bookmark may move only then. Nothing in the page loop knows which
// kind a chain belongs to.

// listing is one list read for one or more streams.
type listing struct {
	source     string // the list's site-relative path, e.g. "accounts"
	members    []*member
	begin, end time.Time
	inRange    bool     // begin <= end: there is something to read
	keys       []string // top-level fields read from each source record
	posKey     int      // index in keys of the source's updated_at
	lowKey     int      // index in keys of a lower bound of it when it is absent, -1 if none
	idKey      int      // index in keys of "id", -1 if unused
	derives    bool     // a member derives rows (Stream.Rows): records are decoded
	// check is the SCHEMA check of the member whose records are the source records as they stand, made
	// in the client's pass over each page (client.ListParams.Check); nil when there is none.
	check *conform.Checker

	// Guarded by Syncer.stateMu once chains run.
	windows   []*window
	remaining int  // windows not yet finished
	unordered bool // records came out of position order: bookmarks wait for the end

	// kids is the parent feed of a per-parent listing (parent.go); nil for
	// a site-level list. supplies is the feed whose parent ids this
	// listing's records supply, if any.
	kids, supplies *parentFeed

	tally tally // what a site-level listing read, for its completeness check (complete.go)

	startOnce  sync.Once
	startedAt  atomic.Pointer[time.Time]
	schemaOnce sync.Once // SCHEMA messages go out when the API first answers
	schemaErr  error
}

// window is a part of a listing's range.
type window struct {
	idx        int
	begin, end time.Time
	chains     int  // chains still reading it
	done       bool // every chain finished
}

// chain is one cursor chain of a listing, read into window w.
type chain struct {
	l      *listing
	w      *window
	path   string
	params client.ListParams
	prev   time.Time // the last exact position the chain has seen
	// until, when set, ends the chain early: records positioned after it
	// belong to a later window, which reads them; the chain skips them
	// and stops after the page where they begin.
	until time.Time
	// parent is, for a child chain, the parent record the child list is
	// read under; nil otherwise.
	parent *parentRef
}

// parentRef is a parent record as its children's derived rows see it.
type parentRef struct {
	id        string
	updatedAt []byte // the raw JSON value of its updated_at; nil if absent
}

// member is one selected stream of a listing.
type member struct {
	sel    Selected
	start  time.Time // this stream's own begin: its bookmark or start_date
	filter bool      // drop source records positioned before start
	pkKey  int       // index in listing keys (non-embedded streams)
	rkKey  int
	embKey int // index of the embedded field (embedded streams), -1 if none
	// checked: the listing's check is this stream's SCHEMA, so a record the client's pass checked
	// (sourceRecord.checked) needs no other.
	checked bool
	// embCheck is an embedded stream's SCHEMA check of the record it embeds, finding its key and
	// replication value in the same walk (nil: none; see checkEmbedded).
	embCheck *conform.Checker

	count   atomic.Int64
	winMax  []time.Time // largest replication value written, per window
	lastLog atomic.Int64

	warnedRepaired, warnedFuture atomic.Bool // one WARN line each per stream

	conform conformer // its records' conformance to its SCHEMA (conform.go)
}

// plan groups the selected streams by the listing they read and works out
// each listing's range and the record fields the page loop reads.
func (s *Syncer) plan(selected []Selected, end time.Time) []*listing {
	bySource := map[string]*listing{}
	var order []*listing
	for _, sel := range selected {
		l := bySource[sel.Stream.Source]
		if l == nil {
			l = &listing{source: sel.Stream.Source, lowKey: -1, idKey: -1}
			bySource[sel.Stream.Source] = l
			order = append(order, l)
		}
		l.members = append(l.members, &member{sel: sel, start: s.streamStart(sel.Stream, end)})
	}
	s.linkParents(order, end)
	for _, l := range order {
		l.begin = l.members[0].start
		for _, m := range l.members[1:] {
			if m.start.Before(l.begin) {
				l.begin = m.start
			}
		}
		if l.supplies != nil {
			l.begin = parentsBegin // every parent, not only the changed ones
		}
		l.end = end
		l.planKeys()
		l.planCheck()
		l.inRange = !l.begin.After(l.end)
	}
	return order
}

// streamStart is where a stream's range begins: its bookmark, or start_date.
func (s *Syncer) streamStart(st Stream, end time.Time) time.Time {
	start := s.Options.StartDate.UTC()
	from := "start_date"
	if bm, ok := s.State.Bookmark(st.Name, st.ReplicationKey); ok {
		start, from = bm, "bookmark"
	}
	s.logger().Info(fmt.Sprintf("stream %s: from %s %s to %s", st.Name, from, state.Format(start), state.Format(end)),
		"stream", st.Name, "source", "/"+st.Source)
	return start
}

// planKeys lists the top-level fields the page loop reads from each source
// record, and where each member finds its key, replication value or
// embedded record among them.
func (l *listing) planKeys() {
	key := l.key
	l.posKey = key("updated_at") // the sort key: where a record is in the listing
	for _, m := range l.members {
		st := m.sel.Stream
		m.filter = m.start.After(l.begin)
		l.derives = l.derives || st.Rows != nil
		if st.Embedded == "" {
			m.pkKey, m.rkKey, m.embKey = key(st.KeyProperty), key(st.sourceKey()), -1
			if l.lowKey < 0 && m.rkKey != l.posKey {
				l.lowKey = m.rkKey // a replication value is never later than its record's updated_at
			}
			continue
		}
		m.embKey = key(st.Embedded)
		if st.Fallback != "" {
			l.idKey = key("id")
		}
	}
}

// planCheck sets the listing's check: the SCHEMA of its first member whose records are the source records
// as they stand (not embedded, derived or projected), read in the client's pass over each page, which
// spares the common, conforming record a second pass. Other members' records are conformed on their own.
// An embedded stream's records are checked in the walk that finds their keys (member.embCheck).
func (l *listing) planCheck() {
	for _, m := range l.members {
		st := m.sel.Stream
		if st.Rows != nil || m.sel.Project != nil {
			continue
		}
		schema, err := m.conform.compiled(m.sel.Schema)
		if err != nil {
			continue // the error stops the stream at its first record
		}
		if st.Embedded != "" {
			m.embCheck = schema.Checker([]string{st.KeyProperty, st.sourceKey()})
		} else if l.check == nil {
			l.check = schema.Checker(l.keys)
			m.checked = l.check != nil
		}
	}
}

// checkEmbedded reads the record emb that an embedded stream's source record embeds with the stream's
// SCHEMA check, putting its key and replication value in sub; false when the check does not pass it, and
// the caller reads it the slow way.
func (m *member) checkEmbedded(emb []byte, sub [][]byte) bool {
	if m.embCheck == nil {
		return false
	}
	end, ok := m.embCheck.Check(emb, 0, sub)
	return ok && end == len(emb)
}

// key is the index of a top-level field in l.keys, added when missing.
func (l *listing) key(name string) int {
	if i := slices.Index(l.keys, name); i >= 0 {
		return i
	}
	l.keys = append(l.keys, name)
	return len(l.keys) - 1
}

// headChain is the listing's first chain: its whole range as one window.
// s.stateMu is held.
func (l *listing) headChain() chain {
	w := &window{begin: l.begin, end: l.end, chains: 1}
	l.windows, l.remaining = []*window{w}, 1
	for _, m := range l.members {
		m.winMax = make([]time.Time, 1)
	}
	return chain{l: l, w: w, path: l.source, params: l.params(l.begin, l.end)}
}

// setWindows splits [from, end] into k windows and returns a chain for each
// window the head chain does not read. With keepHead, the head chain has
// read up to from and reads on as window 0, which then begins at the
// listing's begin and keeps what it wrote; otherwise every window is read
// afresh. s.stateMu is held.
func (l *listing) setWindows(from time.Time, k int, keepHead bool) []chain {
	head := l.windows[0]
	l.windows, l.remaining = split(from, l.end, k), k
	for _, m := range l.members {
		headMax := m.winMax[0]
		m.winMax = make([]time.Time, k)
		if keepHead {
			m.winMax[0] = headMax
		}
	}
	var chains []chain
	for _, w := range l.windows {
		w.chains = 1
		if keepHead && w.idx == 0 {
			w.begin, w.done = l.begin, head.done
			continue
		}
		chains = append(chains, chain{l: l, w: w, path: l.source, params: l.params(w.begin, w.end)})
	}
	return chains
}

// params are the list parameters of a chain over [begin, end].
func (l *listing) params(begin, end time.Time) client.ListParams {
	p := client.ListParams{Limit: PageSize, Sort: "updated_at", Order: "asc", BeginTime: begin, EndTime: end, Fields: l.keys}
	if l.check != nil { // not a nil *Checker in the interface
		p.Check = l.check
	}
	return p
}

// maxWindows is how many windows of at least minSpan each (default 30 days)
// [begin, end] may be split into, at most n.
func maxWindows(begin, end time.Time, n int, minSpan time.Duration) int {
	if minSpan <= 0 {
		minSpan = 30 * 24 * time.Hour
	}
	span := end.Sub(begin)
	if n > 1 && span > minSpan {
		return int(min(int64(n), int64(span/minSpan)))
	}
	return 1
}

// split cuts [begin, end] into k windows of equal length, to the second.
// Window bounds are inclusive, as the API's begin_time and end_time are, so
// a record on a boundary second is read by both neighbours (a duplicate,
// never a loss). The windows are in order and contiguous, and cover
// exactly [begin, end] for any k >= 1 and any span: bound i is
// begin + span*i/k seconds, worked out as q*i + r*i/k (span = q*k + r),
// which cannot overflow as span*i can.
func split(begin, end time.Time, k int) []*window {
	from, span := begin.Unix(), end.Unix()-begin.Unix()
	q, r := span/int64(k), span%int64(k)
	bound := func(i int) time.Time {
		switch i {
		case 0:
			return begin
		case k:
			return end
		}
		t := time.Unix(from+q*int64(i)+r*int64(i)/int64(k), 0).In(begin.Location())
		if t.Before(begin) {
			return begin // a begin within its first second
		}
		return t
	}
	out := make([]*window, k)
	for i := range k {
		out[i] = &window{idx: i, begin: bound(i), end: bound(i + 1)}
	}
	return out
}

// names is the listing's streams joined by "+", for error lines.
func (l *listing) names() string {
	name := l.members[0].sel.Stream.Name
	for _, m := range l.members[1:] {
		name += "+" + m.sel.Stream.Name
	}
	return name
}

// started is when the listing's first chain began (zero: not yet).
func (l *listing) started() time.Time {
	if t := l.startedAt.Load(); t != nil {
		return *t
	}
	return time.Time{}
}
