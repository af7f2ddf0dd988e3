package streams

import (
	"context"
	"errors"
	"fmt"
	"iter"

	"github.com/tap-recurly/tap-recurly/client"
)

// start is a listing's first job: it decides the listing's windows and
// queues one job per cursor chain, window i at rank i.
func (s *Syncer) start(ctx context.Context, p *pool, l *listing) error {
	k, err := s.size(ctx, l)
	if err != nil {
		return err
	}
	s.stateMu.Lock()
	chains := l.setWindows(k)
	s.stateMu.Unlock()
	if len(chains) == 0 {
		s.listingDone(l)
	}
	for i, c := range chains {
		p.add(i, func(ctx context.Context) error { return s.readChain(ctx, c) })
	}
	return nil
}

// size decides how many windows a listing's range is read in. A range long
// enough to split is counted first with one HEAD request (the API's
// Recurly-Total-Records): a range too small to fill MinWindowPages pages
// per window is read as one cursor chain, and an empty one is not read at
// all (its SCHEMA still goes out). Without a usable count the range is
// split by time alone.
func (s *Syncer) size(ctx context.Context, l *listing) (int, error) {
	k := l.maxWindows
	if k <= 1 {
		return k, nil
	}
	log := s.logger()
	n, _, err := s.API.Count(ctx, l.source, l.params(l.begin, l.end))
	switch {
	case errors.Is(err, client.ErrNoCount):
		log.Debug(fmt.Sprintf("%s: no record count (%v); splitting %d ways by time", l.names(), err, k))
		return k, nil
	case err != nil:
		return 0, fmt.Errorf("%s: %w", l.names(), err)
	}
	minPages := s.Options.MinWindowPages
	if minPages <= 0 {
		minPages = 4
	}
	k = max(0, min(k, (n+PageSize-1)/PageSize/minPages))
	if n > 0 {
		k = max(k, 1)
	}
	log.Debug(fmt.Sprintf("%s: %d records in range, %d windows", l.names(), n, k),
		"source", "/"+l.source, "records", n, "windows", k)
	if n == 0 {
		if err := s.writeSchemas(l); err != nil {
			return 0, err
		}
		for _, m := range l.members {
			log.Info(fmt.Sprintf("stream %s: done, no records in range", m.sel.Stream.Name), "stream", m.sel.Stream.Name, "records", 0)
		}
	}
	return k, nil
}

// readChain pages through one cursor chain with API.List (the one paging
// loop, which also refuses a chain that loops).
func (s *Syncer) readChain(ctx context.Context, c chain) error {
	s.markStarted(c.l)
	return s.readPages(ctx, c, s.API.List(ctx, c.path, c.params))
}

// readPages writes each page of a chain, then marks the chain finished.
func (s *Syncer) readPages(ctx context.Context, c chain, pages iter.Seq2[*client.Page, error]) error {
	for page, err := range pages {
		if err != nil {
			return fmt.Errorf("%s: %w", c.l.names(), err)
		}
		if err := s.writePage(ctx, c, page); err != nil {
			return err
		}
	}
	return s.finishChain(c)
}

// markStarted notes the listing's start time and makes its first stream
// the state's currently_syncing, once.
func (s *Syncer) markStarted(l *listing) {
	l.startOnce.Do(func() {
		now := s.now()
		l.startedAt.Store(&now)
		s.State.SetCurrentlySyncing(l.members[0].sel.Stream.Name)
	})
}
