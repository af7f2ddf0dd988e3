package client

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// TestOwnBucketsMatchesAList checks every answer of ownBuckets against the same question asked of a plain
// list of attempts (the way the ledger counted before it had the index), over random adds and removes.
func TestOwnBucketsMatchesAList(t *testing.T) {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	type attempt struct {
		reset time.Time
		used  int
	}
	for seed := uint64(1); seed <= 20; seed++ {
		rng := rand.New(rand.NewPCG(seed, seed))
		var o ownBuckets
		var list []attempt
		for step := 0; step < 400; step++ {
			if len(list) > 0 && rng.IntN(4) == 0 {
				k := rng.IntN(len(list))
				o.remove(list[k].reset, list[k].used)
				list = slices.Delete(list, k, k+1)
			} else {
				a := attempt{base.Add(time.Duration(rng.IntN(8)) * time.Minute), rng.IntN(30)}
				o.add(a.reset, a.used)
				list = append(list, a)
			}
			reset, used := base.Add(time.Duration(rng.IntN(9))*time.Minute), rng.IntN(32)-1
			from := time.Time{}
			if rng.IntN(2) == 0 {
				from = reset.Add(-time.Duration(rng.IntN(5)) * time.Minute)
			}
			var atOrBelow, between int
			var older []time.Time
			for _, a := range list {
				if a.reset.Equal(reset) && a.used <= used {
					atOrBelow++
				}
				if a.reset.Before(reset) && (from.IsZero() || a.reset.After(from)) {
					between++
				}
				if a.reset.Before(reset) {
					older = append(older, a.reset)
				}
			}
			slices.SortFunc(older, func(a, b time.Time) int { return b.Compare(a) })
			if got := o.atOrBelow(reset, used); got != atOrBelow {
				t.Fatalf("seed %d step %d: atOrBelow(%v, %d) = %d, want %d", seed, step, reset, used, got, atOrBelow)
			}
			if got := o.between(from, reset); got != between {
				t.Fatalf("seed %d step %d: between = %d, want %d", seed, step, got, between)
			}
			n := rng.IntN(len(list) + 2)
			got, ok := o.nthNewestBefore(reset, n)
			if want := n < len(older); ok != want || ok && !got.Equal(older[n]) {
				t.Fatalf("seed %d step %d: nthNewestBefore(%v, %d) = %v %v, want %v", seed, step, reset, n, got, ok, want)
			}
		}
	}
}
