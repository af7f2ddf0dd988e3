package client

import (
	"math"
	"slices"
	"time"

	"golang.org/x/time/rate"
)

// This file is the quota layer's arithmetic: from what this client sent and what the site's X-RateLimit-*
// headers said, how many attempts may go now and when the next may. It has no lock, no clock and no timer;
// every method takes now, so tests drive it with tables of events (quota_budget_test.go). quotaTransport
// (quota.go) guards one ledger with its mutex and does the waiting.
//
// The rule it keeps: no interval of the site's window length W sees more than the budget
// B = floor(Limit*percent/100) of requests, counting the site's other users. A request's own answer tells
// in which bucket (X-RateLimit-Reset) the site counted it; a later answer whose usage (Limit-Remaining) is lower
// than this client's own requests counted in the buckets up to some bucket R proves that R has left the site's
// window, so W <= (that answer's reset) - R. Until such an answer comes the window length is unknown and every
// request sent so far is taken to be still counted ("never count on capacity coming back before it is shown").
// Once a bound is known, a request occupies the budget from when it is sent until W after its answer came back
// (its arrival at the site lies in between), so any interval of length W holds at most B minus the others'
// usage, wherever the site's buckets begin. What may go is paced rather than sent at once: a rate.Limiter of
// one token spaces the sends, at the rate the ledger sets from its verdicts (see paceRate and paced).

// minPause is the shortest wait before a probe when no answer can tell anything new (see quotaLedger.plan).
const minPause = 500 * time.Millisecond

// degradedInterval spaces attempts while the site sends no usable rate-limit headers.
const degradedInterval = time.Second

type quotaMode int

const (
	modeProbe    quotaMode = iota // no headers yet: one attempt at a time until the first answer
	modeKnown                     // headers seen: the budget rule
	modeDegraded                  // answers carry no usable headers: one at a time, degradedInterval apart
)

// budget is the number of requests per window this client may account for: floor(limit*percent/100),
// at least 1 so a tiny limit cannot stall the client forever.
func budget(limit, percent int) int {
	b := int(int64(limit) * int64(percent) / 100)
	if b < 1 {
		b = 1
	}
	return b
}

// sentAttempt is one of this client's attempts that has been answered (or failed).
type sentAttempt struct {
	recv    time.Time // when its answer (or failure) came back: it reached the site before that
	reset   time.Time // X-RateLimit-Reset of its answer: the bucket the site counted it in; zero if unknown
	used    int       // Limit-Remaining of its answer
	counted bool      // a 2xx answer with usable headers: the site surely counted it
}

// heard is one answer with usable rate-limit headers.
type heard struct {
	recv   time.Time
	used   int // Limit-Remaining
	reset  time.Time
	others int // used minus this client's attempts known to be counted in it: the other users' share
}

// allowance caps the attempts of one bucket while the window length is unknown: at most half of the room
// left at the bucket's start (at least one), so the budget is never spent before an answer can show a bucket
// leaving the window.
type allowance struct {
	set    bool
	reset  time.Time // the latest X-RateLimit-Reset when the bucket began
	passed bool      // the bucket began after that reset had passed (its own reset is not known yet)
	left   int
}

// quotaVerdict is plan's answer.
type quotaVerdict struct {
	n      int       // attempts that may go now
	room   int       // attempts the budget (and the bucket's allowance) leaves room for now, paced or not
	next   time.Time // when n == 0: when to plan again; zero means when an answer comes
	probe  bool      // the attempt allowed is a probe: no answer can show the room, so one is sent at next
	used   int       // usage as planned (own occupancy + others), for logs
	others int       // the others' share in it
	budget int
	reset  time.Time // the site's latest X-RateLimit-Reset

	// Why n is 0, for logs: the pacer spaces the sends (interval apart), or a 429's pause holds them back;
	// else the budget is used up (or only an answer can tell).
	paced    bool
	interval time.Duration
	paused   bool
}

// kind is why the verdict makes an attempt wait, the window's length being window (0: unknown).
func (v quotaVerdict) kind(window time.Duration) waitKind {
	switch {
	case v.paused:
		return waitPaused
	case v.paced:
		return waitPacing
	case window == 0 && v.used < v.budget:
		return waitAllowance
	}
	return waitBudget
}

// quotaLedger is the budget arithmetic's state. Its zero value is not usable; see newQuotaLedger.
type quotaLedger struct {
	percent int

	// What the site said.
	mode   quotaMode
	limit  int           // the latest X-RateLimit-Limit
	reset  time.Time     // the latest (largest) X-RateLimit-Reset
	window time.Duration // an upper bound of the window length proven by the answers; 0 while unknown

	// What this client sent.
	seq      uint64
	inflight map[uint64]struct{} // admitted attempts not yet answered, by seq
	done     []sentAttempt       // answered attempts that may still count, in answer order
	own      ownBuckets          // the counted attempts of done, by bucket
	// recounted holds, per bucket (its reset in Unix ns), the attempts counted before it at its last
	// recount. While that stays and nothing leaves own (prune, a new window clear it), a recount need only
	// redo the answers at or above the usage just added.
	recounted map[int64]int
	heads     []heard // answers with usable headers that may still count, in answer order
	lastSent  time.Time
	// pace spaces the sends: a token bucket holding one token, refilled at the rate paceRate sets. Each send
	// takes the token; nil while sends need no spacing. Its state is as of lastSent (see paced).
	pace *rate.Limiter

	// Pacing while the window is unknown, and the way out when nothing can be learned without a request.
	allow   allowance
	probeAt time.Time

	// pausedUntil holds every attempt back until a 429's Retry-After or reset (see pause).
	pausedUntil time.Time
}

func newQuotaLedger(percent int) *quotaLedger {
	return &quotaLedger{percent: percent, inflight: map[uint64]struct{}{}}
}

// pause holds every attempt back until t, on top of what the budget allows: a 429 asked for it. The retry
// layer does not wait for such a 429 itself (see backoffPolicy), so the wait happens once, here, for every
// stream at once.
func (l *quotaLedger) pause(t time.Time) { l.pausedUntil = later(l.pausedUntil, t) }

// plan says how many attempts may go at now and, if none, when to look again.
func (l *quotaLedger) plan(now time.Time) quotaVerdict {
	v := l.planBudget(now)
	if now.Before(l.pausedUntil) {
		v.n, v.probe, v.paused = 0, false, true
		v.next = later(v.next, l.pausedUntil)
	}
	return v
}

// planBudget is plan without a 429's pause.
func (l *quotaLedger) planBudget(now time.Time) quotaVerdict {
	switch l.mode {
	case modeProbe:
		return quotaVerdict{n: oneIf(len(l.inflight) == 0)}
	case modeDegraded:
		if len(l.inflight) > 0 {
			return quotaVerdict{}
		}
		if next, _ := l.paced(now, rate.Every(degradedInterval)); !next.IsZero() {
			return quotaVerdict{next: next, paced: true, interval: degradedInterval}
		}
		return quotaVerdict{n: 1}
	}
	l.prune(now)
	v := quotaVerdict{budget: budget(l.limit, l.percent), reset: l.reset}
	v.others = l.others(now)
	v.used = l.occupancy(now) + v.others
	v.n = v.budget - v.used
	if l.window == 0 {
		v.n = min(v.n, l.bucketAllowance(now, v.n))
	}
	v.room = max(0, v.n)
	if v.n > 0 {
		l.probeAt = time.Time{}
		r := l.paceRate(v)
		if next, paced := l.paced(now, r); !next.IsZero() {
			v.n, v.next, v.paced = 0, next, true
			v.interval = time.Duration(float64(time.Second) / float64(r))
		} else if paced {
			v.n = 1
		}
		return v
	}
	v.n = 0
	v.next = l.nextFree(now, v)
	if v.next.IsZero() && len(l.inflight) == 0 {
		// Nothing in flight can bring news and nothing known frees room: send one attempt at the site's reset.
		if l.probeAt.IsZero() {
			l.probeAt = later(l.reset, now.Add(minPause))
		}
		if now.Before(l.probeAt) {
			v.next = l.probeAt
		} else {
			v.n, v.probe = 1, true
		}
	}
	return v
}

// nextFree is when room next appears without news, given the verdict so far; zero if only an answer can tell.
func (l *quotaLedger) nextFree(now time.Time, v quotaVerdict) time.Time {
	if l.window == 0 {
		if v.budget > v.used && now.Before(l.reset) { // the allowance is spent; the bucket ends at the reset
			return l.reset
		}
		return time.Time{}
	}
	return l.freeAt(v.budget)
}

// paceRate is how fast what may still be sent is spread out rather than sent at once, in sends per second
// (0: no spacing): with the window unknown, the bucket's allowance evenly over the rest of the bucket; with it
// known, no faster than the budget left by the others over one window. Spreading also lets the answers sample
// every part of a bucket, so the others' share is seen at its peak, just before a reset.
func (l *quotaLedger) paceRate(v quotaVerdict) rate.Limit {
	if l.window == 0 {
		if !l.allow.passed && l.allow.left > 0 && l.reset.After(l.lastSent) {
			return rate.Limit(float64(l.allow.left+1) / l.reset.Sub(l.lastSent).Seconds())
		}
		return 0
	}
	return rate.Limit(float64(max(1, v.budget-v.others)) / l.window.Seconds())
}

// paced sets the pacer's limit to r (0: no spacing) and returns when it next holds a token: zero if it holds
// one at now (or there is no spacing); paced tells whether the sends are spaced at all. The limit is set as of
// the last send, which took the token, so a new rate spaces the next send from the last one.
func (l *quotaLedger) paced(now time.Time, r rate.Limit) (next time.Time, paced bool) {
	switch {
	case r <= 0 || l.lastSent.IsZero():
		l.pace = nil
		return time.Time{}, false
	case l.pace == nil:
		l.pace = rate.NewLimiter(r, 1)
		l.pace.ReserveN(l.lastSent, 1) // the last send took the token
	case l.pace.Limit() != r:
		l.pace.SetLimitAt(l.lastSent, r)
	}
	lack := 1 - l.pace.TokensAt(now)
	if lack <= 1e-9 {
		return time.Time{}, true
	}
	return now.Add(time.Duration(math.Ceil(lack / float64(r) * float64(time.Second)))), true
}

// admit records an attempt sent at now and returns its sequence number.
func (l *quotaLedger) admit(now time.Time, v quotaVerdict) uint64 {
	l.seq++
	l.inflight[l.seq] = struct{}{}
	l.lastSent = now
	if l.pace != nil && !l.pace.AllowN(now, 1) {
		l.pace = nil // sent ahead of the pacing (a probe): the spacing starts again from this send
	}
	if v.probe {
		l.probeAt = time.Time{}
	}
	if l.allow.set && l.allow.left > 0 {
		l.allow.left--
	}
	return l.seq
}

// answerNote tells the caller what an answer changed, for its logs.
type answerNote struct {
	noHeaders bool          // the answer had no usable headers
	learned   time.Duration // a new (shorter) bound of the window length; 0 if none
}

// answer folds an attempt's outcome into the ledger: status is 0 when there was no response, r is nil when
// the response had no usable rate-limit headers.
func (l *quotaLedger) answer(seq uint64, now time.Time, status int, r *Rate) answerNote {
	if _, ok := l.inflight[seq]; !ok {
		return answerNote{}
	}
	delete(l.inflight, seq)
	a := sentAttempt{recv: now}
	if r == nil {
		if l.mode == modeProbe && status != 0 {
			l.mode = modeDegraded
		}
		if l.mode == modeKnown {
			l.done = append(l.done, a) // the site may have counted it: it occupies the budget all the same
		}
		return answerNote{noHeaders: true}
	}
	l.mode, l.limit = modeKnown, r.Limit
	l.reset = later(l.reset, r.Reset)
	l.probeAt = time.Time{}
	if l.allow.passed && r.Reset.After(l.allow.reset) {
		l.allow.reset, l.allow.passed = r.Reset, false // the bucket the allowance began in ends here
	}
	h := heard{recv: now, used: r.Limit - r.Remaining, reset: r.Reset}
	a.reset, a.used, a.counted = r.Reset, h.used, status >= 200 && status <= 299
	l.done = append(l.done, a)
	if a.counted {
		l.own.add(a.reset, a.used)
	}
	l.heads = append(l.heads, h)
	var note answerNote
	if w := l.windowBound(h); a.counted && w > 0 && (l.window == 0 || w < l.window) {
		l.window, note.learned = w, w
		clear(l.recounted)
		for _, b := range l.heads { // the others' share depends on the window
			if !b.reset.Equal(h.reset) {
				l.recount(b.reset, math.MaxInt)
			}
		}
	}
	l.recount(h.reset, h.used)
	return note
}

// windowBound is the bound of the window length that h proves, or 0. The site surely counted in h's usage
// this client's attempts answered 2xx in an earlier bucket, or in h's bucket with a lower usage (within a
// bucket the count only grows, and each counted attempt adds one, so the lower usage was counted first), and
// h itself. If those in the buckets from R up to h's outnumber h's usage, bucket R has left the window, so the
// window is at most h.reset - R long.
func (l *quotaLedger) windowBound(h heard) time.Duration {
	same := l.own.atOrBelow(h.reset, h.used)
	// Newest first, the attempt at index max(h.used, same) is the first beyond h's usage outside h's bucket.
	if r, ok := l.own.nthNewestBefore(h.reset, max(h.used, same)-same); ok {
		return h.reset.Sub(r)
	}
	return 0
}

// recount sets the others' share of every answer heard in the bucket ending at reset: its usage minus this
// client's attempts counted in it (within the window, if known). An answer that comes later can show that an
// attempt in flight was counted, so each answer recounts its bucket. The answers to recount are those at or
// above usage from (the one just heard and those the attempt just counted can change); all of them when
// anything else changed since the bucket's last recount (see quotaLedger.recounted).
func (l *quotaLedger) recount(reset time.Time, from int) {
	var since time.Time
	if l.window > 0 {
		since = reset.Add(-l.window)
	}
	earlier, same := l.own.between(since, reset), l.own.usages(reset)
	key := reset.UnixNano()
	if last, ok := l.recounted[key]; !ok || last != earlier {
		from = math.MinInt
	}
	if l.recounted == nil {
		l.recounted = map[int64]int{}
	}
	l.recounted[key] = earlier
	for i, h := range l.heads {
		if h.used >= from && h.reset.Equal(reset) {
			n, _ := slices.BinarySearch(same, h.used+1) // those at or below h's usage
			l.heads[i].others = max(0, h.used-earlier-n)
		}
	}
}

// occupancy is this client's attempts that may count in a window containing now: those in flight, and with the
// window known, those answered less than a window ago (all of them while it is unknown).
func (l *quotaLedger) occupancy(now time.Time) int {
	n := len(l.inflight)
	if l.window == 0 {
		return n + len(l.done)
	}
	for _, a := range l.done {
		if a.recv.Add(l.window).After(now) {
			n++
		}
	}
	return n
}

// others is the other users' share: the most any answer heard within a window showed, and never less than
// the latest answer showed (their usage is not assumed to fall before an answer shows it).
func (l *quotaLedger) others(now time.Time) int {
	o := 0
	for i, h := range l.heads {
		if i == len(l.heads)-1 || l.window == 0 || h.recv.Add(l.window).After(now) {
			o = max(o, h.others)
		}
	}
	return o
}

// prune drops what can no longer count, once the window is known (the latest answer is kept).
func (l *quotaLedger) prune(now time.Time) {
	if l.window == 0 {
		return
	}
	keep := func(recv time.Time) bool { return recv.Add(l.window).After(now) }
	i := 0
	for i < len(l.done) && !keep(l.done[i].recv) {
		if a := l.done[i]; a.counted {
			l.own.remove(a.reset, a.used)
			clear(l.recounted)
		}
		i++
	}
	l.done = l.done[i:]
	j := 0
	for j < len(l.heads)-1 && !keep(l.heads[j].recv) {
		j++
	}
	l.heads = l.heads[j:]
}

// freeAt is the earliest time at which, with no news, occupancy plus others leaves room for one attempt under
// budget b (the window known); zero if only answers in flight can free it.
func (l *quotaLedger) freeAt(b int) time.Time {
	// others(t) as attempts age out: the suffix maxima of heads, floored by the latest.
	suf := make([]int, len(l.heads)+1)
	if n := len(l.heads); n > 0 {
		suf[n] = l.heads[n-1].others
	}
	for j := len(l.heads) - 1; j >= 0; j-- {
		suf[j] = max(suf[j+1], l.heads[j].others)
	}
	i, j := 0, 0
	for i < len(l.done) || j < len(l.heads) {
		var c time.Time
		switch {
		case j == len(l.heads) || (i < len(l.done) && l.done[i].recv.Before(l.heads[j].recv)):
			c = l.done[i].recv.Add(l.window)
		default:
			c = l.heads[j].recv.Add(l.window)
		}
		for i < len(l.done) && !l.done[i].recv.Add(l.window).After(c) {
			i++
		}
		for j < len(l.heads) && !l.heads[j].recv.Add(l.window).After(c) {
			j++
		}
		if len(l.inflight)+len(l.done)-i+suf[j]+1 <= b {
			return c
		}
	}
	return time.Time{}
}

// bucketAllowance is what the current bucket may still send while the window length is unknown; room is
// the budget left now.
func (l *quotaLedger) bucketAllowance(now time.Time, room int) int {
	passed := !now.Before(l.reset)
	if !l.allow.set || !l.allow.reset.Equal(l.reset) || l.allow.passed != passed {
		l.allow = allowance{set: true, reset: l.reset, passed: passed, left: 0}
		if room >= 1 {
			l.allow.left = max(1, room/2)
		}
	}
	return l.allow.left
}

func oneIf(b bool) int {
	if b {
		return 1
	}
	return 0
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
