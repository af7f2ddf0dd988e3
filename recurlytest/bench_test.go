package recurlytest

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkAppendRecord measures JSON generation per record, over all
// resources in their default proportions.
func BenchmarkAppendRecord(b *testing.B) {
	s, err := NewSite(Config{Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	var order []struct {
		k kind
		i int
	}
	for k := range numKinds {
		for i := range s.tables[k].n {
			order = append(order, struct {
				k kind
				i int
			}{k, i})
		}
	}
	buf := make([]byte, 0, 1<<20)
	b.ResetTimer()
	bytes := 0
	for n := 0; n < b.N; n++ {
		o := order[n%len(order)]
		buf = s.appendRecord(buf[:0], o.k, o.i)
		bytes += len(buf)
	}
	b.ReportMetric(float64(bytes)/float64(b.N), "B/record")
}

// BenchmarkListPage measures a full 200-record page of transactions through
// ServeHTTP.
func BenchmarkListPage(b *testing.B) {
	s, err := NewSite(Config{Seed: 1, RateLimit: 1 << 30})
	if err != nil {
		b.Fatal(err)
	}
	req := httptest.NewRequest("GET", "/sites/subdomain-demo/invoices?limit=200&sort=updated_at&order=asc", nil)
	req.SetBasicAuth("sim-key", "")
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatal(w.Code)
		}
		if n%1000 == 0 {
			s.ResetRequests()
		}
	}
	b.ReportMetric(float64(b.N*200)/b.Elapsed().Seconds(), "records/s")
}
