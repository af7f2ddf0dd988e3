package recurlytest

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"
)

func TestTouchMovesARecordToTheEnd(t *testing.T) {
	now := time.Date(2026, 11, 20, 8, 30, 15, 500, time.UTC)
	clock := &fakeClock{t: now}
	srv := newTestServer(t, Config{Seed: 31, Counts: smallCounts, RateLimit: 1 << 30, Now: clock.Now})
	for _, res := range []string{Accounts, LineItems, Coupons, Invoices, Plans, AddOns, Subscriptions, Transactions} {
		t.Run(res, func(t *testing.T) {
			ids := srv.Site.Touch(res, 1)
			if len(ids) != 1 {
				t.Fatalf("Touch returned %v", ids)
			}
			id := ids[0]
			before := map[string]Key{}
			for _, k := range srv.Site.Keys(res) {
				before[k.ID] = k
			}
			k := before[id]
			if !k.Sort.Equal(now.Truncate(time.Second)) {
				t.Fatalf("sort time of touched %s = %v, want %v", id, k.Sort, now.Truncate(time.Second))
			}
			got, _ := pageAll(t, srv, "/sites/subdomain-demo/"+res+"?limit=200&order=asc&sort=updated_at")
			if got[len(got)-1].ID != id {
				t.Fatalf("last record of asc updated_at is %s, want touched %s", got[len(got)-1].ID, id)
			}
			if res == Transactions {
				raw, _ := srv.Site.Record(res, id)
				if json.Unmarshal(raw, &map[string]any{}) != nil || jsonHas(raw, "updated_at") {
					t.Fatalf("touched transaction exposes updated_at: %s", raw)
				}
				return
			}
			if *got[len(got)-1].UpdatedAt != "2026-11-20T08:30:15Z" {
				t.Fatalf("updated_at = %s", *got[len(got)-1].UpdatedAt)
			}
		})
	}
}

func jsonHas(raw []byte, field string) bool {
	var m map[string]json.RawMessage
	json.Unmarshal(raw, &m)
	_, ok := m[field]
	return ok
}

func TestTouchChangesSomeFieldsButNotIdentity(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)}
	s, err := NewSite(Config{Seed: 32, Counts: smallCounts, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	changed := 0
	for range 20 {
		id := s.Touch(Accounts, 1)[0]
		// Compare against a fresh site that was never touched.
		fresh, _ := NewSite(Config{Seed: 32, Counts: smallCounts})
		a, _ := s.Record(Accounts, id)
		b, _ := fresh.Record(Accounts, id)
		var ma, mb map[string]any
		json.Unmarshal(a, &ma)
		json.Unmarshal(b, &mb)
		for _, f := range []string{"id", "code", "email", "first_name", "last_name", "created_at"} {
			if fmt.Sprint(ma[f]) != fmt.Sprint(mb[f]) {
				t.Fatalf("touch changed identity field %s: %v -> %v", f, mb[f], ma[f])
			}
		}
		for f := range ma {
			if f != "updated_at" && f != "billing_info" && fmt.Sprint(ma[f]) != fmt.Sprint(mb[f]) {
				changed++
				break
			}
		}
	}
	if changed < 15 {
		t.Fatalf("only %d of 20 touched accounts changed a field besides updated_at", changed)
	}
}

func TestTouchUpdatesSomeBillingInfos(t *testing.T) {
	now := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	s, err := NewSite(Config{Seed: 33, Counts: smallCounts, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	s.Touch(Accounts, 60)
	moved := 0
	for _, k := range s.BillingInfoKeys() {
		if k.Replication.After(k.Sort) {
			t.Fatalf("billing info newer than its account: %+v", k)
		}
		if k.Replication.Equal(now) {
			moved++
		}
	}
	if moved == 0 || moved > 40 {
		t.Fatalf("%d billing infos moved with 60 touched accounts, want about a third of those with billing info", moved)
	}
}

// TestCursorsSurviveMutation pages accounts by updated_at while records are
// touched between pages: nothing is lost, and only touched records repeat.
func TestCursorsSurviveMutation(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)}
	srv := newTestServer(t, Config{Seed: 34, Counts: smallCounts, RateLimit: 1 << 30, Now: clock.Now})
	want := srv.Site.Keys(Accounts)
	touched := map[string]bool{}
	seen := map[string]int{}
	path := "/sites/subdomain-demo/accounts?limit=7&order=asc&sort=updated_at"
	last := ""
	for pages := 0; ; pages++ {
		res := do(t, srv, "GET", path, nil)
		if res.status != 200 {
			t.Fatalf("page %d: %d %s", pages, res.status, res.body)
		}
		var env envelope
		json.Unmarshal(res.body, &env)
		for _, d := range env.Data {
			var h recordHead
			json.Unmarshal(d, &h)
			seen[h.ID]++
			if *h.UpdatedAt < last {
				t.Fatalf("updated_at went backwards: %s after %s", *h.UpdatedAt, last)
			}
			last = *h.UpdatedAt
		}
		if !env.HasMore {
			break
		}
		path = *env.Next
		clock.Set(clock.Now().Add(time.Second))
		for _, id := range srv.Site.Touch(Accounts, 2) {
			touched[id] = true
		}
	}
	for _, k := range want {
		if seen[k.ID] == 0 {
			t.Fatalf("account %s was never listed", k.ID)
		}
		if seen[k.ID] > 1 && !touched[k.ID] {
			t.Fatalf("untouched account %s listed %d times", k.ID, seen[k.ID])
		}
	}
	if len(touched) == 0 {
		t.Fatal("nothing was touched")
	}
}

func TestStartMutator(t *testing.T) {
	s, err := NewSite(Config{Seed: 35, Counts: smallCounts})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.StartMutator(ctx, time.Millisecond, 3)
	start := time.Now().Add(-time.Second)
	changed := func() int {
		n := 0
		for _, res := range []string{Accounts, LineItems, Coupons, Invoices, Plans, AddOns, Subscriptions, Transactions} {
			for _, k := range s.Keys(res) {
				if k.Sort.After(start) {
					n++
				}
			}
		}
		return n
	}
	deadline := time.Now().Add(10 * time.Second)
	for changed() < 10 {
		if time.Now().After(deadline) {
			t.Fatal("the mutator touched fewer than 10 records in 10 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
}
