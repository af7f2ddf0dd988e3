package streams

import (
	"context"
	"fmt"
	"hash/maphash"
	"slices"
	"sync"

	"github.com/tap-recurly/tap-recurly/client"
	"github.com/tap-recurly/tap-recurly/internal/jsonscan"
	"github.com/tap-recurly/tap-recurly/state"
)

// Completeness.
//
// A site-level listing answered in one page needs no count: the page is the
// count. A listing longer than a page is counted (HEAD) once its first page
// says more is left, and the records its chains read are tallied. Once the
// listing is read to its end, the distinct records read are compared with
// the site's count of the same range. Records can move out of a past range
// (an update moves updated_at past the run's end), never into it, so a
// count taken after the listing finished never exceeds what a complete
// listing read: when it does, records the site holds were not listed, and
// the tap warns. The early count serves when at least that many distinct
// records were read, so a complete listing costs that one HEAD; only when
// fewer were read (records moved, or were skipped) is the range counted
// again, and only that later count can raise the warning.
//
// Distinct, in memory that does not grow with the listing: a record is read
// twice only where windows meet (bounds are inclusive), so it is at the end
// of one chain and the start of the next. Each chain counts the records it
// keeps and remembers the ids of its first and last pages only; a record
// found in two chains' pages counts once. (Ties on a window bound spanning
// more than a page would be counted twice: that can only hide a gap, never
// report one.)

// tally is what a site-level listing read, for its completeness check and
// the run's summary. Its zero value is a listing not read (or not counted:
// per-parent listings are not).
type tally struct {
	mu      sync.Mutex
	known   bool // counted holds the site's count (or the one page's records)
	multi   bool // the listing is longer than a page: its chains are tallied
	early   int  // the count taken after the first page, -1 if none
	counted int  // the count the listing is judged by
	read    int  // distinct records read, once checked
	short   bool // checked, and the site counts more than was read
	seed    maphash.Seed
	kept    int        // records kept by the finished chains
	edges   [][]uint64 // per finished chain, id hashes of its first and last pages' records
	once    sync.Once
}

// onePage notes a listing answered in one page of n records.
func (t *tally) onePage(n int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.known, t.counted, t.read = true, n, n
}

// begin starts tallying a listing longer than a page; total is its count
// (-1: none).
func (t *tally) begin(total int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.multi, t.early, t.seed = true, total, maphash.MakeSeed()
	t.known, t.counted = total >= 0, total
}

// chainTally is what one chain of a listing read: the records it kept
// (those up to its bound), and the id hashes of its first page's and of
// its latest page's records.
type chainTally struct {
	on          bool // the listing is tallied
	kept, pages int
	first, last []uint64
}

// newChainTally starts counting a chain of l.
func (l *listing) newChainTally() *chainTally {
	l.tally.mu.Lock()
	defer l.tally.mu.Unlock()
	return &chainTally{on: l.tally.multi}
}

// page counts a page of chain c; out says whether records past the chain's
// bound were skipped in it (they are not counted: a later window reads
// them).
func (ct *chainTally) page(c *chain, page *client.Page, out pageOut) {
	if !ct.on {
		return
	}
	l := c.l
	n, at := len(l.keys), slices.Index(l.keys, "id")
	located := len(page.Fields) == len(page.Records)*n
	ids := ct.last[:0]
	if ct.pages == 0 {
		ids = nil // the first page's hashes stay
	}
	fields := make([][]byte, n)
	for i, rec := range page.Records {
		if located {
			copy(fields, page.Fields[i*n:(i+1)*n])
		} else if jsonscan.Fields(rec, l.keys, fields) != nil {
			continue // not an object: the page was refused
		}
		if out.past {
			if pos, _ := l.position(fields); pos.After(c.until) {
				continue
			}
		}
		ct.kept++
		id := rec
		if at >= 0 && fields[at] != nil {
			id = fields[at]
		}
		ids = append(ids, maphash.Bytes(l.tally.seed, id))
	}
	if ct.pages == 0 {
		ct.first = ids
	} else {
		ct.last = ids
	}
	ct.pages++
}

// done adds a finished chain to its listing's tally.
func (t *tally) done(ct *chainTally) {
	if !ct.on {
		return
	}
	edge := slices.Concat(ct.first, ct.last)
	slices.Sort(edge)
	edge = slices.Compact(edge) // a chain's own repeats are not told apart
	t.mu.Lock()
	defer t.mu.Unlock()
	t.kept += ct.kept
	t.edges = append(t.edges, edge)
}

// distinct is how many different records the finished chains read: those
// kept, less each record found again in another chain's first or last
// page. Two ids sharing a 64-bit hash would count once.
func (t *tally) distinct() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	all := slices.Concat(t.edges...)
	slices.Sort(all)
	return t.kept - (len(all) - len(slices.Compact(all)))
}

// figures are the count a listing is judged by (-1: none) and whether it
// came up short.
func (t *tally) figures() (counted int, short bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.known {
		return -1, false
	}
	return t.counted, t.short
}

// reconcile checks a listing longer than a page against the site's count,
// once, when its last chain has finished.
func (s *Syncer) reconcile(ctx context.Context, l *listing) error {
	l.tally.mu.Lock()
	multi := l.tally.multi
	l.tally.mu.Unlock()
	if !multi {
		return nil
	}
	s.stateMu.Lock()
	finished := l.remaining == 0
	s.stateMu.Unlock()
	var err error
	if finished {
		l.tally.once.Do(func() { err = s.check(ctx, l) })
	}
	return err
}

// check compares the distinct records a finished listing read with the
// site's count of its range, counting again only when fewer were read than
// the early count, and warns when the site counts more. A count that fails
// leaves the listing unchecked (a WARN line), unless it would stop every
// request anyway.
func (s *Syncer) check(ctx context.Context, l *listing) error {
	t := &l.tally
	read := t.distinct()
	n := t.early
	if n < 0 || read < n {
		var err error
		n, _, err = s.API.Count(ctx, l.source, l.params(l.begin, l.end))
		switch {
		case err == nil:
		case stopsRun(ctx, err):
			return fmt.Errorf("%s: %w", l.names(), err)
		default:
			s.logger().Warn(fmt.Sprintf("%s: read %d records; the site's count failed (%v), so they are not checked against it", l.names(), read, err),
				"stream", l.members[0].sel.Stream.Name, "read", read)
			return nil
		}
	}
	t.mu.Lock()
	t.known, t.counted, t.read, t.short = true, n, read, n > read
	t.mu.Unlock()
	if n > read {
		s.logger().Warn(fmt.Sprintf("%s: the site counts %d records from %s to %s, the listing read %d: %d missing (the bookmark has moved past them; a run without this listing's bookmarks reads them again)",
			l.names(), n, state.Format(l.begin), state.Format(l.end), read, n-read),
			"stream", l.members[0].sel.Stream.Name, "counted", n, "read", read, "begin", state.Format(l.begin), "end", state.Format(l.end))
	}
	return nil
}
