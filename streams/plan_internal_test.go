package streams

import (
	"math/rand/v2"
	"testing"
	"testing/quick"
	"time"
)

// TestSplitCoversTheRange is a property of split: for any k up to the
// largest max_workers (64) and any span, from a few seconds to ten
// thousand years, the windows are in order, contiguous, cover exactly
// [begin, end], and are of equal length to within a second or two.
func TestSplitCoversTheRange(t *testing.T) {
	lo := time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	hi := time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC).Unix()
	epoch := time.Unix(0, 0).UTC()
	cases := []struct {
		name string
		gen  func(r *rand.Rand) (begin, end time.Time)
	}{
		{"1970 to 2100", func(r *rand.Rand) (time.Time, time.Time) {
			return epoch, time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)
		}},
		{"2015 to 2026", func(r *rand.Rand) (time.Time, time.Time) {
			return time.Date(2015, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		}},
		{"any span in years 1..9999", func(r *rand.Rand) (time.Time, time.Time) {
			a, b := lo+r.Int64N(hi-lo), lo+r.Int64N(hi-lo)
			return time.Unix(min(a, b), r.Int64N(1e9)).UTC(), time.Unix(max(a, b), r.Int64N(1e9)).UTC()
		}},
		{"tiny spans, sub-second bounds", func(r *rand.Rand) (time.Time, time.Time) {
			begin := time.Unix(r.Int64N(4e9), r.Int64N(1e9)).UTC()
			return begin, begin.Add(time.Duration(r.Int64N(int64(100 * time.Second))))
		}},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, 2))
			check := func(k8 uint8) bool {
				k := int(k8)%64 + 1
				begin, end := tt.gen(r)
				if end.Before(begin) {
					end = begin
				}
				return checkSplit(t, begin, end, k)
			}
			if err := quick.Check(check, &quick.Config{MaxCount: 2000}); err != nil {
				t.Error(err)
			}
			for k := 1; k <= 64; k++ {
				begin, end := tt.gen(r)
				checkSplit(t, begin, end, k)
			}
		})
	}
}

// checkSplit reports (and returns false) what is wrong with split(begin, end, k).
func checkSplit(t *testing.T, begin, end time.Time, k int) bool {
	t.Helper()
	ws := split(begin, end, k)
	ok := len(ws) == k && ws[0].begin.Equal(begin) && ws[k-1].end.Equal(end)
	if !ok {
		t.Errorf("split(%v, %v, %d): %d windows, first begins %v, last ends %v", begin, end, k, len(ws), ws[0].begin, ws[len(ws)-1].end)
		return false
	}
	want := seconds(begin, end) / float64(k)
	for i, w := range ws {
		switch {
		case w.idx != i:
			t.Errorf("split(%v, %v, %d): window %d has idx %d", begin, end, k, i, w.idx)
		case w.end.Before(w.begin):
			t.Errorf("split(%v, %v, %d): window %d = [%v, %v] ends before it begins", begin, end, k, i, w.begin, w.end)
		case i > 0 && !w.begin.Equal(ws[i-1].end):
			t.Errorf("split(%v, %v, %d): window %d begins %v, the one before ends %v", begin, end, k, i, w.begin, ws[i-1].end)
		case w.begin.Before(begin) || w.end.After(end):
			t.Errorf("split(%v, %v, %d): window %d = [%v, %v] is outside the range", begin, end, k, i, w.begin, w.end)
		case abs(seconds(w.begin, w.end)-want) > 2:
			t.Errorf("split(%v, %v, %d): window %d lasts %.0fs, want about %.0fs", begin, end, k, i, seconds(w.begin, w.end), want)
		default:
			continue
		}
		return false
	}
	return true
}

// seconds is end-begin in seconds, for spans longer than a Duration holds.
func seconds(begin, end time.Time) float64 {
	return float64(end.Unix()-begin.Unix()) + float64(end.Nanosecond()-begin.Nanosecond())/1e9
}

func abs(f float64) float64 { return max(f, -f) }
