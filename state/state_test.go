package state

import (
	"encoding/json"
	"sync"
	"testing"
	"time"
)

func TestParseShapes(t *testing.T) {
	tests := []struct {
		name    string
		json    string
		stream  string
		key     string
		want    string // "" means no bookmark
		syncing string
	}{
		{"empty file", ``, "accounts", "updated_at", "", ""},
		{"empty object", `{}`, "accounts", "updated_at", "", ""},
		{"singer shape", `{"bookmarks":{"accounts":{"updated_at":"2020-01-02T03:04:05Z"}},"currently_syncing":"accounts"}`, "accounts", "updated_at", "2020-01-02T03:04:05Z", "accounts"},
		{"stitch tap shape with offset", `{"bookmarks":{"transactions":{"collected_at":"2020-01-02T03:04:05+01:00"}},"currently_syncing":null}`, "transactions", "collected_at", "2020-01-02T02:04:05Z", ""},
		{"meltano singer_state wrapper", `{"singer_state":{"bookmarks":{"plans":{"updated_at":"2021-05-05T00:00:00Z"}}}}`, "plans", "updated_at", "2021-05-05T00:00:00Z", ""},
		{"STATE message", `{"type":"STATE","value":{"bookmarks":{"plans":{"updated_at":"2021-05-05T00:00:00.5Z"}}}}`, "plans", "updated_at", "2021-05-05T00:00:00.5Z", ""},
		{"null bookmark is none", `{"bookmarks":{"plans":{"updated_at":null}}}`, "plans", "updated_at", "", ""},
		{"date only", `{"bookmarks":{"plans":{"updated_at":"2021-05-05"}}}`, "plans", "updated_at", "2021-05-05T00:00:00Z", ""},
		{"UTF-8 byte-order mark", "\uFEFF" + `{"bookmarks":{"plans":{"updated_at":"2021-05-05T00:00:00Z"}}}`, "plans", "updated_at", "2021-05-05T00:00:00Z", ""},
		{"byte-order mark alone", "\uFEFF", "plans", "updated_at", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, err := Parse("state.json", []byte(tt.json))
			if err != nil {
				t.Fatal(err)
			}
			got, ok := st.Bookmark(tt.stream, tt.key)
			if tt.want == "" {
				if ok {
					t.Fatalf("unexpected bookmark %v", got)
				}
			} else if !ok || Format(got) != tt.want {
				t.Fatalf("bookmark = %v %v, want %s", Format(got), ok, tt.want)
			}
			cs := ""
			if st.CurrentlySyncing != nil {
				cs = *st.CurrentlySyncing
			}
			if cs != tt.syncing {
				t.Fatalf("currently_syncing = %q", cs)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ name, json, want string }{
		{"not json", `{"bookmarks":`, "state.json: not a JSON object"},
		{"array", `[]`, "state.json: not a JSON object"},
		{"bookmarks not object", `{"bookmarks":[1]}`, "state.json: bookmarks: must be an object of streams"},
		{"stream not object", `{"bookmarks":{"accounts":"2020-01-01"}}`, "state.json: bookmarks.accounts: must be an object"},
		{"bookmark not string", `{"bookmarks":{"accounts":{"updated_at":5}}}`, "state.json: bookmarks.accounts.updated_at: must be an RFC 3339 timestamp string"},
		{"bookmark not date", `{"bookmarks":{"accounts":{"updated_at":"last tuesday"}}}`, `state.json: bookmarks.accounts.updated_at: "last tuesday" is not an RFC 3339 timestamp`},
		{"currently_syncing number", `{"currently_syncing":3}`, "state.json: currently_syncing: must be a string or null"},
		{"wrapper not object", `{"singer_state":"x"}`, "state.json: singer_state: not a JSON object"},
		{"two byte-order marks", "\uFEFF\uFEFF{}", "state.json: not a JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("state.json", []byte(tt.json))
			if err == nil || err.Error() != tt.want {
				t.Fatalf("err = %v, want %s", err, tt.want)
			}
		})
	}
}

func TestTrackerNeverLowers(t *testing.T) {
	st, _ := Parse("s", []byte(`{"bookmarks":{"accounts":{"updated_at":"2020-01-01T00:00:00Z"},"other":{"updated_at":"2019-01-01T00:00:00Z"}}}`))
	tr := NewTracker(st)
	t0 := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	steps := []struct {
		v     time.Time
		moved bool
		want  time.Time
	}{
		{t0.Add(-time.Hour), false, t0},
		{t0, false, t0},
		{t0.Add(time.Second), true, t0.Add(time.Second)},
	}
	for i, s := range steps {
		if moved := tr.Advance("accounts", "updated_at", s.v); moved != s.moved {
			t.Fatalf("step %d moved = %v", i, moved)
		}
		if got, _ := tr.Bookmark("accounts", "updated_at"); !got.Equal(s.want) {
			t.Fatalf("step %d bookmark = %v", i, got)
		}
	}
	snap := tr.Snapshot()
	if snap.Bookmarks["other"]["updated_at"] != "2019-01-01T00:00:00Z" {
		t.Fatal("bookmark of an unsynced stream was dropped")
	}
	snap.Bookmarks["accounts"]["updated_at"] = "mutated"
	if got, ok := tr.Bookmark("accounts", "updated_at"); !ok || !got.Equal(t0.Add(time.Second)) {
		t.Fatal("snapshot aliases tracker state")
	}
	b, _ := json.Marshal(tr.Snapshot())
	if string(b) != `{"bookmarks":{"accounts":{"updated_at":"2020-01-01T00:00:01Z"},"other":{"updated_at":"2019-01-01T00:00:00Z"}},"currently_syncing":null}` {
		t.Fatalf("json = %s", b)
	}
}

func TestTrackerConcurrent(t *testing.T) {
	tr := NewTracker(nil)
	base := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				tr.Advance("s", "updated_at", base.Add(time.Duration(i*8+g)*time.Second))
				_ = tr.Snapshot()
			}
		}(g)
	}
	wg.Wait()
	if got, _ := tr.Bookmark("s", "updated_at"); !got.Equal(base.Add(1599 * time.Second)) {
		t.Fatalf("bookmark = %v", got)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"bookmarks":{"accounts":{"updated_at":"2020-01-02T03:04:05Z"}},"currently_syncing":"accounts"}`))
	f.Add([]byte(`{"singer_state":{"bookmarks":{}}}`))
	f.Add([]byte(`{"value":{"bookmarks":{"a":{"b":null}}}}`))
	f.Add([]byte(`{"bookmarks":{"a":{"b":"x"}}}`))
	f.Add([]byte(`[`))
	f.Fuzz(func(t *testing.T, data []byte) {
		st, err := Parse("fuzz.json", data)
		if (st == nil) == (err == nil) {
			t.Fatalf("state %v with error %v", st, err)
		}
		if st == nil {
			return
		}
		for stream, keys := range st.Bookmarks {
			for k := range keys {
				if _, ok := st.Bookmark(stream, k); !ok {
					t.Fatalf("accepted an unparsable bookmark %s.%s", stream, k)
				}
			}
		}
		// What we write back must read back the same.
		b, _ := json.Marshal(st)
		again, err := Parse("again.json", b)
		if err != nil {
			t.Fatalf("own output rejected: %v", err)
		}
		b2, _ := json.Marshal(again)
		if string(b) != string(b2) {
			t.Fatalf("round trip changed state: %s vs %s", b, b2)
		}
	})
}

func TestEncodeIfChanged(t *testing.T) {
	tr := NewTracker(nil)
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	steps := []struct {
		name   string
		change func()
		want   bool
	}{
		{"the first call", func() {}, true},
		{"nothing changed", func() {}, false},
		{"a bookmark moved", func() { tr.Advance("accounts", "updated_at", t0) }, true},
		{"a bookmark not moved", func() { tr.Advance("accounts", "updated_at", t0) }, false},
		{"currently_syncing set", func() { tr.SetCurrentlySyncing("accounts") }, true},
		{"currently_syncing set again", func() { tr.SetCurrentlySyncing("accounts") }, false},
		{"currently_syncing cleared", func() { tr.SetCurrentlySyncing("") }, true},
		{"cleared again", func() { tr.SetCurrentlySyncing("") }, false},
	}
	for _, s := range steps {
		s.change()
		if _, got := tr.EncodeIfChanged(); got != s.want {
			t.Fatalf("%s: changed %v, want %v", s.name, got, s.want)
		}
	}
}

// TestZeroTracker: a zero Tracker is usable, as NewTracker(nil) is: it
// starts empty, takes bookmarks and currently_syncing, and snapshots them.
func TestZeroTracker(t *testing.T) {
	var tr Tracker
	if _, ok := tr.Bookmark("accounts", "updated_at"); ok {
		t.Fatal("a zero Tracker has a bookmark")
	}
	if st, changed := tr.EncodeIfChanged(); !changed || string(st) != `{"bookmarks":{},"currently_syncing":null}` {
		t.Fatalf("first encoding of a zero Tracker = %s, %v; want an empty state", st, changed)
	}
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	if !tr.Advance("accounts", "updated_at", t0) {
		t.Fatal("Advance on a zero Tracker did not move the bookmark")
	}
	tr.SetCurrentlySyncing("accounts")
	st := tr.Snapshot()
	if got, ok := st.Bookmark("accounts", "updated_at"); !ok || !got.Equal(t0) {
		t.Fatalf("bookmark = %v %v, want %v", got, ok, t0)
	}
	b, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"bookmarks":{"accounts":{"updated_at":"2024-01-01T00:00:00Z"}},"currently_syncing":"accounts"}`; string(b) != want {
		t.Fatalf("snapshot = %s, want %s", b, want)
	}
}
