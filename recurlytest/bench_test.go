package recurlytest

import (
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"
)

// cpuNanos is the process's user+sys CPU time so far: benchmarks report CPU
// per operation, which a busy machine disturbs less than wall time.
func cpuNanos() int64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Utime.Nano() + ru.Stime.Nano()
}

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
	cpu := cpuNanos()
	bytes := 0
	for n := 0; n < b.N; n++ {
		o := order[n%len(order)]
		buf = s.appendRecord(buf[:0], o.k, o.i)
		bytes += len(buf)
	}
	b.ReportMetric(float64(cpuNanos()-cpu)/float64(b.N), "cpu-ns/record")
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
	cpu := cpuNanos()
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
	b.ReportMetric(float64(cpuNanos()-cpu)/float64(b.N*200), "cpu-ns/record")
}

// BenchmarkListPageGzip is BenchmarkListPage for a client that accepts
// gzip (the default of Go's transport, and what the site then sends).
func BenchmarkListPageGzip(b *testing.B) {
	s, err := NewSite(Config{Seed: 1, RateLimit: 1 << 30})
	if err != nil {
		b.Fatal(err)
	}
	req := httptest.NewRequest("GET", "/sites/subdomain-demo/invoices?limit=200&sort=updated_at&order=asc", nil)
	req.SetBasicAuth("sim-key", "")
	req.Header.Set("Accept-Encoding", "gzip")
	b.ResetTimer()
	cpu := cpuNanos()
	for n := 0; n < b.N; n++ {
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		if w.Code != http.StatusOK || w.Header().Get("Content-Encoding") != "gzip" {
			b.Fatal(w.Code, w.Header())
		}
		if n%1000 == 0 {
			s.ResetRequests()
		}
	}
	b.ReportMetric(float64(b.N*200)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(cpuNanos()-cpu)/float64(b.N*200), "cpu-ns/record")
}

// BenchmarkAppendRecordByKind measures JSON generation per record of each
// resource.
func BenchmarkAppendRecordByKind(b *testing.B) {
	s, err := NewSite(Config{Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	for k := range numKinds {
		b.Run(kindNames[k], func(b *testing.B) {
			buf := make([]byte, 0, 1<<20)
			n := s.tables[k].n
			bytes := 0
			cpu := cpuNanos()
			for i := 0; i < b.N; i++ {
				buf = s.appendRecord(buf[:0], k, i%n)
				bytes += len(buf)
			}
			b.ReportMetric(float64(cpuNanos()-cpu)/float64(b.N), "cpu-ns/record")
			b.ReportMetric(float64(bytes)/float64(b.N), "B/record")
		})
	}
}
