package client

import (
	"math/bits"
	"sync"
)

// bodyPool recycles the buffers list pages are read into. A full sync reads hundreds of megabytes of
// pages, each read whole and dropped once its records are written; allocating each anew cost a clearing of
// every buffer and most of the run's garbage collection. It keeps at most maxFree buffers of at most
// maxPooled bytes, so what it holds is bounded whatever the pages' sizes (a sync.Pool is not: everything
// put in it between two collections stays live until the next). Its zero value is ready to use, and a nil
// *bodyPool allocates plainly and recycles nothing (bodies a caller keeps).
type bodyPool struct {
	mu   sync.Mutex
	free [][]byte // at most maxFree, each with len 0
	last int      // the length of the last body read through the pool
}

const (
	maxFree   = 8        // about two per worker at the default max_workers
	minPooled = 32 << 10 // the smallest buffer made for the pool
	maxPooled = 4 << 20  // larger buffers are neither made for nor kept by the pool
)

// get returns an empty buffer of capacity at least n: the smallest free one that fits, or a new one of the
// next power of two (so a buffer fits the pages of other listings too).
func (p *bodyPool) get(n int) []byte {
	if p == nil || n > maxPooled {
		return make([]byte, 0, n)
	}
	p.mu.Lock()
	best := -1
	for i, b := range p.free {
		if cap(b) >= n && (best < 0 || cap(b) < cap(p.free[best])) {
			best = i
		}
	}
	if best >= 0 {
		b := p.free[best]
		p.free[best] = p.free[len(p.free)-1]
		p.free = p.free[:len(p.free)-1]
		p.mu.Unlock()
		return b
	}
	p.mu.Unlock()
	return make([]byte, 0, max(minPooled, 1<<bits.Len(uint(n-1))))
}

// put recycles b, which nothing may use afterwards. It is dropped when the pool is full or b is too large.
func (p *bodyPool) put(b []byte) {
	if p == nil || cap(b) == 0 || cap(b) > maxPooled {
		return
	}
	p.mu.Lock()
	if len(p.free) < maxFree {
		p.free = append(p.free, b[:0])
	}
	p.mu.Unlock()
}

// sizeHint is the size to start a body of unknown length at (gzip answers carry no Content-Length): the
// last body's, so a page mostly fits its first buffer instead of growing through copies. 0: no hint.
func (p *bodyPool) sizeHint() int64 {
	if p == nil {
		return 0
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return int64(p.last)
}

// noteSize records the length of a body read through the pool, for sizeHint.
func (p *bodyPool) noteSize(n int) {
	if p != nil {
		p.mu.Lock()
		p.last = n
		p.mu.Unlock()
	}
}
