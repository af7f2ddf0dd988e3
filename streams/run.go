package streams

import (
	"context"
	"encoding/json"
	"iter"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tap-recurly/tap-recurly/client"
	"github.com/tap-recurly/tap-recurly/state"
)

// PageSize is the list page size the sync asks for: the API's maximum.
const PageSize = 200

// API is what the sync loop needs of the Recurly client.
type API interface {
	// List pages through a list from path (site-relative), following next
	// links; it is the tap's one paging loop (see client.Client.List).
	List(ctx context.Context, path string, p client.ListParams) iter.Seq2[*client.Page, error]
	Count(ctx context.Context, path string, p client.ListParams) (int, *client.Response, error)
	Get(ctx context.Context, path string) (json.RawMessage, *client.Response, error)
}

var _ API = (*client.Client)(nil)

// Output is what the sync loop needs of the Singer writer.
type Output interface {
	WriteSchema(stream string, schema json.RawMessage, keyProperties, bookmarkProperties []string) error
	WriteRecords(stream string, records []json.RawMessage, extracted time.Time) error
	// WriteLineRecords is WriteRecords for records known to hold no CR or LF byte.
	WriteLineRecords(stream string, records []json.RawMessage, extracted time.Time) error
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
	Now       func() time.Time // the clock of the run; nil: time.Now
	// MaxWorkers bounds the requests in flight at once across all streams
	// (counts, pages and their windows).
	MaxWorkers int
	// Windows is the most time windows one listing's range is split into;
	// each window is a separate cursor chain fetched concurrently. Only
	// when a listing's first page says more is left over a range that could
	// be split is the rest counted with one HEAD request, and split only as
	// far as it holds MinWindowPages pages per window; each extra window
	// costs at most one extra (partial) page.
	Windows int
	// MinWindow is the shortest window worth splitting off (default 30 days).
	MinWindow time.Duration
	// MinWindowPages is the fewest pages of records a window is split off
	// for (default 4: splitting then costs under a quarter of a page per
	// page read).
	MinWindowPages int
	// MetricInterval is how often record_count metrics are logged (default 60s).
	MetricInterval time.Duration
	// SampleStream is the stream whose first SampleSize records are
	// validated in full with jsonschema/v5; "" picks one of the selected
	// streams at random, each run.
	SampleStream string
	Logger       *slog.Logger // nil: discard
	Progress     Progress     // nil: no progress reports
}

// Result reports one stream's sync.
type Result struct {
	Stream   string
	Records  int64
	Bookmark string // "" when the stream has none
	Duration time.Duration
	Schema   SchemaStats // what conforming its records to the SCHEMA did
	// Listing is the list the stream's records came from, e.g. "accounts"
	// for billing_info, "accounts/{id}/notes" for account_notes; Counted is
	// the site's count of that list's records over the run's range (for a
	// listing answered in one page, the page's records), -1 when not known:
	// per-parent streams are not counted.
	Listing  string
	Counted  int64
	Warnings Warnings
}

// Warnings counts what a stream's run warned about, for its summary line.
type Warnings struct {
	// Completeness is 1 when the site counts more records in the stream's
	// listing's range than the listing read.
	Completeness int
}

// Syncer runs the one sync loop shared by every stream. Fill in its
// fields, then call Run once.
type Syncer struct {
	API API
	Out Output
	// State holds the bookmarks the run starts from and moves; nil: Run
	// starts from an empty state (a new Tracker, left in State).
	State   *state.Tracker
	Options Options

	wroteAny atomic.Bool // any message written this run
	pool     *pool       // the run's worker pool, set before any job runs
	// stateMu orders bookmark moves and the STATE lines that show them, and
	// guards every listing's windows: a STATE is snapshotted and written
	// under it, so a later STATE never shows an older bookmark.
	stateMu sync.Mutex
	// trace, when set (by tests), is told of steps in a listing's end:
	// "countdown" after a chain finished and before the listing's end is
	// acted on, "listingDone" and "feedDone" (once per child listing the
	// feed releases). Nil in the product.
	trace func(event string, l *listing)
}

func (s *Syncer) logger() *slog.Logger {
	if s.Options.Logger != nil {
		return s.Options.Logger
	}
	return slog.New(slog.DiscardHandler)
}

func (s *Syncer) now() time.Time {
	if s.Options.Now != nil {
		return s.Options.Now()
	}
	return time.Now()
}

// Run syncs the selected streams: each stream's SCHEMA once the API first
// answers for its listing (a count or a page), then RECORDs and a STATE
// after every page, and a final STATE. It returns per-stream results (also
// on error, for the streams that ran) and the first error that stopped the
// run.
func (s *Syncer) Run(ctx context.Context, selected []Selected) ([]Result, error) {
	if s.State == nil {
		s.State = &state.Tracker{}
	}
	listings := s.plan(selected, s.runEnd())
	s.pickSample(listings)
	err := s.readAllMetered(ctx, listings)
	s.reportSchema(listings)
	if err == nil {
		err = ctx.Err()
	}
	s.State.SetCurrentlySyncing("")
	if stateErr := s.finalState(err == nil); err == nil {
		err = stateErr
	}
	return s.results(listings), err
}

// readAllMetered is readAll with record_count metrics logged while it runs.
func (s *Syncer) readAllMetered(ctx context.Context, listings []*listing) error {
	stopMetrics := s.startMetrics(listings)
	defer stopMetrics() // also on a panic: the ticker goroutine ends
	return s.readAll(ctx, listings)
}

// runEnd is the end of every stream's range: the signpost (the time the run
// starts), or end_date when that is earlier.
func (s *Syncer) runEnd() time.Time {
	end := s.now().UTC()
	if !s.Options.EndDate.IsZero() && s.Options.EndDate.Before(end) {
		end = s.Options.EndDate.UTC()
	}
	return end
}

// readAll reads every listing on the worker pool: each listing's first job
// sizes it and queues its cursor chains. Window 0 of every listing ranks
// before window 1 of any, so that every stream's bookmark starts moving
// early.
func (s *Syncer) readAll(ctx context.Context, listings []*listing) error {
	p := newPool(ctx, max(1, s.Options.MaxWorkers))
	s.pool = p
	for _, l := range listings {
		switch {
		case !l.inRange:
		case l.kids != nil:
			p.add(0, func(ctx context.Context) error { return s.startChildren(ctx, l) })
		default:
			p.add(0, func(ctx context.Context) error { return s.start(ctx, p, l) })
		}
	}
	return p.wait()
}

// results reports each selected stream's records, bookmark and duration.
func (s *Syncer) results(listings []*listing) []Result {
	var out []Result
	for _, l := range listings {
		for _, m := range l.members {
			r := Result{Stream: m.sel.Stream.Name, Records: m.count.Load(), Schema: m.conform.snapshot(), Listing: m.sel.Stream.Path()}
			counted, short := l.tally.figures()
			r.Counted = int64(counted)
			if short {
				r.Warnings.Completeness = 1
			}
			if bm, ok := s.State.Bookmark(r.Stream, m.sel.Stream.ReplicationKey); ok {
				r.Bookmark = state.Format(bm)
			}
			if started := l.started(); !started.IsZero() {
				r.Duration = s.now().Sub(started)
			}
			out = append(out, r)
		}
	}
	return out
}
