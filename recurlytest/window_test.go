package recurlytest

import (
	"testing"
	"time"
)

func TestBusiestWindow(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	at := func(ms ...int) []time.Time {
		var out []time.Time
		for _, m := range ms {
			out = append(out, t0.Add(time.Duration(m)*time.Millisecond))
		}
		return out
	}
	for _, tt := range []struct {
		times []time.Time
		want  int
		from  int // ms after t0; ignored when want is 0
	}{
		{nil, 0, 0},
		{at(0), 1, 0},
		{at(0, 999, 1000), 2, 0},               // [0, 1000) excludes 1000
		{at(500, 0, 1400, 1499, 2000), 3, 500}, // unsorted; the busiest interval starts mid-way
		{at(1000, 0, 500, 1400), 3, 500},       // 500, 1000, 1400 within a second
		{at(0, 0, 0, 5000), 3, 0},              // ties count each
		{at(0, 2000, 4000), 1, 0},              // no two within a second
	} {
		got, from := BusiestWindow(tt.times, time.Second)
		if got != tt.want || (tt.want > 0 && !from.Equal(t0.Add(time.Duration(tt.from)*time.Millisecond))) {
			t.Errorf("BusiestWindow(%v) = %d from %s, want %d from +%dms", tt.times, got, from, tt.want, tt.from)
		}
	}
}

func TestTimes(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	got := Times([]Request{{At: t0}, {At: t0.Add(time.Second)}})
	if len(got) != 2 || !got[0].Equal(t0) || !got[1].Equal(t0.Add(time.Second)) {
		t.Errorf("Times = %v", got)
	}
}
