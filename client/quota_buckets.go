package client

import (
	"slices"
	"time"
)

// ownBuckets indexes the usages shown to this client's counted attempts (those of quotaLedger.done with
// counted set) by the bucket the site counted them in, so that the questions the ledger asks on every
// answer — how many of its attempts a bucket holds, how many at or below a usage, which bucket is the n-th
// newest — cost a walk over the few buckets rather than a sort of every attempt. It must hold exactly the
// counted attempts of done: the ledger adds to it when it appends to done and removes what prune drops.
type ownBuckets struct {
	b []ownBucket // by reset, oldest first
}

// ownBucket is one bucket's counted attempts: the usage each answer showed, in increasing order.
type ownBucket struct {
	reset time.Time
	used  []int
}

// find returns the index of the bucket ending at reset, or where it would go, and whether it is there.
func (o *ownBuckets) find(reset time.Time) (int, bool) {
	return slices.BinarySearchFunc(o.b, reset, func(b ownBucket, r time.Time) int { return b.reset.Compare(r) })
}

// add records a counted attempt shown usage used in the bucket ending at reset.
func (o *ownBuckets) add(reset time.Time, used int) {
	i, ok := o.find(reset)
	if !ok {
		o.b = slices.Insert(o.b, i, ownBucket{reset: reset})
	}
	u := o.b[i].used
	j, _ := slices.BinarySearch(u, used)
	o.b[i].used = slices.Insert(u, j, used)
}

// remove forgets one counted attempt shown usage used in the bucket ending at reset.
func (o *ownBuckets) remove(reset time.Time, used int) {
	i, ok := o.find(reset)
	if !ok {
		return
	}
	u := o.b[i].used
	if j, ok := slices.BinarySearch(u, used); ok {
		u = slices.Delete(u, j, j+1)
	}
	if len(u) == 0 {
		o.b = slices.Delete(o.b, i, i+1)
		return
	}
	o.b[i].used = u
}

// usages are the usages shown to the counted attempts of the bucket ending at reset, in increasing order.
// The slice is the index's own: the caller must not keep or modify it.
func (o *ownBuckets) usages(reset time.Time) []int {
	if i, ok := o.find(reset); ok {
		return o.b[i].used
	}
	return nil
}

// atOrBelow is how many counted attempts of the bucket ending at reset were shown a usage of at most used.
func (o *ownBuckets) atOrBelow(reset time.Time, used int) int {
	i, ok := o.find(reset)
	if !ok {
		return 0
	}
	n, _ := slices.BinarySearch(o.b[i].used, used+1)
	return n
}

// between is how many counted attempts lie in the buckets ending after from (all of them if from is zero)
// and before to.
func (o *ownBuckets) between(from, to time.Time) int {
	n := 0
	for _, b := range o.b {
		if b.reset.Before(to) && (from.IsZero() || b.reset.After(from)) {
			n += len(b.used)
		}
	}
	return n
}

// nthNewestBefore returns the reset of the bucket holding the n-th (0-based) newest counted attempt among
// those in buckets ending before reset; false if there are not that many.
func (o *ownBuckets) nthNewestBefore(reset time.Time, n int) (time.Time, bool) {
	i, _ := o.find(reset) // buckets o.b[:i] end before reset
	for i--; i >= 0; i-- {
		if n < len(o.b[i].used) {
			return o.b[i].reset, true
		}
		n -= len(o.b[i].used)
	}
	return time.Time{}, false
}
