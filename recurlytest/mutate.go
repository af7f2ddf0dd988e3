package recurlytest

import (
	"context"
	"slices"
	"time"
)

// Touch updates n pseudo-random records of resource now: updated_at (the
// hidden one for transactions) becomes the current time truncated to the
// second (never moving backwards) and the version is bumped, so some field
// values change. About a third of touched accounts with billing info also
// get their billing info updated. It returns the touched ids (fewer than n
// when the resource has fewer records; none for an unknown resource).
// Keyset cursors handed out earlier stay valid. Notes are never updated
// (AccountNote has no updated_at), so touching Notes does nothing.
func (s *Site) Touch(resource string, n int) []string {
	k, ok := kindByName(resource)
	if !ok || n <= 0 || k == kNote {
		return nil
	}
	now := s.now().UTC().Truncate(time.Second).Unix()
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tables[k]
	n = min(n, t.n)
	picked := make(map[int]bool, n)
	ids := make([]string, 0, n)
	for len(ids) < n {
		s.touchMu.Lock()
		i := s.touchRNG.IntN(t.n)
		alsoBilling := s.touchRNG.IntN(3) == 0
		s.touchMu.Unlock()
		if picked[i] {
			continue
		}
		picked[i] = true
		s.touch(t, i, now, alsoBilling)
		ids = append(ids, t.id(i))
	}
	return ids
}

// touch moves record i's updated time to now and re-sorts it. The caller
// holds s.mu for writing.
func (s *Site) touch(t *table, i int, now int64, alsoBilling bool) {
	pos, found := slices.BinarySearchFunc(t.byUpdated, int32(i), func(a, b int32) int { return t.less(t.updated, a, b) })
	if !found { // cannot happen: the order holds every index
		panic("recurlytest: record missing from its updated_at order")
	}
	t.byUpdated = slices.Delete(t.byUpdated, pos, pos+1)
	t.updated[i] = max(t.updated[i], now)
	t.version[i]++
	if t.kind == kAccount && alsoBilling && t.billUpdated[i] != noTime {
		t.billUpdated[i] = max(t.billUpdated[i], t.updated[i])
	}
	pos, _ = slices.BinarySearchFunc(t.byUpdated, int32(i), func(a, b int32) int { return t.less(t.updated, a, b) })
	t.byUpdated = slices.Insert(t.byUpdated, pos, int32(i))
}

// StartMutator touches perTick records of pseudo-randomly chosen resources
// every tick until ctx is done, in a goroutine of its own.
func (s *Site) StartMutator(ctx context.Context, every time.Duration, perTick int) {
	if every <= 0 || perTick <= 0 {
		return
	}
	go func() {
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			for range perTick {
				s.touchMu.Lock()
				k := kind(s.touchRNG.IntN(int(numKinds)))
				s.touchMu.Unlock()
				if s.tables[k].n > 0 && k != kNote {
					s.Touch(kindNames[k], 1)
				}
			}
		}
	}()
}
