package streams

import (
	"runtime/debug"
	"testing"
)

// gcPercent reads the GC percent without changing it.
func gcPercent() int {
	p := debug.SetGCPercent(-1)
	debug.SetGCPercent(p)
	return p
}

// TestPauseGC: the collector is off from the first pause to the last
// resume, overlapping pauses share it, a resume called twice counts once,
// and the GC percent found before is restored. Not parallel: it sets the
// process's GC percent.
func TestPauseGC(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(150))
	a := pauseGC()
	b := pauseGC()
	if p := gcPercent(); p != -1 {
		t.Fatalf("GC percent %d during the pauses, want -1 (off)", p)
	}
	a()
	a() // a second call of the same resume is a no-op
	if p := gcPercent(); p != -1 {
		t.Fatalf("GC percent %d with one pause left, want -1 (off)", p)
	}
	b()
	if p := gcPercent(); p != 150 {
		t.Fatalf("GC percent %d after the last resume, want 150 as found", p)
	}
}
