package recurlytest

import (
	"runtime"
	"testing"
)

// TestMillionRecordSiteFitsInMemory builds a site of a million records and
// checks the heap stays small: records are index data, not JSON text.
func TestMillionRecordSiteFitsInMemory(t *testing.T) {
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	s, err := NewSite(Config{Seed: 1, Counts: ScaledCounts(1_000_000)})
	if err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	if total := s.Counts().Total(); total < 990_000 || total > 1_010_000 {
		t.Fatalf("ScaledCounts(1M) totals %d", total)
	}
	heap := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("1M-record site: %d MB of heap", heap>>20)
	if heap > 64<<20 {
		t.Fatalf("1M-record site holds %d MB, want under 64 MB", heap>>20)
	}
	// It serves: the last record of the largest list renders.
	keys := s.tables[kLineItem]
	if _, ok := s.Record(LineItems, keys.id(keys.n-1)); !ok {
		t.Fatal("last line item not found")
	}
	runtime.KeepAlive(s)
}

func TestScaledCountsKeepProportions(t *testing.T) {
	for _, total := range []int{1, 100, 3765, 200_000} {
		c := ScaledCounts(total)
		if got := c.Total(); got < total-int(numKinds) || got > total+int(numKinds) {
			t.Errorf("ScaledCounts(%d) totals %d", total, got)
		}
		if c.Accounts < 1 || c.Plans < 1 || c.LineItems < c.Plans {
			t.Errorf("ScaledCounts(%d) = %+v", total, c)
		}
	}
	if ScaledCounts(DefaultCounts().Total()) != DefaultCounts() {
		t.Error("ScaledCounts(default total) differs from DefaultCounts")
	}
}
