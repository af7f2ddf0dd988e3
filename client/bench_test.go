package client_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"sync"
	"testing"

	"github.com/tap-recurly/tap-recurly/client"
	"github.com/tap-recurly/tap-recurly/internal/testutil"
	"github.com/tap-recurly/tap-recurly/recurlytest"
)

// keepBodies is a transport that keeps the largest body it passed on.
type keepBodies struct {
	mu      sync.Mutex
	largest []byte
}

func (k *keepBodies) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	k.mu.Lock()
	if len(b) > len(k.largest) {
		k.largest = b
	}
	k.mu.Unlock()
	resp.Body = io.NopCloser(bytes.NewReader(b))
	return resp, nil
}

// BenchmarkDecodePage decodes a 200-record accounts page of the simulated site the way the client checks
// every list page (the strict one-pass scan, UTF-8 check included), locating the keys the sync reads.
func BenchmarkDecodePage(b *testing.B) {
	srv := testutil.StartSite(b, recurlytest.Config{Seed: 6, Counts: recurlytest.Counts{Accounts: 400}, RateLimit: 1 << 30})
	var keep keepBodies
	c, err := client.New(srv.Site.APIKey(), srv.Site.SiteID(), client.WithBaseURL(srv.URL), client.WithTransport(&keep))
	if err != nil {
		b.Fatal(err)
	}
	if _, _, err := c.ListPage(context.Background(), "accounts", client.ListParams{}); err != nil {
		b.Fatal(err)
	}
	page, keys := keep.largest, []string{"id", "updated_at", "billing_info"}
	b.SetBytes(int64(len(page)))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		p, err := client.DecodePage(page, keys)
		if err != nil {
			b.Fatal(err)
		}
		if len(p.Records) != 200 {
			b.Fatalf("%d records", len(p.Records))
		}
	}
}
