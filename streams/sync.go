package streams

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tap-recurly/tap-recurly/client"
	"github.com/tap-recurly/tap-recurly/internal/jsonscan"
	"github.com/tap-recurly/tap-recurly/singer"
	"github.com/tap-recurly/tap-recurly/state"
)

// PageSize is the list page size the sync asks for: the API's maximum.
const PageSize = 200

// API is what the sync loop needs of the Recurly client.
type API interface {
	ListPage(ctx context.Context, pathOrNext string, p client.ListParams) (*client.Page, *client.Response, error)
	Count(ctx context.Context, path string, p client.ListParams) (int, *client.Response, error)
	Get(ctx context.Context, path string) (json.RawMessage, *client.Response, error)
}

// Output is what the sync loop needs of the Singer writer.
type Output interface {
	WriteSchema(stream string, schema json.RawMessage, keyProperties, bookmarkProperties []string) error
	WriteRecords(stream string, records []json.RawMessage, extracted time.Time) error
	WriteState(value any) error
}

// Selected is a stream chosen for this run, with its field selection.
type Selected struct {
	Stream Stream
	Schema json.RawMessage // the (pruned) schema for the SCHEMA message
	// Project drops deselected fields from a record; nil passes records
	// through untouched.
	Project func(json.RawMessage) (json.RawMessage, error)
}

// Options tune a sync. The zero value syncs from the Unix epoch up to now
// with one worker and no window splitting.
type Options struct {
	StartDate time.Time        // where streams without a bookmark begin
	EndDate   time.Time        // zero: up to the signpost (the time the sync starts)
	Now       func() time.Time // nil: time.Now
	// MaxWorkers bounds the time windows fetched at once across all streams.
	MaxWorkers int
	// Windows is the most time windows one listing's range is split into;
	// each window is a separate cursor chain fetched concurrently. A range
	// that could be split is first counted with one HEAD request, and split
	// only as far as it holds MinWindowPages pages per window; each extra
	// window costs at most one extra (partial) page.
	Windows int
	// MinWindow is the shortest window worth splitting off (default 30 days).
	MinWindow time.Duration
	// MinWindowPages is the fewest pages of records a window is split off
	// for (default 4: splitting then costs under a quarter of a page per
	// page read).
	MinWindowPages int
	// MetricInterval is how often record_count metrics are logged (default 60s).
	MetricInterval time.Duration
	Logger         *slog.Logger // nil: discard
}

// Result reports one stream's sync.
type Result struct {
	Stream   string
	Records  int64
	Bookmark string // "" when the stream has none
	Duration time.Duration
}

// Syncer runs the one sync loop shared by every stream.
type Syncer struct {
	API     API
	Out     Output
	State   *state.Tracker
	Options Options

	wroteAny atomic.Bool // any message written this run
}

// listing is one site-level list read for one or more streams.
type listing struct {
	source     string
	members    []*member
	begin, end time.Time
	maxWindows int // the most windows its range may be split into; 0: nothing in range
	windows    []*window
	keys       []string // top-level fields read from each source record
	posKey     int      // index in keys of the source's updated_at, -1 if unused
	idKey      int      // index in keys of "id", -1 if unused

	mu         sync.Mutex // guards windows[].done, members' per-window maxima
	remaining  int        // windows not yet finished
	startedAt  time.Time
	startOnce  sync.Once
	schemaOnce sync.Once // SCHEMA messages go out when the first page is answered
	schemaErr  error
}

type window struct {
	idx        int
	begin, end time.Time
	done       bool
}

type member struct {
	sel    Selected
	start  time.Time // this stream's own begin: its bookmark or start_date
	filter bool      // drop source records positioned before start
	pkKey  int       // index in listing keys (non-embedded streams)
	rkKey  int
	embKey int // index of the embedded field (embedded streams)

	count   atomic.Int64
	winMax  []time.Time // largest replication value written, per window
	lastLog int64
}

func (s *Syncer) logger() *slog.Logger {
	if s.Options.Logger != nil {
		return s.Options.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// Run syncs the selected streams: each stream's SCHEMA once the API first
// answers for its listing (a count or a page), then RECORDs and a STATE
// after every page, and a final STATE. It returns per-stream results (also
// on error, for the streams that ran) and the first error that stopped the
// run.
func (s *Syncer) Run(ctx context.Context, selected []Selected) ([]Result, error) {
	log := s.logger()
	now := time.Now
	if s.Options.Now != nil {
		now = s.Options.Now
	}
	signpost := now().UTC()
	end := signpost
	if !s.Options.EndDate.IsZero() && s.Options.EndDate.Before(end) {
		end = s.Options.EndDate.UTC()
	}

	listings := s.plan(selected, end)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	firstErr := s.size(ctx, listings)
	if firstErr != nil {
		cancel()
		for _, l := range listings {
			l.windows = nil // nothing is read after a failed count
		}
	}

	stopMetrics := s.startMetrics(listings)
	var (
		wg      sync.WaitGroup
		errOnce sync.Once
	)
	jobs := make(chan func(), 1024)
	workers := max(1, s.Options.MaxWorkers)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for job := range jobs {
				job()
			}
		}()
	}
	// Queue window 0 of every listing first, then window 1, ... so that every
	// stream's bookmark starts moving early.
	for i := 0; ; i++ {
		queued := false
		for _, l := range listings {
			if i >= len(l.windows) {
				continue
			}
			queued = true
			l, w := l, l.windows[i]
			jobs <- func() {
				if ctx.Err() != nil {
					return
				}
				if err := s.syncWindow(ctx, l, w, log); err != nil {
					errOnce.Do(func() { firstErr = err; cancel() })
				}
			}
		}
		if !queued {
			break
		}
	}
	close(jobs)
	wg.Wait()
	stopMetrics()

	s.State.SetCurrentlySyncing("")
	// The final STATE, unless nothing at all was written: a run refused by
	// the API on its first request leaves stdout empty.
	var stateErr error
	if s.wroteAny.Load() {
		stateErr = s.Out.WriteState(s.State.Snapshot())
	}

	var results []Result
	for _, l := range listings {
		for _, m := range l.members {
			r := Result{Stream: m.sel.Stream.Name, Records: m.count.Load()}
			if bm, ok := s.State.Bookmark(r.Stream, m.sel.Stream.ReplicationKey); ok {
				r.Bookmark = state.Format(bm)
			}
			if !l.startedAt.IsZero() {
				r.Duration = time.Since(l.startedAt)
			}
			results = append(results, r)
		}
	}
	if firstErr == nil && ctx.Err() != nil {
		firstErr = ctx.Err()
	}
	if firstErr == nil {
		firstErr = stateErr
	}
	return results, firstErr
}

// plan groups the selected streams by the listing they read, works out
// each listing's range and splits it into windows.
func (s *Syncer) plan(selected []Selected, end time.Time) []*listing {
	log := s.logger()
	bySource := map[string]*listing{}
	var order []*listing
	for _, sel := range selected {
		st := sel.Stream
		l := bySource[st.Source]
		if l == nil {
			l = &listing{source: st.Source, posKey: -1, idKey: -1}
			bySource[st.Source] = l
			order = append(order, l)
		}
		start := s.Options.StartDate.UTC()
		from := "start_date"
		if bm, ok := s.State.Bookmark(st.Name, st.ReplicationKey); ok {
			start, from = bm, "bookmark"
		}
		log.Info(fmt.Sprintf("stream %s: from %s %s to %s", st.Name, from, state.Format(start), state.Format(end)),
			"stream", st.Name, "source", "/"+st.Source)
		l.members = append(l.members, &member{sel: sel, start: start})
	}
	for _, l := range order {
		l.begin = l.members[0].start
		for _, m := range l.members[1:] {
			if m.start.Before(l.begin) {
				l.begin = m.start
			}
		}
		l.end = end
		key := func(name string) int {
			for i, k := range l.keys {
				if k == name {
					return i
				}
			}
			l.keys = append(l.keys, name)
			return len(l.keys) - 1
		}
		for _, m := range l.members {
			st := m.sel.Stream
			m.filter = m.start.After(l.begin)
			if m.filter {
				l.posKey = key("updated_at")
			}
			if st.Embedded == "" {
				m.pkKey, m.rkKey, m.embKey = key(st.KeyProperty), key(st.ReplicationKey), -1
			} else {
				m.embKey = key(st.Embedded)
				if st.Fallback != "" {
					l.idKey = key("id")
				}
			}
		}
		if !l.begin.Before(l.end) && !l.begin.Equal(l.end) {
			continue // nothing in range: no requests
		}
		l.maxWindows = maxWindows(l.begin, l.end, s.Options.Windows, s.Options.MinWindow)
	}
	return order
}

// size decides each listing's windows. A listing whose range is long enough
// to split is counted first with one HEAD request (the API's
// Recurly-Total-Records), running concurrently for all listings: a range
// too small to fill MinWindowPages pages per window is read as one cursor
// chain, and an empty one is not read at all (its SCHEMA still goes out).
// Without a usable count the range is split by time alone.
func (s *Syncer) size(ctx context.Context, listings []*listing) error {
	log := s.logger()
	minPages := s.Options.MinWindowPages
	if minPages <= 0 {
		minPages = 4
	}
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	sem := make(chan struct{}, max(1, s.Options.MaxWorkers))
	for _, l := range listings {
		if l.maxWindows <= 1 {
			l.setWindows(l.maxWindows)
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			n, _, err := s.API.Count(ctx, l.source, client.ListParams{Sort: "updated_at", Order: "asc", BeginTime: l.begin, EndTime: l.end})
			k := l.maxWindows
			switch {
			case errors.Is(err, client.ErrNoCount):
				log.Debug(fmt.Sprintf("%s: no record count (%v); splitting %d ways by time", streamNames(l), err, k))
			case err != nil:
				mu.Lock()
				firstErr = cmp.Or(firstErr, fmt.Errorf("%s: %w", streamNames(l), err))
				mu.Unlock()
				return
			default:
				pages := (n + PageSize - 1) / PageSize
				k = max(0, min(k, pages/minPages))
				if n > 0 {
					k = max(k, 1)
				}
				log.Debug(fmt.Sprintf("%s: %d records in range, %d windows", streamNames(l), n, k),
					"source", "/"+l.source, "records", n, "windows", k)
				if n == 0 {
					if err := s.writeSchemas(l); err != nil {
						mu.Lock()
						firstErr = cmp.Or(firstErr, err)
						mu.Unlock()
						return
					}
					for _, m := range l.members {
						log.Info(fmt.Sprintf("stream %s: done, no records in range", m.sel.Stream.Name), "stream", m.sel.Stream.Name, "records", 0)
					}
				}
			}
			l.setWindows(k)
		}()
	}
	wg.Wait()
	return firstErr
}

// setWindows splits the listing's range into k windows (none: nothing to read).
func (l *listing) setWindows(k int) {
	if k > 0 {
		l.windows = split(l.begin, l.end, k)
	}
	l.remaining = len(l.windows)
	for _, m := range l.members {
		m.winMax = make([]time.Time, len(l.windows))
	}
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

// split cuts [begin, end] into k windows of equal length. Window bounds are
// inclusive, as the API's begin_time and end_time are, so a record on a
// boundary second is read by both neighbours (a duplicate, never a loss).
func split(begin, end time.Time, k int) []*window {
	span := end.Sub(begin)
	out := make([]*window, k)
	for i := range k {
		b := begin.Add(span * time.Duration(i) / time.Duration(k)).Truncate(time.Second)
		e := begin.Add(span * time.Duration(i+1) / time.Duration(k)).Truncate(time.Second)
		if i == 0 {
			b = begin
		}
		if i == k-1 {
			e = end
		}
		out[i] = &window{idx: i, begin: b, end: e}
	}
	return out
}

// syncWindow pages through one window of a listing.
func (s *Syncer) syncWindow(ctx context.Context, l *listing, w *window, log *slog.Logger) error {
	l.startOnce.Do(func() {
		l.mu.Lock()
		l.startedAt = time.Now()
		l.mu.Unlock()
		s.State.SetCurrentlySyncing(l.members[0].sel.Stream.Name)
	})
	params := client.ListParams{Limit: PageSize, Sort: "updated_at", Order: "asc", BeginTime: w.begin, EndTime: w.end, Fields: l.keys}
	next := l.source
	for {
		page, _, err := s.API.ListPage(ctx, next, params)
		if err != nil {
			return fmt.Errorf("%s: %w", streamNames(l), err)
		}
		if err := s.writePage(ctx, l, w, page); err != nil {
			return err
		}
		if !page.HasMore {
			break
		}
		if page.Next == "" {
			return fmt.Errorf("%s: the API said has_more but gave no next link", streamNames(l))
		}
		next = page.Next
	}
	l.mu.Lock()
	w.done = true
	l.remaining--
	finished := l.remaining == 0
	s.advance(l)
	l.mu.Unlock()
	if err := s.Out.WriteState(s.State.Snapshot()); err != nil {
		return err
	}
	if finished {
		for _, m := range l.members {
			bm := "none"
			if t, ok := s.State.Bookmark(m.sel.Stream.Name, m.sel.Stream.ReplicationKey); ok {
				bm = state.Format(t)
			}
			log.Info(fmt.Sprintf("stream %s: done, %d records in %s, bookmark %s", m.sel.Stream.Name, m.count.Load(),
				time.Since(l.startedAt).Round(time.Millisecond), bm), "stream", m.sel.Stream.Name, "records", m.count.Load())
		}
	}
	return nil
}

func streamNames(l *listing) string {
	name := l.members[0].sel.Stream.Name
	for _, m := range l.members[1:] {
		name += "+" + m.sel.Stream.Name
	}
	return name
}

// writePage emits one page's records for every member stream, then moves
// the bookmarks over what was written and emits STATE.
func (s *Syncer) writePage(ctx context.Context, l *listing, w *window, page *client.Page) error {
	if err := s.writeSchemas(l); err != nil {
		return err
	}
	extracted := time.Now().UTC()
	fields := make([][]byte, len(l.keys))
	sub := make([][]byte, 2)
	batches := make([][]json.RawMessage, len(l.members))
	pageMax := make([]time.Time, len(l.members))

	for i, rec := range page.Records {
		if n := len(l.keys); len(page.Fields) == len(page.Records)*n {
			copy(fields, page.Fields[i*n:(i+1)*n])
		} else if err := jsonscan.Fields(rec, l.keys, fields); err != nil {
			return fmt.Errorf("%s: record %d of a page is not a JSON object: %v", streamNames(l), i, err)
		}
		var pos time.Time
		if l.posKey >= 0 {
			if v, ok := jsonscan.String(fields[l.posKey]); ok {
				pos, _ = time.Parse(time.RFC3339Nano, v)
			}
		}
		for mi, m := range l.members {
			st := m.sel.Stream
			if m.filter && !pos.IsZero() && pos.Before(m.start) {
				continue
			}
			out, pk, rk := rec, []byte(nil), []byte(nil)
			if m.embKey < 0 {
				pk, rk = fields[m.pkKey], fields[m.rkKey]
			} else {
				emb := fields[m.embKey]
				if emb == nil && st.Fallback != "" {
					fetched, err := s.fetchFallback(ctx, st, fields[l.idKey])
					if err != nil {
						return err
					}
					emb = fetched
				}
				if jsonscan.IsNull(emb) {
					continue
				}
				if err := jsonscan.Fields(emb, []string{st.KeyProperty, st.ReplicationKey}, sub); err != nil {
					return fmt.Errorf("%s: embedded %s of record %d is not a JSON object: %v", st.Name, st.Embedded, i, err)
				}
				out, pk, rk = emb, sub[0], sub[1]
			}
			id, ok := jsonscan.String(pk)
			if !ok || id == "" {
				return &RecordError{Stream: st.Name, Index: i, Problem: fmt.Sprintf("missing primary key %q", st.KeyProperty)}
			}
			if !jsonscan.IsNull(rk) {
				v, ok := jsonscan.String(rk)
				t, err := time.Parse(time.RFC3339Nano, v)
				if !ok || err != nil {
					return &RecordError{Stream: st.Name, ID: id, Index: i, Problem: fmt.Sprintf("%s %s is not an RFC 3339 timestamp", st.ReplicationKey, clip(rk))}
				}
				if t.After(pageMax[mi]) {
					pageMax[mi] = t
				}
			}
			if m.sel.Project != nil {
				projected, err := m.sel.Project(out)
				if err != nil {
					return &RecordError{Stream: st.Name, ID: id, Index: i, Problem: err.Error()}
				}
				out = projected
			}
			batches[mi] = append(batches[mi], out)
		}
	}
	for mi, m := range l.members {
		if len(batches[mi]) == 0 {
			continue
		}
		if err := s.Out.WriteRecords(m.sel.Stream.Name, batches[mi], extracted); err != nil {
			return err
		}
		m.count.Add(int64(len(batches[mi])))
	}
	l.mu.Lock()
	for mi, m := range l.members {
		if pageMax[mi].After(m.winMax[w.idx]) {
			m.winMax[w.idx] = pageMax[mi]
		}
	}
	s.advance(l)
	l.mu.Unlock()
	return s.Out.WriteState(s.State.Snapshot())
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

// advance moves each member's bookmark to the largest replication value
// written in the contiguous prefix of finished windows plus the first
// unfinished one. Later windows' records are written but not yet covered: an
// interrupted run re-reads them (duplicates, never a loss). l.mu is held.
func (s *Syncer) advance(l *listing) {
	for _, m := range l.members {
		var best time.Time
		for i, w := range l.windows {
			if m.winMax[i].After(best) {
				best = m.winMax[i]
			}
			if !w.done {
				break
			}
		}
		if !best.IsZero() {
			s.State.Advance(m.sel.Stream.Name, m.sel.Stream.ReplicationKey, best)
		}
	}
}

// fetchFallback fetches a derived record that its source record did not
// embed. A 404 means there is none (JSON null).
func (s *Syncer) fetchFallback(ctx context.Context, st Stream, rawID []byte) ([]byte, error) {
	id, ok := jsonscan.String(rawID)
	if !ok || id == "" {
		return nil, fmt.Errorf("%s: a %s record without %s has no id to fetch it by", st.Name, st.Source, st.Embedded)
	}
	body, _, err := s.API.Get(ctx, fmt.Sprintf(st.Fallback, id))
	if errors.Is(err, client.ErrNotFound) {
		return []byte("null"), nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", st.Name, err)
	}
	return body, nil
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

func clip(b []byte) string {
	if len(b) > 60 {
		return string(b[:60]) + "..."
	}
	return string(b)
}

// startMetrics logs record_count counters per stream every MetricInterval;
// the returned func stops it and logs the final counts.
func (s *Syncer) startMetrics(listings []*listing) func() {
	log := s.logger()
	every := s.Options.MetricInterval
	if every <= 0 {
		every = time.Minute
	}
	report := func() {
		for _, l := range listings {
			for _, m := range l.members {
				n := m.count.Load()
				delta := n - atomic.SwapInt64(&m.lastLog, n)
				log.Info(singer.FormatMetric("counter", "record_count", delta, map[string]any{"endpoint": m.sel.Stream.Name}))
			}
		}
	}
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				report()
			case <-done:
				return
			}
		}
	}()
	return func() {
		close(done)
		<-stopped
		report()
	}
}
