package streams

import (
	"context"
	"errors"
	"fmt"
	"iter"

	"github.com/tap-recurly/tap-recurly/client"
)

// start is a listing's first job. It reads the first page of the
// listing's whole range, so that a listing with nothing new costs exactly
// one request (the page is the count). Only when that page says more is
// left is the range counted (one HEAD): the count is the total the progress
// display shows, sizes the split of the rest (see splitRest), and is what
// the listing is checked against once read (see reconcile). The job then
// pages on through its own chain.
func (s *Syncer) start(ctx context.Context, p *pool, l *listing) error {
	s.markStarted(l)
	s.stateMu.Lock()
	head := l.headChain()
	s.stateMu.Unlock()
	next, stop := iter.Pull2(s.API.List(ctx, head.path, head.params))
	defer stop()
	first, err, ok := next()
	if err != nil {
		return fmt.Errorf("%s: %w", l.names(), err)
	}
	if !ok {
		first = &client.Page{} // an API that yields no page: an empty listing
	}
	out, err := s.writePage(ctx, &head, first)
	if err != nil {
		return err
	}
	s.progress().Add(l.names(), len(first.Records))
	var ct *chainTally
	if !first.HasMore {
		l.tally.onePage(len(first.Records))
	} else {
		total, err := s.count(ctx, l)
		if err != nil {
			return err
		}
		l.tally.begin(total)
		ct = l.newChainTally()
		keep, err := s.splitRest(ctx, p, &head, out, total-len(first.Records))
		if err != nil || !keep {
			return err // dropped, the head chain's page is read again by window 0, and tallied there
		}
		ct.page(&head, first, out)
	}
	return s.readTallied(ctx, &head, ct, func(yield func(*client.Page, error) bool) {
		for page, err, ok := next(); ok && yield(page, err); page, err, ok = next() {
		}
	})
}

// splitRest decides, after a listing's first page said more is left,
// whether to read the rest of the range in windows; rest is how many
// records the count leaves after the first page (negative: not counted).
// Where the first page's records carry their position (updated_at) in
// order, the rest is [position of its last record, end], else the whole
// range. The head chain reads on as window 0 up to the first window bound,
// stopping at the first page with a record past it, and the other windows
// start fresh. Where no record shows even a lower bound of its position,
// the head chain could not tell where to stop: it is dropped (false), and
// window 0 reads its page again (one request, a page of duplicates).
func (s *Syncer) splitRest(ctx context.Context, p *pool, head *chain, first pageOut, rest int) (keep bool, err error) {
	l := head.l
	positioned := first.ordered && !first.last.IsZero()
	from := l.begin
	if positioned {
		from = first.last
	}
	k := maxWindows(from, l.end, s.Options.Windows, s.Options.MinWindow)
	if k > 1 && rest >= 0 {
		minPages := s.Options.MinWindowPages
		if minPages <= 0 {
			minPages = 4
		}
		k = max(1, min(k, (rest+PageSize-1)/PageSize/minPages))
		s.logger().Debug(fmt.Sprintf("%s: %d more records in range, %d windows", l.names(), rest, k),
			"source", "/"+l.source, "records", rest, "windows", k)
	}
	if k <= 1 {
		return true, nil
	}
	keep = positioned || l.lowKey >= 0
	s.stateMu.Lock()
	chains := l.setWindows(from, k, keep)
	s.stateMu.Unlock()
	if keep {
		head.w, head.until = l.windows[0], l.windows[0].end
	}
	for _, c := range chains {
		p.add(c.w.idx, func(ctx context.Context) error { return s.readChain(ctx, c) })
	}
	return keep, nil
}

// count asks the API (HEAD) how many records the listing's range [begin,
// end] holds; -1 when it gives no count (no usable header, a HEAD the API
// refuses or fails): a count is a hint, and the first page already said
// there is more, so the range is then read and split by time alone. Only
// what would stop every request (authentication, the rate limit, the run's
// end) stops the run.
func (s *Syncer) count(ctx context.Context, l *listing) (int, error) {
	log := s.logger()
	n, _, err := s.API.Count(ctx, l.source, l.params(l.begin, l.end))
	switch {
	case err == nil:
	case stopsRun(ctx, err):
		return 0, fmt.Errorf("%s: %w", l.names(), err)
	case errors.Is(err, client.ErrNoCount):
		log.Debug(fmt.Sprintf("%s: no record count (%v); reading on without a total", l.names(), err))
		return -1, nil
	default:
		log.Warn(fmt.Sprintf("%s: the record count failed (%v); reading on without it", l.names(), err),
			"stream", l.members[0].sel.Stream.Name)
		return -1, nil
	}
	s.progress().Expect(l.names(), n)
	log.Debug(fmt.Sprintf("%s: %d records in range", l.names(), n), "source", "/"+l.source, "records", n)
	return n, nil
}

// stopsRun reports whether err, from a request of the run, would stop every
// request: the run's end, authentication, the rate limit or the quota.
func stopsRun(ctx context.Context, err error) bool {
	return ctx.Err() != nil || errors.Is(err, client.ErrUnauthorized) || errors.Is(err, client.ErrForbidden) ||
		errors.Is(err, client.ErrRateLimited) || errors.Is(err, client.ErrQuotaWait)
}

// readChain pages through one cursor chain with API.List (the one paging
// loop, which also refuses a chain that loops).
func (s *Syncer) readChain(ctx context.Context, c chain) error {
	return s.readPages(ctx, &c, s.API.List(ctx, c.path, c.params))
}

// readPages writes each page of a chain, stopping early when a page passes
// the chain's bound (the rest belongs to a later window), then marks the
// chain finished.
func (s *Syncer) readPages(ctx context.Context, c *chain, pages iter.Seq2[*client.Page, error]) error {
	return s.readTallied(ctx, c, nil, pages)
}

// readTallied is readPages, with ct tallying the chain's records for the
// completeness check (nil: a new tally).
func (s *Syncer) readTallied(ctx context.Context, c *chain, ct *chainTally, pages iter.Seq2[*client.Page, error]) error {
	if ct == nil {
		ct = c.l.newChainTally()
	}
	for page, err := range pages {
		if err != nil {
			return fmt.Errorf("%s: %w", c.l.names(), err)
		}
		out, err := s.writePage(ctx, c, page)
		if err != nil {
			return err
		}
		s.progress().Add(c.l.names(), len(page.Records))
		ct.page(c, page, out)
		if out.past {
			break
		}
	}
	c.l.tally.done(ct)
	if err := s.finishChain(c); err != nil {
		return err
	}
	return s.reconcile(ctx, c.l)
}

// markStarted notes the listing's start time and makes its first stream
// the state's currently_syncing, once.
func (s *Syncer) markStarted(l *listing) {
	l.startOnce.Do(func() {
		now := s.now()
		l.startedAt.Store(&now)
		s.State.SetCurrentlySyncing(l.members[0].sel.Stream.Name)
		s.progress().Start(l.names())
	})
}
