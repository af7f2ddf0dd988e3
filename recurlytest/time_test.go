package recurlytest

import (
	"testing"
	"time"
)

func TestAppendTimeMatchesTimeFormat(t *testing.T) {
	for _, sec := range []int64{0, -1, 951782400, 951868799, 1565667195, 1795366740, 4102444800, 253402300799, -62135596800, 1 << 40} {
		want := `"` + time.Unix(sec, 0).UTC().Format("2006-01-02T15:04:05Z") + `"`
		if got := string(appendTime(nil, sec)); got != want {
			t.Errorf("appendTime(%d) = %s, want %s", sec, got, want)
		}
	}
	for sec := int64(-5e9); sec < 5e9; sec += 86400*37 + 3671 {
		want := `"` + time.Unix(sec, 0).UTC().Format("2006-01-02T15:04:05Z") + `"`
		if got := string(appendTime(nil, sec)); got != want {
			t.Fatalf("appendTime(%d) = %s, want %s", sec, got, want)
		}
	}
}
