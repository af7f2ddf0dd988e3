package recurlytest

import (
	"slices"
	"time"
)

// BusiestWindow is the most of times inside any interval [t, t+window), and
// where the first such interval starts: what a rate limit of that window
// length saw at its fullest. Tests and the benchmarks check the tap's quota
// with it against the site's request log (Request.At).
func BusiestWindow(times []time.Time, window time.Duration) (int, time.Time) {
	at := slices.Clone(times)
	slices.SortFunc(at, time.Time.Compare)
	worst, from, j := 0, time.Time{}, 0
	for i := range at {
		for j < len(at) && at[j].Before(at[i].Add(window)) {
			j++
		}
		if j-i > worst {
			worst, from = j-i, at[i]
		}
	}
	return worst, from
}

// Times is the arrival time of each request of a request log.
func Times(log []Request) []time.Time {
	at := make([]time.Time, len(log))
	for i, r := range log {
		at[i] = r.At
	}
	return at
}
