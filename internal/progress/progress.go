// Package progress shows how far each listing of a sync has got: records so
// far of the expected total, percent, rate and time left. On a terminal it
// draws one live bar per active listing (github.com/vbauerster/mpb); on a
// file or a pipe it logs one INFO line per active listing every interval,
// which the text and JSON log formats both carry.
//
// A Meter is safe for concurrent use. Its zero value is not usable: create
// one with NewLog or NewTerminal, and Stop it when the sync ends.
package progress

import (
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
	"golang.org/x/term"
)

// DefaultInterval is how often progress lines are logged.
const DefaultInterval = 30 * time.Second

// Meter tracks the progress of named listings.
type Meter struct {
	mu       sync.Mutex
	entries  map[string]*entry
	order    []string
	now      func() time.Time
	log      *slog.Logger
	bars     *mpb.Progress // nil: log lines instead
	stop     chan struct{}
	stopped  chan struct{}
	stopOnce sync.Once
}

type entry struct {
	name     string
	total    atomic.Int64 // -1: not known
	done     atomic.Int64
	started  time.Time
	finished bool
	bar      *mpb.Bar
}

// IsTerminal reports whether w is a terminal (a live display makes sense).
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// NewLog returns a Meter that logs every active listing's progress at INFO
// every interval (DefaultInterval if <= 0). now is the clock (nil:
// time.Now).
func NewLog(log *slog.Logger, interval time.Duration, now func() time.Time) *Meter {
	if interval <= 0 {
		interval = DefaultInterval
	}
	m := newMeter(now)
	m.log = log
	go m.tick(interval)
	return m
}

// NewTerminal returns a Meter drawing live bars on the terminal w, and the
// writer log lines must go through while it runs (they are printed above
// the bars instead of through them).
func NewTerminal(w io.Writer) (*Meter, io.Writer) { return newTerminal(w) }

// newTerminal takes extra container options (tests force a TTY).
func newTerminal(w io.Writer, opts ...mpb.ContainerOption) (*Meter, io.Writer) {
	m := newMeter(nil)
	opts = append([]mpb.ContainerOption{mpb.WithOutput(w), mpb.WithWidth(40), mpb.WithRefreshRate(200 * time.Millisecond)}, opts...)
	m.bars = mpb.New(opts...)
	close(m.stopped)
	return m, m.bars
}

func newMeter(now func() time.Time) *Meter {
	if now == nil {
		now = time.Now
	}
	return &Meter{entries: map[string]*entry{}, now: now, stop: make(chan struct{}), stopped: make(chan struct{})}
}

// Start marks the listing as begun.
func (m *Meter) Start(name string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.entryLocked(name)
}

// Expect says the listing holds total records in all (a count of its
// range); until then its total is not known, and neither percent nor ETA
// is shown.
func (m *Meter) Expect(name string, total int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.entryLocked(name)
	e.total.Store(int64(max(total, 0)))
	if e.bar != nil {
		e.bar.SetTotal(max(int64(total), e.done.Load(), 1), false)
	}
}

// Add counts n more records read from the listing.
func (m *Meter) Add(name string, n int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.entryLocked(name)
	done := e.done.Add(int64(n))
	if e.bar != nil {
		if total := e.total.Load(); total >= 0 && done > total {
			e.bar.SetTotal(done, false) // more than counted (a record read twice): a full bar, still open
		}
		e.bar.IncrBy(n)
	}
}

// Finish marks the listing as done.
func (m *Meter) Finish(name string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.entryLocked(name)
	e.finished = true
	if e.bar != nil {
		e.bar.SetTotal(-1, true)
	}
}

// Stop ends the display (bars are completed or aborted) or the periodic
// lines. It is safe to call more than once.
func (m *Meter) Stop() {
	m.stopOnce.Do(func() {
		close(m.stop)
		<-m.stopped
		if m.bars != nil {
			m.mu.Lock()
			for _, e := range m.entries {
				if !e.finished {
					e.bar.Abort(false)
				}
			}
			m.mu.Unlock()
			m.bars.Wait()
		}
	})
}

func (m *Meter) entryLocked(name string) *entry {
	e := m.entries[name]
	if e != nil {
		return e
	}
	e = &entry{name: name, started: m.now()}
	e.total.Store(-1)
	m.entries[name] = e
	m.order = append(m.order, name)
	if m.bars != nil {
		e.bar = m.bars.AddBar(0, mpb.BarRemoveOnComplete(), // total 0 until counted: an empty bar
			mpb.PrependDecorators(decor.Name(name, decor.WC{C: decor.DindentRight | decor.DextraSpace}), e.decorator(m.now, Status.counters)),
			mpb.AppendDecorators(e.decorator(m.now, Status.figures)),
		)
	}
	return e
}

// decorator renders part of the entry's status on its bar. It reads the
// entry's atomics only: bars are drawn while the Meter's lock may be held
// by a caller waiting on the bar.
func (e *entry) decorator(now func() time.Time, part func(Status) string) decor.Decorator {
	return decor.Any(func(decor.Statistics) string { return part(e.status(now())) })
}

func (m *Meter) tick(interval time.Duration) {
	defer close(m.stopped)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			m.Report()
		case <-m.stop:
			return
		}
	}
}

// Report logs one line per active listing now (NewLog meters; the ticker
// calls it every interval).
func (m *Meter) Report() {
	if m.log == nil {
		return
	}
	m.mu.Lock()
	lines := make([]Status, 0, len(m.order))
	for _, name := range m.order {
		if e := m.entries[name]; !e.finished {
			lines = append(lines, e.status(m.now()))
		}
	}
	m.mu.Unlock()
	for _, s := range lines {
		s.log(m.log)
	}
}

// Status is one listing's progress at a moment.
type Status struct {
	Name    string
	Records int64
	Total   int64         // -1: not known
	Rate    float64       // records per second since the listing started
	ETA     time.Duration // -1: not known
}

func (e *entry) status(now time.Time) Status {
	s := Status{Name: e.name, Records: e.done.Load(), Total: e.total.Load(), ETA: -1}
	if el := now.Sub(e.started).Seconds(); el > 0 {
		s.Rate = float64(s.Records) / el
	}
	if s.Total >= 0 && s.Rate > 0 {
		s.ETA = time.Duration(float64(max(0, s.Total-s.Records)) / s.Rate * float64(time.Second)).Round(time.Second)
	}
	return s
}

// Percent is Records of Total in percent (capped at 100), or -1.
func (s Status) Percent() float64 {
	if s.Total < 0 {
		return -1
	}
	if s.Total == 0 || s.Records >= s.Total {
		return 100
	}
	return 100 * float64(s.Records) / float64(s.Total)
}

// String is the line logged: "accounts: 1200 of 5000 records (24.0%),
// 300 records/s, ETA 13s".
func (s Status) String() string {
	if s.Total < 0 {
		return fmt.Sprintf("%s: %d records so far, %.0f records/s", s.Name, s.Records, s.Rate)
	}
	eta := "unknown"
	if s.ETA >= 0 {
		eta = s.ETA.String()
	}
	return fmt.Sprintf("%s: %d of %d records (%.1f%%), %.0f records/s, ETA %s", s.Name, s.Records, s.Total, s.Percent(), s.Rate, eta)
}

// counters is the bar's text before the bar: "1200 / 5000", or "1200"
// while the total is not known.
func (s Status) counters() string {
	if s.Total < 0 {
		return strconv.FormatInt(s.Records, 10)
	}
	return fmt.Sprintf("%d / %d", s.Records, s.Total)
}

// figures is the bar's text after the bar: " 24 % 300 rec/s ETA 13s", or
// only the rate while the total is not known (no percent, no ETA).
func (s Status) figures() string {
	rate := fmt.Sprintf("%.0f rec/s", s.Rate)
	if s.Total < 0 {
		return " " + rate
	}
	eta := "?"
	if s.ETA >= 0 {
		eta = s.ETA.String()
	}
	return fmt.Sprintf(" %3.0f %% %s ETA %s", math.Floor(s.Percent()), rate, eta)
}

func (s Status) log(l *slog.Logger) {
	attrs := []any{"listing", s.Name, "records", s.Records, "rate", int64(s.Rate)}
	if s.Total >= 0 {
		attrs = append(attrs, "total", s.Total, "percent", float64(int(s.Percent()*10))/10)
	}
	if s.ETA >= 0 {
		attrs = append(attrs, "eta_s", int64(s.ETA.Seconds()))
	}
	l.Info("progress: "+s.String(), attrs...)
}
