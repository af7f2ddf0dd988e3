package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tap-recurly/tap-recurly/client"
	"github.com/tap-recurly/tap-recurly/internal/jsonscan"
	"github.com/tap-recurly/tap-recurly/recurlytest"
	"github.com/tap-recurly/tap-recurly/schemas"
	"github.com/tap-recurly/tap-recurly/singer"
	"github.com/tap-recurly/tap-recurly/state"
	"github.com/tap-recurly/tap-recurly/streams"
)

// The in-process benchmarks profile the tap's own hot path. BenchmarkSync*
// run the real sync loop (streams.Syncer + client + singer.Writer) against a
// recording of the simulated site's answers replayed from memory, so that
// the site's own work (rendering JSON) is not in the profile; the HTTP
// variant adds a real loopback server for comparison.
//
//	go test -run '^$' -bench SyncAllStreams -cpuprofile cpu.out ./bench/
//	go tool pprof -top -cum bench.test cpu.out

// benchRecords is the site size the in-process sync benchmarks use.
const benchRecords = 20_000

// fixedNow is the sync's clock, so every run asks for the same windows and
// the recorded answers match.
var fixedNow = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

// recording holds a site's answers by method and request URI.
type recording struct {
	site    recurlytest.Counts
	siteID  string
	apiKey  string
	answers map[string]answer
	records int64 // records one full sync emits
	pages   [][]byte
}

var (
	recOnce sync.Once
	rec     *recording
	recErr  error
)

// answer is one recorded 200: a page's body, or a HEAD's count.
type answer struct {
	body  []byte
	total string // Recurly-Total-Records
}

// recorder is a RoundTripper that keeps every 200 answer by method and request URI.
type recorder struct {
	base http.RoundTripper
	mu   sync.Mutex
	got  map[string]answer
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.base.RoundTrip(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.got[req.Method+" "+req.URL.RequestURI()] = answer{body: body, total: resp.Header.Get("Recurly-Total-Records")}
	r.mu.Unlock()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, nil
}

// replayer answers from a recording, with rate-limit headers that never
// throttle.
type replayer struct{ rec *recording }

func (p replayer) RoundTrip(req *http.Request) (*http.Response, error) {
	a, ok := p.rec.answers[req.Method+" "+req.URL.RequestURI()]
	if !ok {
		return nil, fmt.Errorf("replay: no recorded answer for %s %s", req.Method, req.URL.RequestURI())
	}
	body := a.body
	h := http.Header{}
	if a.total != "" {
		h.Set("Recurly-Total-Records", a.total)
	}
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("X-RateLimit-Limit", "1000000")
	h.Set("X-RateLimit-Remaining", "999999")
	h.Set("X-RateLimit-Reset", strconv.FormatInt(time.Now().Add(time.Minute).Unix(), 10))
	return &http.Response{
		StatusCode: http.StatusOK, Status: "200 OK", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: h, Body: io.NopCloser(bytes.NewReader(body)), ContentLength: int64(len(body)), Request: req,
	}, nil
}

// everyStream selects all nine streams with every field, as a run without a
// catalog does.
func everyStream(tb testing.TB) []streams.Selected {
	var sel []streams.Selected
	for _, st := range streams.All() {
		schema, err := schemas.Get(st.Name)
		if err != nil {
			tb.Fatal(err)
		}
		sel = append(sel, streams.Selected{Stream: st, Schema: schema})
	}
	return sel
}

// syncOnce runs one full sync of every stream through api, writing to w.
func syncOnce(api streams.API, w io.Writer, sel []streams.Selected) (int64, error) {
	out := singer.NewWriter(w)
	s := &streams.Syncer{API: api, Out: out, State: state.NewTracker(nil), Options: streams.Options{
		StartDate:  time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC),
		Now:        func() time.Time { return fixedNow },
		MaxWorkers: 4,
		Windows:    4,
	}}
	res, err := s.Run(context.Background(), sel)
	if ferr := out.Flush(); err == nil {
		err = ferr
	}
	var n int64
	for _, r := range res {
		n += r.Records
	}
	return n, err
}

// loadRecording records one full sync of a site of benchRecords records.
func loadRecording(tb testing.TB) *recording {
	recOnce.Do(func() {
		srv, err := recurlytest.NewServer(recurlytest.Config{Seed: 6, Counts: recurlytest.ScaledCounts(benchRecords), RateLimit: unlimited})
		if err != nil {
			recErr = err
			return
		}
		defer srv.Close()
		r := &recorder{base: http.DefaultTransport, got: map[string]answer{}}
		api, err := client.New(srv.Site.APIKey(), srv.Site.SiteID(), client.WithBaseURL(srv.URL), client.WithTransport(r))
		if err != nil {
			recErr = err
			return
		}
		n, err := syncOnce(api, io.Discard, everyStream(tb))
		if err != nil {
			recErr = err
			return
		}
		rec = &recording{site: srv.Site.Counts(), siteID: srv.Site.SiteID(), apiKey: srv.Site.APIKey(), answers: r.got, records: n}
		for key, a := range r.got {
			if strings.HasPrefix(key, http.MethodGet+" ") {
				rec.pages = append(rec.pages, a.body)
			}
		}
	})
	if recErr != nil {
		tb.Fatal(recErr)
	}
	return rec
}

// largestPage is the recorded list page with the most bytes.
func (r *recording) largestPage() []byte {
	var best []byte
	for _, p := range r.pages {
		if len(p) > len(best) {
			best = p
		}
	}
	return best
}

// cpuTime is processCPU, failing the benchmark when it is unavailable.
func cpuTime(tb testing.TB) time.Duration {
	d := processCPU()
	if d == 0 {
		tb.Fatal("getrusage failed")
	}
	return d
}

// reportRecords reports records per wall second, and CPU nanoseconds per
// record since cpu0 (taken when the timer was reset).
func reportRecords(b *testing.B, records int64, cpu0 time.Duration) {
	n := float64(records) * float64(b.N)
	b.ReportMetric(n/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64((cpuTime(b)-cpu0).Nanoseconds())/n, "cpu-ns/record")
}

// BenchmarkSyncAllStreams is a full sync of every stream and field (the
// sync loop, the client with its retry and quota layers, page decoding,
// jsonscan and the Singer writer) with the site's answers replayed from
// memory. One op is one sync of about 23,000 records.
func BenchmarkSyncAllStreams(b *testing.B) {
	r := loadRecording(b)
	sel := everyStream(b)
	var out countWriter
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime(b)
	for range b.N {
		// A client per sync, as each run of the tap has: the quota ledger
		// of one would otherwise grow over all the syncs of the benchmark.
		api, err := client.New(r.apiKey, r.siteID, client.WithBaseURL("http://127.0.0.1:1"), client.WithTransport(replayer{r}))
		if err != nil {
			b.Fatal(err)
		}
		n, err := syncOnce(api, &out, sel)
		if err != nil {
			b.Fatal(err)
		}
		if n != r.records {
			b.Fatalf("synced %d records, want %d", n, r.records)
		}
	}
	reportRecords(b, r.records, cpu0)
	b.ReportMetric(float64(out.n)/float64(b.N)/float64(r.records), "out-bytes/record")
}

// BenchmarkSyncAllStreamsHTTP is BenchmarkSyncAllStreams against the
// simulated site over loopback HTTP; the profile then includes the site's
// work, which BENCHMARKS.md's separate-process runs exclude.
func BenchmarkSyncAllStreamsHTTP(b *testing.B) {
	srv, err := recurlytest.NewServer(recurlytest.Config{Seed: 6, Counts: recurlytest.ScaledCounts(benchRecords), RateLimit: unlimited})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	sel := everyStream(b)
	var records int64
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime(b)
	for range b.N {
		api, err := client.New(srv.Site.APIKey(), srv.Site.SiteID(), client.WithBaseURL(srv.URL)) // a client per sync, as above
		if err != nil {
			b.Fatal(err)
		}
		n, err := syncOnce(api, io.Discard, sel)
		if err != nil {
			b.Fatal(err)
		}
		records = n
	}
	reportRecords(b, records, cpu0)
}

// pageRecords returns the records of the largest recorded page.
func pageRecords(b *testing.B) []json.RawMessage {
	var p struct{ Data []json.RawMessage }
	if err := json.Unmarshal(loadRecording(b).largestPage(), &p); err != nil {
		b.Fatal(err)
	}
	return p.Data
}

// BenchmarkJSONScanFields reads the keys the sync loop reads of each record
// (id, updated_at and an embedded object) from a page's records.
func BenchmarkJSONScanFields(b *testing.B) {
	recs := pageRecords(b)
	var size int64
	for _, r := range recs {
		size += int64(len(r))
	}
	keys := []string{"id", "updated_at", "billing_info"}
	out := make([][]byte, len(keys))
	b.SetBytes(size)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		for _, r := range recs {
			if err := jsonscan.Fields(r, keys, out); err != nil {
				b.Fatal(err)
			}
			if out[0] == nil {
				b.Fatal("no id")
			}
		}
	}
}

// BenchmarkWriteRecords writes a page's records as Singer RECORD messages.
func BenchmarkWriteRecords(b *testing.B) {
	recs := pageRecords(b)
	var size int64
	for _, r := range recs {
		size += int64(len(r))
	}
	w := singer.NewWriter(io.Discard)
	now := time.Now()
	b.SetBytes(size)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if err := w.WriteRecords("accounts", recs, now); err != nil {
			b.Fatal(err)
		}
	}
}

// countWriter counts the bytes written to it and discards them.
type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

// BenchmarkJSONValid checks the largest recorded page strictly, as the
// client does for every list page.
func BenchmarkJSONValid(b *testing.B) {
	page := loadRecording(b).largestPage()
	b.SetBytes(int64(len(page)))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if !jsonscan.Valid(page) {
			b.Fatal("invalid page")
		}
	}
}
