package streams

import (
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
