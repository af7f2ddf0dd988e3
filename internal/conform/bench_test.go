package conform_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/tap-recurly/tap-recurly/client"
	"github.com/tap-recurly/tap-recurly/internal/conform"
	"github.com/tap-recurly/tap-recurly/internal/jsonscan"
	"github.com/tap-recurly/tap-recurly/internal/testutil"
	"github.com/tap-recurly/tap-recurly/recurlytest"
	"github.com/tap-recurly/tap-recurly/schemas"
)

// benchPage is a full page of records of one of the largest streams of the
// simulated site, with the stream's schema compiled.
type benchPage struct {
	schema  *conform.Schema
	records []json.RawMessage
}

func loadPages(b testing.TB) ([]benchPage, int64) {
	srv := testutil.StartSite(b, recurlytest.Config{Seed: 6, Counts: recurlytest.Counts{Accounts: 250, LineItems: 250, Invoices: 250, Subscriptions: 250, Transactions: 250}, RateLimit: 1 << 30})
	c, err := client.New(srv.Site.APIKey(), srv.Site.SiteID(), client.WithBaseURL(srv.URL))
	if err != nil {
		b.Fatal(err)
	}
	var pages []benchPage
	var size int64
	for _, s := range [][2]string{{"accounts", "accounts"}, {"adjustments", "line_items"}, {"invoices", "invoices"}, {"subscriptions", "subscriptions"}, {"transactions", "transactions"}} {
		raw, err := schemas.Get(s[0])
		if err != nil {
			b.Fatal(err)
		}
		sch, err := conform.Compile(raw)
		if err != nil {
			b.Fatal(err)
		}
		p, _, err := c.ListPage(context.Background(), s[1], client.ListParams{})
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range p.Records {
			size += int64(len(r))
		}
		pages = append(pages, benchPage{sch, p.Records})
	}
	return pages, size
}

// BenchmarkConform conforms a page of each large stream of the simulated
// site (records that already conform: the common case).
func BenchmarkConform(b *testing.B) {
	pages, size := loadPages(b)
	b.SetBytes(size)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		for _, p := range pages {
			for _, r := range p.records {
				if _, err := p.schema.Conform(r); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
}

// BenchmarkStrictScan is the client's strict check of the same records, for
// comparison.
func BenchmarkStrictScan(b *testing.B) {
	pages, size := loadPages(b)
	b.SetBytes(size)
	b.ResetTimer()
	for range b.N {
		for _, p := range pages {
			for _, r := range p.records {
				if _, err := jsonscan.Value(r, 0); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
}

// BenchmarkCheck is the fused walk (conform.Checker) over the same records,
// finding id and updated_at as the client's pass does: it replaces the
// client's strict scan and Conform for records that conform.
func BenchmarkCheck(b *testing.B) {
	pages, size := loadPages(b)
	keys := []string{"id", "updated_at"}
	checkers := make([]*conform.Checker, len(pages))
	for i, p := range pages {
		if checkers[i] = p.schema.Checker(keys); checkers[i] == nil {
			b.Fatal("no Checker")
		}
	}
	out := make([][]byte, len(keys))
	b.SetBytes(size)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		for i, p := range pages {
			for _, r := range p.records {
				if _, ok := checkers[i].Check(r, 0, out); !ok {
					b.Fatalf("Check refuses %s", r)
				}
			}
		}
	}
}

// BenchmarkScanAndConform is what the Checker replaces: the client's strict
// scan finding the same keys (jsonscan.Objects, which also refuses a name
// held twice), then Conform.
func BenchmarkScanAndConform(b *testing.B) {
	pages, size := loadPages(b)
	keys := []string{"id", "updated_at"}
	out := make([][]byte, len(keys))
	bodies, starts := joined(pages)
	b.SetBytes(size)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		for pi, p := range pages {
			var objs jsonscan.Objects // reads the records of one input, as the client's does a page
			for ri, r := range p.records {
				if _, err := objs.Fields(bodies[pi], starts[pi][ri], keys, out); err != nil {
					b.Fatal(err)
				}
				if _, err := p.schema.Conform(r); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
}

// joined puts each page's records into one buffer, as they are in a page:
// the buffers, and where each record starts.
func joined(pages []benchPage) ([][]byte, [][]int) {
	bodies, starts := make([][]byte, len(pages)), make([][]int, len(pages))
	for i, p := range pages {
		for _, r := range p.records {
			starts[i] = append(starts[i], len(bodies[i]))
			bodies[i] = append(append(bodies[i], r...), ',')
		}
	}
	return bodies, starts
}
