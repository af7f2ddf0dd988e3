//go:build darwin || linux || openbsd || illumos

package singer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"
)

// TestVectorWriterMatchesBuffered writes the same messages to a pipe, where
// batches of records go out with writev(2), and to a bytes.Buffer, which
// takes the buffered path: the output must be byte for byte the same,
// including batches far larger than the pipe's capacity (short writes) and
// more records than one writev call takes.
func TestVectorWriterMatchesBuffered(t *testing.T) {
	extracted := time.Date(2026, 12, 4, 10, 0, 0, 123e6, time.UTC)
	record := func(i, size int) json.RawMessage {
		return json.RawMessage(fmt.Sprintf(`{"id":"r%d","pad":"%s"}`, i, strings.Repeat("x", size)))
	}
	batch := func(n, size int) []json.RawMessage {
		out := make([]json.RawMessage, n)
		for i := range out {
			out[i] = record(i, size)
		}
		return out
	}
	tests := []struct {
		name    string
		batches [][]json.RawMessage
		line    bool // WriteLineRecords
	}{
		{"one record", [][]json.RawMessage{batch(1, 10)}, false},
		{"a page", [][]json.RawMessage{batch(200, 2000)}, true},
		{"more records than one writev takes", [][]json.RawMessage{batch(1500, 3)}, true},
		{"far more than the pipe holds", [][]json.RawMessage{batch(40, 50_000), batch(3, 1)}, false},
		{"a record needing compaction", [][]json.RawMessage{{json.RawMessage("{\"id\":\n1}"), record(2, 5)}}, false},
		{"an empty record set", [][]json.RawMessage{{}, batch(2, 5)}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			write := func(w *Writer) error {
				if err := w.WriteSchema("s", json.RawMessage(`{"type":"object"}`), []string{"id"}, nil); err != nil {
					return err
				}
				for i, b := range tt.batches {
					var err error
					if tt.line {
						err = w.WriteLineRecords("s", b, extracted)
					} else {
						err = w.WriteRecords("s", b, extracted)
					}
					if err != nil {
						return err
					}
					if err := w.WriteState(map[string]int{"batch": i}); err != nil {
						return err
					}
				}
				return w.Flush()
			}
			var want bytes.Buffer
			if err := write(NewWriter(&want)); err != nil {
				t.Fatal(err)
			}

			r, pw, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			got := make(chan []byte)
			go func() {
				b, _ := io.ReadAll(r)
				got <- b
			}()
			w := NewWriter(pw)
			if w.vec == nil {
				t.Fatal("a Writer on a pipe has no vector writer")
			}
			werr := write(w)
			pw.Close()
			out := <-got
			if werr != nil {
				t.Fatal(werr)
			}
			if !bytes.Equal(out, want.Bytes()) {
				t.Errorf("pipe output differs from buffered output: %d bytes against %d", len(out), want.Len())
			}
		})
	}
}

// TestVectorWriterReaderGone: when the reader of the pipe goes away, the
// batch fails with a sticky error instead of blocking or killing the process.
func TestVectorWriterReaderGone(t *testing.T) {
	r, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pw.Close()
	r.Close()
	w := NewWriter(pw)
	err = w.WriteRecords("s", []json.RawMessage{json.RawMessage(`{"id":1}`)}, time.Time{})
	if err == nil {
		t.Fatal("writing to a pipe without a reader succeeded")
	}
	if !errors.Is(w.Err(), err) && w.Err().Error() != err.Error() {
		t.Errorf("Err() = %v, want the sticky %v", w.Err(), err)
	}
	if err2 := w.WriteState(1); err2 == nil || err2.Error() != err.Error() {
		t.Errorf("next write = %v, want the sticky %v", err2, err)
	}
}

func TestConsume(t *testing.T) {
	tests := []struct {
		bufs []string
		n    int
		want []string
	}{
		{[]string{"ab", "cd"}, 0, []string{"ab", "cd"}},
		{[]string{"ab", "cd"}, 1, []string{"b", "cd"}},
		{[]string{"ab", "cd"}, 2, []string{"cd"}},
		{[]string{"ab", "", "cd"}, 2, []string{"cd"}},
		{[]string{"ab", "cd"}, 3, []string{"d"}},
		{[]string{"ab", "cd"}, 4, []string{}},
	}
	for _, tt := range tests {
		var bufs [][]byte
		for _, s := range tt.bufs {
			bufs = append(bufs, []byte(s))
		}
		got := consume(bufs, tt.n)
		var gs []string
		for _, b := range got {
			gs = append(gs, string(b))
		}
		if strings.Join(gs, "|") != strings.Join(tt.want, "|") || len(gs) != len(tt.want) {
			t.Errorf("consume(%q, %d) = %q, want %q", tt.bufs, tt.n, gs, tt.want)
		}
	}
}
