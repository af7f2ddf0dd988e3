package streams

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/tap-recurly/tap-recurly/singer"
)

// startMetrics logs a record_count counter per stream every MetricInterval;
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
				delta := n - m.lastLog.Swap(n)
				log.Info(singer.FormatMetric(singer.MetricCounter, singer.MetricRecordCount, delta,
					map[string]any{singer.TagEndpoint: m.sel.Stream.Name}))
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

// Summary is the stream's line in the run's summary: "accounts: emitted
// 447, counted 450 (/accounts), warnings: schema 0, completeness 1". Schema
// warnings are values converted to the schema's type plus records carrying
// fields the schema lacks (SchemaStats.Warnings).
func (r Result) Summary() string {
	counted := "not counted"
	if r.Counted >= 0 {
		counted = fmt.Sprintf("counted %d", r.Counted)
	}
	return fmt.Sprintf("%s: emitted %d, %s (/%s), warnings: schema %d, completeness %d",
		r.Stream, r.Records, counted, r.Listing, r.Schema.Warnings(), r.Warnings.Completeness)
}

// LogSummary logs one INFO line per stream: what it emitted, what the site
// counts, and what it warned about (see Result.Summary).
func LogSummary(log *slog.Logger, results []Result) {
	for _, r := range results {
		log.Info("summary: "+r.Summary(), "stream", r.Stream, "emitted", r.Records, "counted", r.Counted,
			"listing", "/"+r.Listing, "schema_warnings", r.Schema.Warnings(), "completeness_warnings", r.Warnings.Completeness)
	}
}
