package client

import (
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
	// plan: plan must say n attempts may go, and if none, next (ms after t0; -1 for "when an answer comes").
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
				case "send":
					v := l.plan(now)
					if v.n < 1 {
						t.Fatalf("step %d (send at %d ms): plan = %+v, want room", i, s.ms, v)
					}
					seqs = append(seqs, l.admit(now, v))
				case "answer":
					var r *Rate
					if s.rem >= 0 {
						r = &Rate{Limit: s.limit, Remaining: s.rem, Reset: t0.Add(time.Duration(s.reset) * time.Second)}
					}
					l.answer(seqs[s.seq-1], now, s.status, r)
				case "plan":
					v := l.plan(now)
					next := -1
					if !v.next.IsZero() {
						next = int(v.next.Sub(t0) / time.Millisecond)
					}
					if v.n != s.n || (v.n == 0 && next != s.next) || v.probe != s.probe {
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
