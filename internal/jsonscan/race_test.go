//go:build race

package jsonscan

// raceEnabled: the race detector makes sync.Pool drop a quarter of what is
// Put, by design, so a pooled value is sometimes allocated afresh.
const raceEnabled = true
