package streams

import (
	"container/heap"
	"context"
	"sync"

	"golang.org/x/sync/errgroup"
)

// pool runs a run's jobs (counts, cursor chains) on at most limit
// goroutines: an errgroup with SetLimit, fed from a queue that running jobs
// may add to. The lowest rank runs first (ties in the order added). The
// first job error cancels the pool's context and is what wait returns.
//
// Jobs never start jobs themselves: errgroup.Go blocks while the group is
// full, so a job that called it could deadlock the pool. They add to the
// queue, and wait, which holds no slot, starts them.
type pool struct {
	g    *errgroup.Group
	ctx  context.Context
	wake chan struct{} // something was queued or finished

	mu    sync.Mutex
	queue jobQueue
	open  int // jobs queued or running
	seq   int
}

type job struct {
	rank, seq int
	run       func(context.Context) error
}

func newPool(ctx context.Context, limit int) *pool {
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(limit)
	return &pool{g: g, ctx: ctx, wake: make(chan struct{}, 1)}
}

// add queues run at rank. It is safe to call from a running job.
func (p *pool) add(rank int, run func(context.Context) error) {
	p.mu.Lock()
	p.seq++
	heap.Push(&p.queue, job{rank: rank, seq: p.seq, run: run})
	p.open++
	p.mu.Unlock()
	p.signal()
}

func (p *pool) signal() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// wait starts queued jobs as slots free up until none is queued or running
// (or the pool's context ends), and returns the first error.
func (p *pool) wait() error {
	for {
		j, ok := p.next()
		if !ok {
			break
		}
		p.g.Go(func() error {
			defer p.finished()
			return j.run(p.ctx)
		})
	}
	return p.g.Wait()
}

// next takes the first queued job, waiting while jobs run that may queue
// more; false when there is nothing left to start.
func (p *pool) next() (job, bool) {
	for {
		p.mu.Lock()
		switch {
		case p.ctx.Err() != nil || p.open == 0:
			p.mu.Unlock()
			return job{}, false
		case p.queue.Len() > 0:
			j := heap.Pop(&p.queue).(job)
			p.mu.Unlock()
			return j, true
		}
		p.mu.Unlock()
		select {
		case <-p.wake:
		case <-p.ctx.Done():
		}
	}
}

func (p *pool) finished() {
	p.mu.Lock()
	p.open--
	p.mu.Unlock()
	p.signal()
}

// jobQueue is a heap of jobs by (rank, seq).
type jobQueue []job

func (q jobQueue) Len() int { return len(q) }
func (q jobQueue) Less(i, j int) bool {
	if q[i].rank != q[j].rank {
		return q[i].rank < q[j].rank
	}
	return q[i].seq < q[j].seq
}
func (q jobQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *jobQueue) Push(x any)   { *q = append(*q, x.(job)) }
func (q *jobQueue) Pop() any {
	old := *q
	j := old[len(old)-1]
	*q = old[:len(old)-1]
	return j
}
