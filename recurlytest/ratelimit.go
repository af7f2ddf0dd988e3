package recurlytest

import (
	"math"
	"time"
)

// rateWindow is a sliding-window request counter: the window of length
// window slides in buckets aligned to the Unix epoch, and a bucket's count
// leaves the window when the bucket is buckets-1 buckets old. Background
// load is added to the buckets as time passes. Not safe for concurrent use;
// Site guards it with its ctl mutex.
type rateWindow struct {
	limit   int
	bucket  int64 // bucket length in nanoseconds
	n       int   // buckets per window
	slots   []rateSlot
	bgRate  float64   // background requests per second
	bgUntil time.Time // background load accounted up to here
}

type rateSlot struct {
	idx   int64 // bucket index (Unix nanoseconds / bucket length)
	count float64
}

func newRateWindow(limit int, window time.Duration, buckets int, bg float64) *rateWindow {
	return &rateWindow{
		limit:  limit,
		bucket: int64(window) / int64(buckets),
		n:      buckets,
		slots:  make([]rateSlot, buckets),
		bgRate: bg,
	}
}

func (w *rateWindow) index(t time.Time) int64 { return floorDiv(t.UnixNano(), w.bucket) }

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// slot returns the slot of bucket idx, recycling a stale one.
func (w *rateWindow) slot(idx int64) *rateSlot {
	sl := &w.slots[((idx%int64(w.n))+int64(w.n))%int64(w.n)]
	if sl.idx != idx {
		sl.idx, sl.count = idx, 0
	}
	return sl
}

// used is the number of requests counted in the window ending in the bucket
// of now.
func (w *rateWindow) used(now time.Time) float64 {
	cur := w.index(now)
	var u float64
	for _, sl := range w.slots {
		if sl.idx > cur-int64(w.n) && sl.idx <= cur {
			u += sl.count
		}
	}
	return u
}

// advance adds background load for the time since the last call, bucket
// by bucket, never taking the window past its limit (other integrations are
// throttled too).
func (w *rateWindow) advance(now time.Time) {
	if w.bgRate <= 0 {
		return
	}
	if w.bgUntil.IsZero() || now.Sub(w.bgUntil) > time.Duration(w.bucket)*time.Duration(w.n) {
		// Start (or restart after a long gap) as if the load had been
		// running for the whole window: from the oldest bucket in it.
		w.bgUntil = time.Unix(0, (w.index(now)-int64(w.n)+1)*w.bucket)
	}
	for w.bgUntil.Before(now) {
		idx := w.index(w.bgUntil)
		end := time.Unix(0, (idx+1)*w.bucket)
		if end.After(now) {
			end = now
		}
		add := w.bgRate * end.Sub(w.bgUntil).Seconds()
		// Only the part of the window as of end counts against the cap.
		if room := float64(w.limit) - w.used(end); add > room {
			add = math.Max(0, room)
		}
		w.slot(idx).count += add
		w.bgUntil = end
	}
}

// state returns the X-RateLimit-Remaining and -Reset values at now.
func (w *rateWindow) state(now time.Time) (remaining int, reset int64) {
	used := int(math.Ceil(w.used(now) - 1e-9))
	remaining = max(0, w.limit-used)
	endNs := (w.index(now) + 1) * w.bucket
	reset = floorDiv(endNs+int64(time.Second)-1, int64(time.Second)) // rounded up
	return remaining, reset
}

// take counts one request at now if the window allows it.
func (w *rateWindow) take(now time.Time) bool {
	w.advance(now)
	rem, _ := w.state(now)
	if rem <= 0 {
		return false
	}
	w.slot(w.index(now)).count++
	return true
}
