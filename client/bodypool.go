package client

import (
	"math/bits"
	"sync"
)

// bodyPool recycles the buffers list pages are read into. A full sync reads hundreds of megabytes of
// pages, each read whole and dropped once its records are written; allocating each anew cost a clearing of
// every buffer and most of the run's garbage collection. Buffers come in power-of-two classes from
// minPooled to maxPooled bytes; larger ones are not pooled. Its zero value is ready to use, and a nil
// *bodyPool allocates plainly and recycles nothing (bodies a caller keeps).
type bodyPool struct {
	classes [maxClass - minClass + 1]sync.Pool // of *[]byte, class k holding buffers of capacity 1<<(minClass+k)
}

const (
	minClass  = 15 // 32 KiB
	maxClass  = 22 // 4 MiB
	maxPooled = 1 << maxClass
)

// class is the class of the smallest pooled buffer holding n bytes; false when n is over maxPooled.
func class(n int) (int, bool) {
	if n > maxPooled {
		return 0, false
	}
	k := max(bits.Len(uint(max(n, 1)-1)), minClass) // 1<<k >= n
	return k - minClass, true
}

// get returns an empty buffer of capacity at least n: a recycled one when there is one.
func (p *bodyPool) get(n int) []byte {
	k, ok := class(n)
	if p == nil || !ok {
		return make([]byte, 0, n)
	}
	if b, _ := p.classes[k].Get().(*[]byte); b != nil {
		return (*b)[:0]
	}
	return make([]byte, 0, 1<<(minClass+k))
}

// put recycles b, which nothing may use afterwards. Buffers not made by get are dropped.
func (p *bodyPool) put(b []byte) {
	if p == nil || cap(b) == 0 || cap(b)&(cap(b)-1) != 0 {
		return
	}
	if k, ok := class(cap(b)); ok && 1<<(minClass+k) == cap(b) {
		p.classes[k].Put(&b)
	}
}
