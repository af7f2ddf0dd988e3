package client

import (
	"bytes"
	"context"
	"testing"

	"github.com/tap-recurly/tap-recurly/internal/testutil"
	"github.com/tap-recurly/tap-recurly/recurlytest"
)

func TestBodyPoolClasses(t *testing.T) {
	tests := []struct {
		n       int
		wantCap int // 0: not pooled, a plain allocation of exactly n
	}{
		{0, 32 << 10}, {1, 32 << 10}, {32 << 10, 32 << 10}, {32<<10 + 1, 64 << 10},
		{300_001, 512 << 10}, {4 << 20, 4 << 20}, {4<<20 + 1, 0}, {32 << 20, 0},
	}
	var p bodyPool
	for _, tt := range tests {
		b := p.get(tt.n)
		want := tt.wantCap
		if want == 0 {
			want = tt.n
		}
		if len(b) != 0 || cap(b) != want {
			t.Errorf("get(%d): len %d cap %d, want len 0 cap %d", tt.n, len(b), cap(b), want)
		}
		p.put(b)
	}
	var nilPool *bodyPool
	if b := nilPool.get(1000); cap(b) != 1000 {
		t.Errorf("a nil pool's get(1000) has cap %d, want a plain 1000", cap(b))
	}
	nilPool.put(make([]byte, 32<<10)) // must not panic
}

// TestBodyPoolRecycles checks that a buffer put back is handed out again for its class, and that odd
// capacities are never taken in. sync.Pool may drop any buffer (always under a collection, at random under
// the race detector), so the test asks for reuse over many rounds rather than once.
func TestBodyPoolRecycles(t *testing.T) {
	var p bodyPool
	reused := 0
	for range 50 {
		b := p.get(100_000)
		p.put(b)
		if again := p.get(70_000); cap(again) == cap(b) && &again[:1][0] == &b[:1][0] {
			reused++
		}
	}
	if reused == 0 {
		t.Fatal("no buffer put back was ever handed out again")
	}
	p.put(make([]byte, 0, 100_000)) // not a class size: dropped
	for range 10 {
		if got := p.get(100_000); cap(got) != 128<<10 {
			t.Fatalf("cap %d, want 128 KiB", cap(got))
		}
	}
}

// TestListRecyclesPages checks the contract List's recycling rests on: every page's records are right while
// the loop body runs (each compared with an independent read of the same page), and a page kept past its
// iteration is emptied rather than left pointing at another page's bytes.
func TestListRecyclesPages(t *testing.T) {
	srv := testutil.StartSite(t, recurlytest.Config{Seed: 3, Counts: recurlytest.Counts{Accounts: 600}, RateLimit: 1 << 30})
	c2, err := New(srv.Site.APIKey(), srv.Site.SiteID(), WithBaseURL(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	var kept *Page
	pages, next := 0, ""
	for page, err := range c2.List(context.Background(), "accounts", ListParams{Limit: 50}) {
		if err != nil {
			t.Fatal(err)
		}
		link := "accounts"
		if pages > 0 {
			link = next
		}
		fresh, _, err := c2.ListPage(context.Background(), link, ListParams{Limit: 50})
		if err != nil {
			t.Fatal(err)
		}
		if len(fresh.Records) != len(page.Records) {
			t.Fatalf("page %d: %d records, an independent read has %d", pages, len(page.Records), len(fresh.Records))
		}
		for i := range fresh.Records {
			if !bytes.Equal(fresh.Records[i], page.Records[i]) {
				t.Fatalf("page %d record %d differs from an independent read", pages, i)
			}
		}
		if kept == nil {
			kept = page
		}
		next = page.Next
		pages++
	}
	if pages < 10 {
		t.Fatalf("%d pages; the test needs many", pages)
	}
	if len(kept.Records) != 0 || kept.Fields != nil {
		t.Fatalf("a page kept past its iteration still shows %d records", len(kept.Records))
	}
}
