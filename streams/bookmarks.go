package streams

import (
	"fmt"
	"time"

	"github.com/tap-recurly/tap-recurly/state"
)

// Bookmarks move only over records already written, and STATE lines never
// go backwards: every bookmark move, and the STATE snapshot that shows it,
// happens under Syncer.stateMu, in the order the STATE lines are written.

// checkpoint records the largest replication values a chain's page wrote
// (pageMax, per member; nil for none), and, when chainDone, that the chain
// finished; then it moves the bookmarks and writes a STATE if anything in
// it changed (a per-parent stream's child pages mostly change nothing).
func (s *Syncer) checkpoint(c *chain, pageMax []time.Time, chainDone bool) error {
	_, err := s.countdown(c, pageMax, chainDone)
	return err
}

// countdown is checkpoint, and reports whether this call finished the
// listing: its last chain's countdown took the listing's remaining windows
// to zero. That is decided under the same lock as the countdown, so it is
// true for exactly one call per listing, however close its last chains
// finish.
func (s *Syncer) countdown(c *chain, pageMax []time.Time, chainDone bool) (finished bool, err error) {
	s.stateMu.Lock()
	defer s.stateMu.Unlock()
	l, w := c.l, c.w
	for mi, m := range l.members {
		if mi < len(pageMax) && pageMax[mi].After(m.winMax[w.idx]) {
			m.winMax[w.idx] = pageMax[mi]
		}
	}
	if chainDone {
		w.chains--
		if w.chains == 0 {
			w.done = true
			l.remaining--
			finished = l.remaining == 0
		}
	}
	s.advance(l)
	if st, changed := s.State.EncodeIfChanged(); changed {
		return finished, s.Out.WriteState(st)
	}
	return finished, nil
}

// finishChain marks a chain read to its end, writes a STATE, and, when it
// was the listing's last chain, ends the listing: it lists the parents
// updated after the signpost for a listing that supplies parent ids (see
// listingDone), and logs each stream of the listing as done.
func (s *Syncer) finishChain(c *chain) error {
	finished, err := s.countdown(c, nil, true)
	if err != nil {
		return err
	}
	if s.trace != nil {
		s.trace("countdown", c.l)
	}
	if !finished {
		return nil
	}
	s.listingDone(c.l)
	s.progress().Finish(c.l.names())
	took := s.now().Sub(c.l.started()).Round(time.Millisecond)
	for _, m := range c.l.members {
		bm := "none"
		if t, ok := s.State.Bookmark(m.sel.Stream.Name, m.sel.Stream.ReplicationKey); ok {
			bm = state.Format(t)
		}
		s.logger().Info(fmt.Sprintf("stream %s: done, %d records in %s, bookmark %s", m.sel.Stream.Name, m.count.Load(), took, bm),
			"stream", m.sel.Stream.Name, "records", m.count.Load())
	}
	return nil
}

// advance moves each member's bookmark to the largest replication value
// written in the contiguous prefix of finished windows plus the first
// unfinished one. Later windows' records are written but not yet covered: an
// interrupted run re-reads them (duplicates, never a loss). A listing whose
// records came out of order moves its bookmarks only once it is finished.
// s.stateMu is held.
func (s *Syncer) advance(l *listing) {
	if l.unordered && l.remaining > 0 {
		return
	}
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

// finalState writes the run's last STATE. A successful run always ends
// with one, even when it had nothing to read (every bookmark ahead of the
// run's end, or no stream selected): it carries the state forward, and a
// caller saving the last STATE finds one. A failed run writes it only if it
// wrote anything before: a run refused by the API on its first request
// leaves stdout empty.
func (s *Syncer) finalState(ok bool) error {
	if !ok && !s.wroteAny.Load() {
		return nil
	}
	s.stateMu.Lock()
	defer s.stateMu.Unlock()
	return s.Out.WriteState(s.State.Snapshot())
}

// markUnordered notes that a listing's records came out of position order:
// its bookmarks stay where they are until every record of the listing is
// written, so that an interruption cannot leave a bookmark ahead of
// records not yet written. One WARN line per listing.
func (s *Syncer) markUnordered(l *listing) {
	s.stateMu.Lock()
	first := !l.unordered
	l.unordered = true
	s.stateMu.Unlock()
	if first {
		s.logger().Warn(fmt.Sprintf("%s: records arrived out of updated_at order; the bookmark moves only when the listing is read to its end", l.names()),
			"stream", l.members[0].sel.Stream.Name)
	}
}
