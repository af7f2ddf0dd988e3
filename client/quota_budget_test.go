package client

import (
	"fmt"
	"github.com/tap-recurly/tap-recurly/recurlytest"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestBudget(t *testing.T) {
	for _, tt := range []struct{ limit, pct, want int }{
		{2000, 100, 2000}, {2000, 50, 1000}, {2000, 10, 200}, {40, 10, 4}, {45, 10, 4}, {39, 50, 19},
		{3, 10, 1}, {1, 1, 1}, {15000, 33, 4950},
	} {
		if got := budget(tt.limit, tt.pct); got != tt.want {
			t.Errorf("budget(%d, %d) = %d, want %d", tt.limit, tt.pct, got, tt.want)
		}
	}
}

// ledgerStep is one event of a ledger table test, at ms milliseconds after t0 (a whole second).
type ledgerStep struct {
	ms int
	// send: plan must allow at least one attempt, which is admitted (its seq is the count of sends so far).
	// answer: attempt seq is answered with status and, unless rem < 0, headers Limit=limit, Remaining=rem,
	// Reset=t0+reset seconds.
	// plan: the budget must leave room for n attempts, and if none, the next may go at next (ms after t0; -1
	// for "when an answer comes"). pace: plan must let n go now (paced), and if none, the next at next.
	op                string
	seq, status       int
	limit, rem, reset int
	n, next           int
	probe             bool
}

func send(ms int) ledgerStep { return ledgerStep{ms: ms, op: "send"} }
func ans(ms, seq, limit, rem, reset int) ledgerStep {
	return ledgerStep{ms: ms, op: "answer", seq: seq, status: 200, limit: limit, rem: rem, reset: reset}
}
func ansStatus(ms, seq, status int) ledgerStep {
	return ledgerStep{ms: ms, op: "answer", seq: seq, status: status, rem: -1}
}
func plan(ms, n, next int) ledgerStep { return ledgerStep{ms: ms, op: "plan", n: n, next: next} }
func pace(ms, n, next int) ledgerStep { return ledgerStep{ms: ms, op: "pace", n: n, next: next} }

// sends returns n sends at ms, and answers for them at ms+1.. from the site's view: Remaining counting down
// from rem, in the bucket ending at reset.
func burst(ms, firstSeq, n, limit, rem, reset int) []ledgerStep {
	var s []ledgerStep
	for range n {
		s = append(s, send(ms))
	}
	for i := range n {
		s = append(s, ans(ms+1+i, firstSeq+i, limit, rem-i, reset))
	}
	return s
}

func steps(parts ...any) []ledgerStep {
	var s []ledgerStep
	for _, p := range parts {
		switch p := p.(type) {
		case ledgerStep:
			s = append(s, p)
		case []ledgerStep:
			s = append(s, p...)
		}
	}
	return s
}

func TestQuotaLedger(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	tests := []struct {
		name    string
		percent int
		steps   []ledgerStep
		window  time.Duration // learned by the end
	}{
		{"one at a time until the first answer", 100, steps(plan(0, 1, 0), send(0), plan(1, 0, -1)), 0},
		{"transport error before any headers: still one at a time", 100,
			steps(send(0), ansStatus(5, 1, 0), plan(6, 1, 0), send(6), plan(7, 0, -1)), 0},
		{"no headers: one at a time, a second apart", 100,
			steps(send(0), ansStatus(5, 1, 200), plan(6, 0, 1000), plan(1000, 1, 0)), 0},
		{"first answer: half of the room in this bucket", 100,
			steps(send(0), ans(10, 1, 10, 9, 1), plan(20, 4, 0)), 0},
		{"allowance spent: wait for the bucket's reset", 100,
			steps(send(0), ans(10, 1, 10, 9, 1), burst(20, 2, 4, 10, 8, 1), plan(100, 0, 1000)), 0},
		{"next bucket: half of what is left", 100,
			steps(send(0), ans(10, 1, 10, 9, 1), burst(20, 2, 4, 10, 8, 1), plan(1000, 2, 0)), 0},
		{"the others' usage is taken from the room", 100,
			steps(send(0), ans(10, 1, 10, 5, 1), plan(20, 2, 0)), 0}, // used 5, own 1: others 4; room 10-1-4
		{"a bucket that leaves (fixed window) bounds the window", 100,
			steps(send(0), ans(10, 1, 10, 9, 1), burst(20, 2, 4, 10, 8, 1), send(1000), ans(1010, 6, 10, 9, 2),
				plan(1030, 9, 0)), // the 5 answered by 24 ms have left (window 1 s); the one at 1.01 s counts
			time.Second},
		{"a window sliding in two buckets is bounded by the bucket that left", 100,
			steps(send(0), ans(10, 1, 10, 9, 1), burst(20, 2, 4, 10, 8, 1), // 5 in bucket 1
				send(1000), send(1000), ans(1010, 6, 10, 4, 2), ans(1011, 7, 10, 3, 2), // 7 counted in buckets 1-2
				send(2000), ans(2010, 8, 10, 7, 3), // 3 used: bucket 1 has left, bucket 2 has not
				plan(2030, 7, 0)), // own 3 answered within 2 s; others 0 (#6 and #7 were in flight together; the
			// lower usage was counted first)
			2 * time.Second},
		{"paced: the bucket's allowance is spread until its reset", 100,
			steps(send(0), ans(10, 1, 10, 9, 1), pace(20, 0, 200), pace(199, 0, 200), pace(200, 1, 0)), 0},
		{"paced: with the window known, no faster than the budget left by the others over a window", 100,
			steps(send(0), ans(10, 1, 10, 9, 1), send(1000), ans(1010, 2, 10, 9, 2), pace(1030, 0, 1100), pace(1100, 1, 0),
				send(1100), ans(1110, 3, 10, 4, 2), // others 4 now: 1 s / (10-4) apart
				pace(1200, 0, 1100+166), pace(1267, 1, 0)),
			time.Second},
		{"no room, nothing in flight, window unknown: one probe at the reset", 100,
			steps(send(0), ans(10, 1, 10, 0, 3), plan(20, 0, 3000), plan(2999, 0, 3000),
				ledgerStep{ms: 3000, op: "plan", n: 1, probe: true}),
			0},
		{"a probe's answer showing room ends the probing", 100,
			steps(send(0), ans(10, 1, 10, 0, 1), plan(20, 0, 1000), send(1000), ans(1010, 2, 10, 9, 2), plan(1020, 9, 0)),
			time.Second},
		{"window known: the next attempt goes when the oldest one's answer is a window old", 50,
			steps(send(0), ans(10, 1, 10, 9, 1), send(1000), ans(1010, 2, 10, 9, 2), // window 1 s
				send(1100), ans(1110, 3, 10, 8, 2), send(1120), ans(1130, 4, 10, 7, 2), send(1140), ans(1150, 5, 10, 6, 2),
				plan(1200, 1, 0), send(1200), plan(1201, 0, 2010)),
			time.Second},
		{"an answer without headers counts as used until a window after it", 50,
			steps(send(0), ans(10, 1, 10, 9, 1), send(1000), ans(1010, 2, 10, 9, 2),
				send(1100), ansStatus(1110, 3, 502), send(1200), send(1200), send(1200), plan(1300, 0, 2010)),
			time.Second},
		{"older answers within the window keep the others' peak", 100,
			steps(send(0), ans(10, 1, 10, 9, 1), send(1000), ans(1010, 2, 10, 9, 2), // window 1 s, others 0
				send(1100), ans(1110, 3, 10, 2, 2), // others 6
				send(1200), ans(1210, 4, 10, 8, 3), // next bucket: others 1 now, but 6 a moment ago
				plan(1300, 10-3-6, 0), plan(2111, 10-1-1, 0)),
			time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newQuotaLedger(tt.percent)
			var seqs []uint64
			for i, s := range tt.steps {
				now := t0.Add(time.Duration(s.ms) * time.Millisecond)
				switch s.op {
				case "send": // the budget arithmetic; pacing has its own cases
					v := l.plan(now)
					if v.room < 1 && v.n < 1 {
						t.Fatalf("step %d (send at %d ms): plan = %+v, want room", i, s.ms, v)
					}
					seqs = append(seqs, l.admit(now, v))
				case "answer":
					var r *Rate
					if s.rem >= 0 {
						r = &Rate{Limit: s.limit, Remaining: s.rem, Reset: t0.Add(time.Duration(s.reset) * time.Second)}
					}
					l.answer(seqs[s.seq-1], now, s.status, r)
					if r != nil {
						checkRecount(t, l, r.Reset)
					}
				case "plan", "pace":
					v := l.plan(now)
					next := -1
					if !v.next.IsZero() {
						next = int(v.next.Sub(t0) / time.Millisecond)
					}
					n := v.n
					if s.op == "plan" && !v.probe && l.mode == modeKnown {
						n = v.room
					}
					if n != s.n || (n == 0 && next != s.next) || v.probe != s.probe {
						t.Fatalf("step %d (plan at %d ms): n %d next %d probe %v (used %d of %d); want n %d next %d probe %v",
							i, s.ms, v.n, next, v.probe, v.used, v.budget, s.n, s.next, s.probe)
					}
				}
			}
			if l.window != tt.window {
				t.Errorf("window = %s, want %s", l.window, tt.window)
			}
		})
	}
}

// simSite is a sliding-window rate limiter in virtual time, counted like recurlytest's: buckets of length
// bucket aligned to t0, a window of n buckets, others' load added evenly (never past the limit).
type simSite struct {
	limit   int
	bucket  time.Duration
	n       int
	bg      float64 // others' requests per second
	t0      time.Time
	counts  map[int64]float64
	bgUntil time.Time
}

func (s *simSite) idx(t time.Time) int64 { return int64(t.Sub(s.t0) / s.bucket) }

func (s *simSite) used(t time.Time) float64 {
	u := 0.0
	for i := s.idx(t) - int64(s.n) + 1; i <= s.idx(t); i++ {
		u += s.counts[i]
	}
	return u
}

func (s *simSite) advance(t time.Time) {
	for s.bgUntil.Before(t) {
		end := s.t0.Add(time.Duration(s.idx(s.bgUntil)+1) * s.bucket)
		if end.After(t) {
			end = t
		}
		add := math.Min(s.bg*end.Sub(s.bgUntil).Seconds(), math.Max(0, float64(s.limit)-s.used(end)))
		s.counts[s.idx(s.bgUntil)] += add
		s.bgUntil = end
	}
}

// request counts one request arriving at t if the window has room and returns the answer's status and headers.
func (s *simSite) request(t time.Time) (int, Rate) {
	s.advance(t)
	status := 429
	if int(math.Ceil(s.used(t)-1e-9)) < s.limit {
		s.counts[s.idx(t)]++
		status = 200
	}
	rem := max(0, s.limit-int(math.Ceil(s.used(t)-1e-9)))
	return status, Rate{Limit: s.limit, Remaining: rem, Reset: s.t0.Add(time.Duration(s.idx(t)+1) * s.bucket)}
}

// simEvent is a worker's next step in virtual time: plan (seq 0) or take the answer to attempt seq.
type simEvent struct {
	at     time.Time
	worker int
	seq    uint64
	status int
	rate   Rate
}

// simulateLedger runs workers sharing one ledger against site in virtual time until each has made perWorker
// requests, and returns the arrival time of every request and the number refused (429).
func simulateLedger(t *testing.T, site *simSite, l *quotaLedger, workers, perWorker int, rng *rand.Rand) ([]time.Time, int) {
	t.Helper()
	var queue []simEvent
	push := func(e simEvent) {
		i, _ := slices.BinarySearchFunc(queue, e, func(a, b simEvent) int { return a.at.Compare(b.at) + boolInt(a.at.Equal(b.at)) })
		queue = slices.Insert(queue, i, e)
	}
	jitter := func(max time.Duration) time.Duration { return time.Duration(rng.Int64N(int64(max))) }
	left := make([]int, workers)
	waiting := map[int]time.Time{} // workers waiting for news or a time
	for w := range workers {
		left[w] = perWorker
		push(simEvent{at: site.t0.Add(jitter(time.Second)), worker: w})
	}
	var arrivals []time.Time
	refused := 0
	for len(queue) > 0 {
		e := queue[0]
		queue = queue[1:]
		if e.seq != 0 { // an answer: fold it in and wake every waiting worker
			l.answer(e.seq, e.at, e.status, &e.rate)
			checkRecount(t, l, e.rate.Reset)
			for w := range waiting {
				delete(waiting, w)
				push(simEvent{at: e.at, worker: w})
			}
			push(simEvent{at: e.at.Add(jitter(3 * time.Millisecond)), worker: e.worker})
			continue
		}
		if until, ok := waiting[e.worker]; ok && e.at.Before(until) {
			continue // woken already
		}
		delete(waiting, e.worker)
		if left[e.worker] == 0 {
			continue
		}
		v := l.plan(e.at)
		if v.n == 0 {
			waiting[e.worker] = v.next
			if !v.next.IsZero() {
				push(simEvent{at: v.next, worker: e.worker})
			}
			continue
		}
		left[e.worker]--
		seq := l.admit(e.at, v)
		arrive := e.at.Add(jitter(5 * time.Millisecond))
		status, r := site.request(arrive)
		arrivals = append(arrivals, arrive)
		if status == 429 {
			refused++
		}
		push(simEvent{at: arrive.Add(jitter(30 * time.Millisecond)), worker: e.worker, seq: seq, status: status, rate: r})
	}
	for w, n := range left {
		if n > 0 {
			t.Fatalf("worker %d stalled with %d requests to go (ledger: window %s)", w, n, l.window)
		}
	}
	return arrivals, refused
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestQuotaLedgerEveryWindowSimulated runs the ledger against a simulated sliding window in virtual time, over
// many seeds and site shapes, and checks every interval of the window's length: it may hold at most the budget
// minus what the others used, and at quota 100 nothing is refused. No clock, no server: it runs in milliseconds.
func TestQuotaLedgerEveryWindowSimulated(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	shapes := []struct {
		limit   int
		window  time.Duration
		buckets int
		bg      float64
	}{
		{40, 4 * time.Second, 4, 0.5}, // the e2e test's site
		{100, 10 * time.Second, 5, 1}, // bench's quota site, with others
		{60, 6 * time.Second, 1, 0.5}, // a fixed window
		{200, time.Minute, 5, 0.5},    // Recurly's shape (5 buckets), smaller
		{30, 8 * time.Second, 2, 0},   // no others
	}
	for _, sh := range shapes {
		for _, pct := range []int{100, 50, 30} {
			for seed := range uint64(2) {
				name := fmt.Sprintf("limit %d per %s in %d buckets, others %.1f/s, quota %d%%, seed %d", sh.limit, sh.window, sh.buckets, sh.bg, pct, seed)
				t.Run(name, func(t *testing.T) {
					site := &simSite{limit: sh.limit, bucket: sh.window / time.Duration(sh.buckets), n: sh.buckets, bg: sh.bg,
						t0: t0, counts: map[int64]float64{}, bgUntil: t0.Add(-sh.window)}
					allowed := int(math.Floor(float64(budget(sh.limit, pct)) - sh.bg*sh.window.Seconds()))
					rng := rand.New(rand.NewPCG(seed, uint64(pct)))
					arrivals, refused := simulateLedger(t, site, newQuotaLedger(pct), 5, 4*allowed/5+1, rng)
					worst, at := recurlytest.BusiestWindow(arrivals, sh.window)
					if worst > allowed {
						t.Errorf("%d requests in the %s from +%s; allowed %d", worst, sh.window, at.Sub(t0), allowed)
					}
					if pct == 100 && refused > 0 {
						t.Errorf("%d requests refused", refused)
					}
				})
			}
		}
	}
}

// checkRecount fails unless every answer heard in the bucket ending at reset has the others' share counted
// from scratch over the ledger's attempts: its usage, minus this client's counted attempts in earlier buckets
// (within the window, if known), minus those of its bucket at or below its usage. The ledger counts it
// incrementally (quotaLedger.recounted); this is the definition it must keep.
func checkRecount(t *testing.T, l *quotaLedger, reset time.Time) {
	t.Helper()
	for _, h := range l.heads {
		if !h.reset.Equal(reset) {
			continue
		}
		want := h.used
		for _, a := range l.done {
			switch {
			case !a.counted:
			case a.reset.Equal(reset) && a.used <= h.used:
				want--
			case a.reset.Before(reset) && (l.window == 0 || a.reset.After(reset.Add(-l.window))):
				want--
			}
		}
		if want = max(0, want); h.others != want {
			t.Fatalf("answer heard at %v with usage %d in the bucket ending %v: others %d, counted from scratch %d",
				h.recv, h.used, reset, h.others, want)
		}
	}
}

// TestRecountAfterALateAnswer covers what the incremental recount must notice beyond the answer just heard:
// an attempt answered late in an earlier bucket lowers the others' share of every answer already heard in a
// later one, at that bucket's next recount (each answer recounts its own bucket only).
func TestRecountAfterALateAnswer(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	l := newQuotaLedger(100)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	r1, r2 := t0.Add(time.Second), t0.Add(2*time.Second)
	var seqs []uint64
	for i := range 4 {
		seqs = append(seqs, l.admit(at(i), quotaVerdict{n: 1}))
	}
	steps := []struct {
		seq        int
		ms         int
		used       int
		reset      time.Time
		wantOthers []int // of the answers heard in r2, in order
	}{
		{seq: 1, ms: 10, used: 5, reset: r2, wantOthers: []int{4}},
		{seq: 2, ms: 20, used: 6, reset: r2, wantOthers: []int{4, 4}},
		{seq: 0, ms: 30, used: 3, reset: r1, wantOthers: []int{4, 4}}, // late, in the earlier bucket: r2 not recounted yet
		{seq: 3, ms: 40, used: 7, reset: r2, wantOthers: []int{3, 3, 3}},
	}
	for i, s := range steps {
		l.answer(seqs[s.seq], at(s.ms), 200, &Rate{Limit: 100, Remaining: 100 - s.used, Reset: s.reset})
		checkRecount(t, l, s.reset)
		var got []int
		for _, h := range l.heads {
			if h.reset.Equal(r2) {
				got = append(got, h.others)
			}
		}
		if !slices.Equal(got, s.wantOthers) {
			t.Fatalf("step %d: others in the later bucket %v, want %v", i, got, s.wantOthers)
		}
	}
}

// TestQuotaPacingIsTheLimiter: the spacing between sends is the ledger's rate.Limiter's. Its limit is the rate
// the ledger's verdict sets (the bucket's allowance over the rest of the bucket, the budget left by the others
// over a window, one per second without headers); each send takes its token; and plan lets the next go exactly
// when the limiter holds a token again.
func TestQuotaPacingIsTheLimiter(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	for _, tt := range []struct {
		name  string
		steps []ledgerStep
		at    int     // ms: when to plan
		limit float64 // sends per second
	}{
		{"window unknown: the allowance of 4 over the 1 s left of the bucket", steps(send(0), ans(10, 1, 10, 9, 1)), 20, 5},
		{"window known: the 6 the others leave of 10 per 1 s window",
			steps(send(0), ans(10, 1, 10, 9, 1), send(1000), ans(1010, 2, 10, 9, 2), send(1100), ans(1110, 3, 10, 4, 2)), 1200, 6},
		{"no headers: one per second", steps(send(0), ansStatus(5, 1, 200)), 6, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			l := newQuotaLedger(100)
			var seqs []uint64
			for _, s := range tt.steps {
				now := t0.Add(time.Duration(s.ms) * time.Millisecond)
				switch s.op {
				case "send":
					seqs = append(seqs, l.admit(now, l.plan(now)))
				case "answer":
					var r *Rate
					if s.rem >= 0 {
						r = &Rate{Limit: s.limit, Remaining: s.rem, Reset: t0.Add(time.Duration(s.reset) * time.Second)}
					}
					l.answer(seqs[s.seq-1], now, s.status, r)
				}
			}
			now := t0.Add(time.Duration(tt.at) * time.Millisecond)
			v := l.plan(now)
			if l.pace == nil || math.Abs(float64(l.pace.Limit())-tt.limit) > 1e-9 {
				t.Fatalf("pacer %v, want a limit of %v per second", l.pace, tt.limit)
			}
			if v.n != 0 || v.next.IsZero() {
				t.Fatalf("plan = %+v, want a wait for the pacer", v)
			}
			if tok := l.pace.TokensAt(v.next); tok < 1-1e-9 {
				t.Errorf("at the planned time %s the limiter holds %.6f tokens", v.next.Sub(t0), tok)
			}
			if tok := l.pace.TokensAt(v.next.Add(-time.Millisecond)); tok >= 1 {
				t.Errorf("a millisecond before the planned time the limiter already holds %.6f tokens", tok)
			}
			if want := l.lastSent.Add(time.Duration(float64(time.Second) / tt.limit)); v.next.Sub(want).Abs() > time.Microsecond {
				t.Errorf("next at %s, want one token's time after the last send, %s", v.next.Sub(t0), want.Sub(t0))
			}
			// The send the limiter lets go takes its token: the next is one token's time later.
			if v2 := l.plan(v.next); v2.n != 1 {
				t.Fatalf("at the planned time plan = %+v, want one send", v2)
			}
			seq := l.admit(v.next, l.plan(v.next))
			if l.mode == modeDegraded { // one at a time: its answer comes first
				l.answer(seq, v.next, 200, nil)
			}
			if tok := l.pace.TokensAt(v.next); tok > 1e-9 {
				t.Errorf("after a send the limiter holds %.6f tokens", tok)
			}
			v3 := l.plan(v.next)
			if v3.n != 0 || v3.next.Sub(v.next).Seconds()*tt.limit < 1-1e-6 {
				t.Errorf("right after a send plan = %+v, want a wait of one token's time", v3)
			}
		})
	}
}
