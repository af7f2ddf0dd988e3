package client

import (
	"bytes"
	"context"
	"testing"

	"github.com/tap-recurly/tap-recurly/internal/testutil"
	"github.com/tap-recurly/tap-recurly/recurlytest"
)

func TestBodyPoolGet(t *testing.T) {
	tests := []struct {
		n       int
		wantCap int
	}{
		{0, 32 << 10}, {1, 32 << 10}, {32 << 10, 32 << 10}, {32<<10 + 1, 64 << 10},
		{300_001, 512 << 10}, {4 << 20, 4 << 20}, {4<<20 + 1, 4<<20 + 1}, {32 << 20, 32 << 20},
	}
	var p bodyPool
	for _, tt := range tests {
		if b := p.get(tt.n); len(b) != 0 || cap(b) != tt.wantCap {
			t.Errorf("get(%d) from an empty pool: len %d cap %d, want len 0 cap %d", tt.n, len(b), cap(b), tt.wantCap)
		}
	}
	var nilPool *bodyPool
	if b := nilPool.get(1000); cap(b) != 1000 {
		t.Errorf("a nil pool's get(1000) has cap %d, want a plain 1000", cap(b))
	}
	nilPool.put(make([]byte, 32<<10)) // must not panic
}

// TestBodyPoolReuse checks which free buffer get hands out (the smallest that fits) and that the pool
// never holds more than maxFree buffers, nor any over maxPooled.
func TestBodyPoolReuse(t *testing.T) {
	var p bodyPool
	small, large := p.get(40_000), p.get(600_000) // 64 KiB and 1 MiB
	p.put(append(large, "old"...))
	p.put(small)
	if b := p.get(50_000); cap(b) != cap(small) || len(b) != 0 {
		t.Fatalf("get(50000): cap %d len %d, want the 64 KiB buffer, emptied", cap(b), len(b))
	}
	if b := p.get(50_000); cap(b) != cap(large) {
		t.Fatalf("get(50000) again: cap %d, want the 1 MiB buffer", cap(b))
	}
	for range 3 * maxFree {
		p.put(make([]byte, 0, 1<<20))
	}
	p.put(make([]byte, 0, maxPooled+1))
	if len(p.free) != maxFree {
		t.Fatalf("the pool holds %d buffers, want at most %d", len(p.free), maxFree)
	}
	for _, b := range p.free {
		if cap(b) > maxPooled {
			t.Fatalf("the pool holds a %d-byte buffer", cap(b))
		}
	}
}

// TestListRecyclesPages checks the contract List's recycling rests on: every page's records are right while
// the loop body runs (each compared with an independent read of the same page), and a page kept past its
// iteration is emptied rather than left pointing at another page's bytes.
func TestListRecyclesPages(t *testing.T) {
	srv := testutil.StartSite(t, recurlytest.Config{Seed: 3, Counts: recurlytest.Counts{Accounts: 600}, RateLimit: 1 << 30})
	c, err := New(srv.Site.APIKey(), srv.Site.SiteID(), WithBaseURL(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	var kept *Page
	pages, next := 0, ""
	for page, err := range c.List(context.Background(), "accounts", ListParams{Limit: 50}) {
		if err != nil {
			t.Fatal(err)
		}
		u, err := c.listURL("accounts", ListParams{Limit: 50})
		if err == nil && pages > 0 {
			u, err = c.nextURL(u, next)
		}
		if err != nil {
			t.Fatal(err)
		}
		fresh, _, err := c.listPage(context.Background(), u, ListParams{}, nil)
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
	if len(c.bodies.free) == 0 {
		t.Fatal("List recycled no page buffer")
	}
}
