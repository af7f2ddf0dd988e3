package state

import (
	"fmt"
	"sort"
	"time"
)

// ClockSkew is how far ahead of a run's start a bookmark may be and still be
// taken for clock skew between the machine that wrote it and this one.
const ClockSkew = 24 * time.Hour

// FutureBookmark is a bookmark later than the run that reads it.
type FutureBookmark struct {
	Stream, Key string
	Value       time.Time
	Ahead       time.Duration // how far past the run's start
}

func (f FutureBookmark) String() string {
	return fmt.Sprintf("bookmarks.%s.%s: %s is %s after this run's start", f.Stream, f.Key, Format(f.Value), f.Ahead.Round(time.Second))
}

// CheckFuture finds the bookmarks later than start. Those more than
// ClockSkew ahead are returned as an *Error naming file, stream and value
// (a run from them would read nothing, silently, until the clock caught
// up); the rest are returned for a warning. Streams and keys are visited in
// name order, so the error names the same bookmark every time.
func (s *State) CheckFuture(file string, start time.Time) ([]FutureBookmark, error) {
	var ahead []FutureBookmark
	streams := make([]string, 0, len(s.Bookmarks))
	for name := range s.Bookmarks {
		streams = append(streams, name)
	}
	sort.Strings(streams)
	for _, stream := range streams {
		keys := make([]string, 0, len(s.Bookmarks[stream]))
		for k := range s.Bookmarks[stream] {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			v, ok := s.Bookmark(stream, k)
			if !ok || !v.After(start) {
				continue
			}
			f := FutureBookmark{Stream: stream, Key: k, Value: v, Ahead: v.Sub(start)}
			if f.Ahead > ClockSkew {
				return nil, &Error{File: file, Key: "bookmarks." + stream + "." + k,
					Problem: fmt.Sprintf("%s is in the future, more than a day past this run's start; a run from it would extract nothing: fix or remove the bookmark", Format(v))}
			}
			ahead = append(ahead, f)
		}
	}
	return ahead, nil
}
