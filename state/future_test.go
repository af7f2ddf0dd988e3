package state

import (
	"testing"
	"time"
)

func TestCheckFuture(t *testing.T) {
	start := time.Date(2026, 11, 29, 8, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		name     string
		doc      string
		wantErr  string
		wantWarn int
	}{
		{"past", `{"bookmarks":{"accounts":{"updated_at":"2026-11-01T00:00:00Z"}}}`, "", 0},
		{"at start", `{"bookmarks":{"accounts":{"updated_at":"2026-11-29T08:00:00Z"}}}`, "", 0},
		{"skew within a day", `{"bookmarks":{"accounts":{"updated_at":"2026-11-29T20:00:00+02:00"}}}`, "", 1},
		{"far future", `{"bookmarks":{"accounts":{"updated_at":"2099-01-01T00:00:00Z"}}}`,
			"state.json: bookmarks.accounts.updated_at: 2099-01-01T00:00:00Z is in the future, more than a day past this run's start; a run from it would extract nothing: fix or remove the bookmark", 0},
		{"first by name", `{"bookmarks":{"plans":{"updated_at":"2099-01-01T00:00:00Z"},"coupons":{"updated_at":"2098-01-01T00:00:00Z"}}}`,
			"state.json: bookmarks.coupons.updated_at: 2098-01-01T00:00:00Z is in the future, more than a day past this run's start; a run from it would extract nothing: fix or remove the bookmark", 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			st, err := Parse("state.json", []byte(tt.doc))
			if err != nil {
				t.Fatal(err)
			}
			warn, err := st.CheckFuture("state.json", start)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.wantErr {
				t.Errorf("error %q, want %q", got, tt.wantErr)
			}
			if len(warn) != tt.wantWarn {
				t.Errorf("%d warnings (%v), want %d", len(warn), warn, tt.wantWarn)
			}
		})
	}
}
