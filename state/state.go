// Package state reads the tap's saved state and tracks bookmarks during a
// sync.
//
// The shape is Singer's: {"bookmarks": {"<stream>": {"<replication key>":
// "<RFC 3339>"}}, "currently_syncing": "<stream>"}. The Stitch tap writes the
// same shape; Meltano may pass it bare or wrapped, and both are read.
package state

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/tap-recurly/tap-recurly/internal/excerpt"
	"github.com/tap-recurly/tap-recurly/internal/fileerr"
)

// State is the bookmarks document. The zero value is an empty state.
type State struct {
	Bookmarks        map[string]map[string]string `json:"bookmarks"`
	CurrentlySyncing *string                      `json:"currently_syncing"`
}

// Bookmark returns the stream's bookmark on key, if it has one.
func (s *State) Bookmark(stream, key string) (time.Time, bool) {
	v, ok := s.Bookmarks[stream][key]
	if !ok {
		return time.Time{}, false
	}
	t, err := ParseTime(v)
	return t, err == nil
}

// Error is a problem with a state file: the file, the key path and what is
// wrong, on one line.
type Error struct {
	File, Key, Problem string
}

func (e *Error) Error() string {
	if e.Key == "" {
		return e.File + ": " + e.Problem
	}
	return e.File + ": " + e.Key + ": " + e.Problem
}

// Load reads the state file at path.
func Load(path string) (*State, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &Error{File: path, Problem: "cannot read: " + fileerr.Describe(err)}
	}
	return Parse(path, data)
}

// Parse reads state JSON from a file named name. An empty document or {}
// is an empty state. Accepted wrappers: Meltano's {"singer_state": {...}},
// a STATE message {"type":"STATE","value":{...}} and {"value": {...}}. A
// leading UTF-8 byte-order mark, as some Windows editors write, is skipped.
func Parse(name string, data []byte) (*State, error) {
	data = bytes.TrimPrefix(data, []byte("\uFEFF"))
	if len(bytes.TrimSpace(data)) == 0 {
		return &State{Bookmarks: map[string]map[string]string{}}, nil
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil || top == nil {
		return nil, &Error{File: name, Problem: "not a JSON object"}
	}
	for _, wrapper := range []string{"singer_state", "value"} {
		if inner, ok := top[wrapper]; ok {
			if _, hasBookmarks := top["bookmarks"]; !hasBookmarks {
				var m map[string]json.RawMessage
				if err := json.Unmarshal(inner, &m); err != nil || m == nil {
					return nil, &Error{File: name, Key: wrapper, Problem: "not a JSON object"}
				}
				top = m
				break
			}
		}
	}
	st := &State{Bookmarks: map[string]map[string]string{}}
	if raw, ok := top["currently_syncing"]; ok && string(bytes.TrimSpace(raw)) != "null" {
		var cs string
		if err := json.Unmarshal(raw, &cs); err != nil {
			return nil, &Error{File: name, Key: "currently_syncing", Problem: "must be a string or null"}
		}
		st.CurrentlySyncing = &cs
	}
	raw, ok := top["bookmarks"]
	if !ok || string(bytes.TrimSpace(raw)) == "null" {
		return st, nil
	}
	var streams map[string]json.RawMessage
	if err := json.Unmarshal(raw, &streams); err != nil || streams == nil {
		return nil, &Error{File: name, Key: "bookmarks", Problem: "must be an object of streams"}
	}
	names := make([]string, 0, len(streams))
	for n := range streams {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, stream := range names {
		bm, err := parseBookmarks(name, stream, streams[stream])
		if err != nil {
			return nil, err
		}
		st.Bookmarks[stream] = bm
	}
	return st, nil
}

// parseBookmarks reads one stream's bookmarks, {"<key>": "<timestamp>"},
// written back in Format; a null bookmark means none.
func parseBookmarks(name, stream string, raw json.RawMessage) (map[string]string, error) {
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(raw, &keys); err != nil || keys == nil {
		return nil, &Error{File: name, Key: "bookmarks." + stream, Problem: "must be an object"}
	}
	bm := map[string]string{}
	for k, v := range keys {
		path := "bookmarks." + stream + "." + k
		if string(bytes.TrimSpace(v)) == "null" {
			continue
		}
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return nil, &Error{File: name, Key: path, Problem: "must be an RFC 3339 timestamp string"}
		}
		t, err := ParseTime(s)
		if err != nil {
			return nil, &Error{File: name, Key: path, Problem: fmt.Sprintf("%q is not an RFC 3339 timestamp", excerpt.Of(s, 40))}
		}
		bm[k] = Format(t)
	}
	return bm, nil
}

// ParseTime reads a timestamp as config files and state files write it:
// RFC 3339 (any offset, any fractional seconds), or a YYYY-MM-DD date as
// midnight UTC. The result is in UTC.
func ParseTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, err
	}
	return t.UTC(), nil
}

// Format writes a bookmark value: RFC 3339 in UTC, with fractional seconds
// only when there are any.
func Format(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// Tracker holds the bookmarks of a running sync. It is safe for concurrent
// use; bookmarks only move forward. Its zero value is a usable tracker
// starting from an empty state, as NewTracker(nil) is.
type Tracker struct {
	mu      sync.Mutex
	st      State
	version uint64 // bumped by every change of st
	taken   uint64 // version at the last EncodeIfChanged
	took    bool   // EncodeIfChanged has been called
}

// NewTracker starts from initial (nil means empty). Bookmarks of streams
// that are not synced this run are kept as they are.
func NewTracker(initial *State) *Tracker {
	t := &Tracker{st: State{Bookmarks: map[string]map[string]string{}}}
	if initial != nil {
		t.st = initial.Clone()
	}
	return t
}

// Bookmark returns the stream's bookmark on key, if any.
func (t *Tracker) Bookmark(stream, key string) (time.Time, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.st.Bookmark(stream, key)
}

// Advance moves the stream's bookmark on key to v unless it is already at
// or past v. It reports whether the bookmark moved.
func (t *Tracker) Advance(stream, key string, v time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if cur, ok := t.st.Bookmark(stream, key); ok && !v.After(cur) {
		return false
	}
	if t.st.Bookmarks == nil {
		t.st.Bookmarks = map[string]map[string]string{} // a zero Tracker
	}
	if t.st.Bookmarks[stream] == nil {
		t.st.Bookmarks[stream] = map[string]string{}
	}
	t.st.Bookmarks[stream][key] = Format(v)
	t.version++
	return true
}

// SetCurrentlySyncing records the stream in progress ("" clears it).
func (t *Tracker) SetCurrentlySyncing(stream string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if cur := t.st.CurrentlySyncing; cur == nil && stream == "" || cur != nil && *cur == stream {
		return
	}
	t.version++
	if stream == "" {
		t.st.CurrentlySyncing = nil
		return
	}
	t.st.CurrentlySyncing = &stream
}

// Snapshot returns a deep copy of the current state, for a STATE message.
func (t *Tracker) Snapshot() State {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.st.Clone()
}

// EncodeIfChanged returns the current state as JSON (see State.MarshalJSON)
// when it changed since its last call (the first call always returns it),
// so a caller writing STATE after every page writes only the lines that say
// something new. It encodes under the lock: no copy of the state.
func (t *Tracker) EncodeIfChanged() (json.RawMessage, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.took && t.taken == t.version {
		return nil, false
	}
	t.took, t.taken = true, t.version
	if t.st.Bookmarks == nil {
		t.st.Bookmarks = map[string]map[string]string{} // a zero Tracker: {} as Snapshot gives
	}
	return t.st.appendJSON(make([]byte, 0, 1024)), true
}

// Clone returns a deep copy.
func (s State) Clone() State {
	out := State{Bookmarks: make(map[string]map[string]string, len(s.Bookmarks))}
	for k, v := range s.Bookmarks {
		m := make(map[string]string, len(v))
		for kk, vv := range v {
			m[kk] = vv
		}
		out.Bookmarks[k] = m
	}
	if s.CurrentlySyncing != nil {
		cs := *s.CurrentlySyncing
		out.CurrentlySyncing = &cs
	}
	return out
}
