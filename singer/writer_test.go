package singer

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"
)

var testTime = time.Date(2026, 11, 22, 10, 0, 0, 123000000, time.FixedZone("CET", 3600))

func TestWriteSchema(t *testing.T) {
	tests := []struct {
		name     string
		schema   string
		keys     []string
		bookmark []string
		want     string
		wantErr  bool
	}{
		{
			name:   "nil key properties are written as []",
			schema: `{"type":"object"}`,
			want:   `{"type":"SCHEMA","stream":"s","schema":{"type":"object"},"key_properties":[]}`,
		},
		{
			name:   "empty key properties are written as []",
			schema: `{"type":"object"}`,
			keys:   []string{},
			want:   `{"type":"SCHEMA","stream":"s","schema":{"type":"object"},"key_properties":[]}`,
		},
		{
			name:     "keys and bookmark properties",
			schema:   `{"properties":{"id":{"type":"string"}}}`,
			keys:     []string{"id"},
			bookmark: []string{"updated_at"},
			want:     `{"type":"SCHEMA","stream":"s","schema":{"properties":{"id":{"type":"string"}}},"key_properties":["id"],"bookmark_properties":["updated_at"]}`,
		},
		{
			name:   "pretty schema is compacted, <>& kept",
			schema: "{\n  \"description\": \"a <b> & c\"\n}",
			want:   `{"type":"SCHEMA","stream":"s","schema":{"description":"a <b> & c"},"key_properties":[]}`,
		},
		{name: "array schema", schema: `[]`, wantErr: true},
		{name: "empty schema", schema: ``, wantErr: true},
		{name: "broken schema", schema: `{"a":`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			w := NewWriter(&buf)
			err := w.WriteSchema("s", json.RawMessage(tt.schema), tt.keys, tt.bookmark)
			if (err != nil) != tt.wantErr {
				t.Fatalf("WriteSchema error = %v, want error %v", err, tt.wantErr)
			}
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			want := ""
			if !tt.wantErr {
				want = tt.want + "\n"
			}
			if got := buf.String(); got != want {
				t.Errorf("got  %s\nwant %s", got, want)
			}
		})
	}
}

func TestWriteRecords(t *testing.T) {
	tests := []struct {
		name      string
		stream    string
		records   []string
		extracted time.Time
		want      []string
		wantErr   bool
	}{
		{
			name:      "bytes passed through unchanged",
			stream:    "accounts",
			records:   []string{`{"id":"a","n":1.10,"big":12345678901234567890,"s":"\u00e9<&>"}`, `{"id":"b"}`},
			extracted: testTime,
			want: []string{
				`{"type":"RECORD","stream":"accounts","record":{"id":"a","n":1.10,"big":12345678901234567890,"s":"\u00e9<&>"},"time_extracted":"2026-11-22T09:00:00.123Z"}`,
				`{"type":"RECORD","stream":"accounts","record":{"id":"b"},"time_extracted":"2026-11-22T09:00:00.123Z"}`,
			},
		},
		{
			name:      "white space inside a line is kept",
			stream:    "s",
			records:   []string{` { "a" : 1 } `},
			extracted: testTime,
			want:      []string{`{"type":"RECORD","stream":"s","record": { "a" : 1 } ,"time_extracted":"2026-11-22T09:00:00.123Z"}`},
		},
		{
			name:      "records with line breaks are compacted",
			stream:    "s",
			records:   []string{"{\n  \"a\": \"x y\",\r\n  \"b\": [1, 2]\n}"},
			extracted: testTime,
			want:      []string{`{"type":"RECORD","stream":"s","record":{"a":"x y","b":[1,2]},"time_extracted":"2026-11-22T09:00:00.123Z"}`},
		},
		{
			name:    "zero time omits time_extracted",
			stream:  "s",
			records: []string{`{}`},
			want:    []string{`{"type":"RECORD","stream":"s","record":{}}`},
		},
		{
			name:      "stream name is JSON-escaped",
			stream:    "we\"ird\n<&>",
			records:   []string{`{}`},
			extracted: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
			want:      []string{`{"type":"RECORD","stream":"we\"ird\n<&>","record":{},"time_extracted":"2026-01-02T03:04:05Z"}`},
		},
		{name: "empty batch writes nothing", stream: "s"},
		{name: "empty record", stream: "s", records: []string{`{}`, ``}, wantErr: true},
		{name: "array record", stream: "s", records: []string{`[1]`}, wantErr: true},
		{name: "truncated record", stream: "s", records: []string{`{"a":1`}, wantErr: true},
		{name: "broken record with line break", stream: "s", records: []string{"{\"a\":\n}"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			w := NewWriter(&buf)
			recs := make([]json.RawMessage, len(tt.records))
			for i, r := range tt.records {
				recs[i] = json.RawMessage(r)
			}
			err := w.WriteRecords(tt.stream, recs, tt.extracted)
			if (err != nil) != tt.wantErr {
				t.Fatalf("WriteRecords error = %v, want error %v", err, tt.wantErr)
			}
			if err != nil {
				if !errors.Is(err, ErrInvalidRecord) {
					t.Errorf("error %v does not wrap ErrInvalidRecord", err)
				}
				if w.Err() != nil {
					t.Errorf("an invalid record made the error sticky: %v", w.Err())
				}
			}
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			want := ""
			for _, l := range tt.want {
				want += l + "\n"
			}
			if got := buf.String(); got != want {
				t.Errorf("got\n%s\nwant\n%s", got, want)
			}
			for _, line := range nonEmptyLines(buf.String()) {
				if !json.Valid([]byte(line)) {
					t.Errorf("invalid JSON line: %s", line)
				}
			}
		})
	}
}

func TestWriteRecordMatchesWriteRecords(t *testing.T) {
	var one, many bytes.Buffer
	w1, w2 := NewWriter(&one), NewWriter(&many)
	recs := []json.RawMessage{json.RawMessage(`{"a":1}`), json.RawMessage(`{"a":2}`)}
	for _, r := range recs {
		if err := w1.WriteRecord("s", r, testTime); err != nil {
			t.Fatal(err)
		}
	}
	if err := w2.WriteRecords("s", recs, testTime); err != nil {
		t.Fatal(err)
	}
	if err := errors.Join(w1.Flush(), w2.Flush()); err != nil {
		t.Fatal(err)
	}
	if one.String() != many.String() {
		t.Errorf("WriteRecord wrote\n%s\nWriteRecords wrote\n%s", one.String(), many.String())
	}
}

// TestWriteLineRecords: records known to be one line each are written as
// WriteRecords writes them, and the first and last byte are still checked.
func TestWriteLineRecords(t *testing.T) {
	var lines, checked bytes.Buffer
	w1, w2 := NewWriter(&lines), NewWriter(&checked)
	recs := []json.RawMessage{json.RawMessage(`{"a":1,"b":"x y"}`), json.RawMessage(` {"a":[2]} `)}
	if err := errors.Join(w1.WriteLineRecords("s", recs, testTime), w2.WriteRecords("s", recs, testTime), w1.Flush(), w2.Flush()); err != nil {
		t.Fatal(err)
	}
	if lines.String() != checked.String() {
		t.Errorf("WriteLineRecords wrote\n%s\nWriteRecords wrote\n%s", lines.String(), checked.String())
	}
	if err := NewWriter(io.Discard).WriteLineRecords("s", []json.RawMessage{json.RawMessage(`[1]`)}, testTime); !errors.Is(err, ErrInvalidRecord) {
		t.Errorf("an array: err %v, want ErrInvalidRecord", err)
	}
}

func TestWriteState(t *testing.T) {
	tests := []struct {
		name  string
		value any
		want  string
	}{
		{
			name:  "bookmarks",
			value: map[string]any{"bookmarks": map[string]any{"accounts": map[string]string{"updated_at": "2026-01-01T00:00:00Z"}}},
			want:  `{"type":"STATE","value":{"bookmarks":{"accounts":{"updated_at":"2026-01-01T00:00:00Z"}}}}`,
		},
		{name: "raw value", value: json.RawMessage(`{"a": <invalid`), want: ""},
		{name: "empty", value: struct{}{}, want: `{"type":"STATE","value":{}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			w := NewWriter(&buf)
			// Not flushed: WriteState must flush on its own.
			if err := w.WriteSchema("s", json.RawMessage(`{}`), nil, nil); err != nil {
				t.Fatal(err)
			}
			if buf.Len() != 0 {
				t.Fatalf("SCHEMA reached the output before a flush: %q", buf.String())
			}
			err := w.WriteState(tt.value)
			if tt.want == "" {
				if err == nil {
					t.Fatal("WriteState accepted a value that cannot be encoded")
				}
				if w.Err() != nil {
					t.Errorf("an encoding error became sticky: %v", w.Err())
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := `{"type":"SCHEMA","stream":"s","schema":{},"key_properties":[]}` + "\n" + tt.want + "\n"
			if got := buf.String(); got != want {
				t.Errorf("after WriteState output is\n%s\nwant\n%s", got, want)
			}
		})
	}
}

// TestWriteStateFlushesUnderlying checks that a flushable destination (a
// bufio.Writer around stdout, say) is flushed too.
func TestWriteStateFlushesUnderlying(t *testing.T) {
	var buf bytes.Buffer
	inner := bufio.NewWriterSize(&buf, 1<<16)
	w := NewWriter(inner)
	if err := w.WriteRecord("s", json.RawMessage(`{}`), time.Time{}); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteState(map[string]int{"n": 1}); err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(buf.String(), "\n"); got != 2 {
		t.Errorf("underlying writer holds %d lines after WriteState, want 2: %q", got, buf.String())
	}
}

// TestWriteRecordsFlushes: a batch of records reaches the output (and a
// flushable destination is flushed) when WriteRecords returns, with no
// STATE after it, so a reader that went away is noticed at the next batch.
func TestWriteRecordsFlushes(t *testing.T) {
	var buf bytes.Buffer
	inner := bufio.NewWriterSize(&buf, 1<<16)
	w := NewWriter(inner)
	if err := w.WriteSchema("s", json.RawMessage(`{}`), nil, nil); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteRecords("s", []json.RawMessage{json.RawMessage(`{"id":1}`), json.RawMessage(`{"id":2}`)}, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(buf.String(), "\n"); got != 3 {
		t.Errorf("underlying writer holds %d lines after WriteRecords, want 3: %q", got, buf.String())
	}
	fw := &failingWriter{limit: 10}
	w = NewWriter(fw)
	if err := w.WriteRecord("s", json.RawMessage(`{"a":"0123456789"}`), testTime); !errors.Is(err, errDiskFull) {
		t.Errorf("WriteRecord to a full disk: %v, want an error wrapping %v", err, errDiskFull)
	}
}

func TestLongLines(t *testing.T) {
	for _, size := range []int{DefaultBufferSize - 100, DefaultBufferSize, 3*DefaultBufferSize + 7} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			var buf bytes.Buffer
			w := NewWriter(&buf)
			rec := json.RawMessage(`{"blob":"` + strings.Repeat("x", size) + `"}`)
			if err := w.WriteRecords("s", []json.RawMessage{json.RawMessage(`{"small":1}`), rec, json.RawMessage(`{"small":2}`)}, testTime); err != nil {
				t.Fatal(err)
			}
			if err := w.WriteState(map[string]int{"n": 1}); err != nil {
				t.Fatal(err)
			}
			lines := nonEmptyLines(buf.String())
			if len(lines) != 4 {
				t.Fatalf("got %d lines, want 4", len(lines))
			}
			var msg struct {
				Record json.RawMessage `json:"record"`
			}
			if err := json.Unmarshal([]byte(lines[1]), &msg); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(msg.Record, rec) {
				t.Errorf("long record changed: %d bytes, want %d", len(msg.Record), len(rec))
			}
		})
	}
}

// TestConcurrentWriters has many goroutines write batches, single records
// and states at once, and checks that the output is whole lines of valid
// JSON, that each batch stays contiguous, and that nothing is lost.
func TestConcurrentWriters(t *testing.T) {
	const goroutines, batches, batchSize = 16, 40, 5
	var buf bytes.Buffer
	w := NewWriter(&buf)
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stream := fmt.Sprintf("stream%d", g)
			for b := range batches {
				recs := make([]json.RawMessage, batchSize)
				for i := range recs {
					// Vary sizes so some lines straddle buffer boundaries.
					pad := strings.Repeat("p", (g*7919+b*104729+i*31)%5000)
					recs[i] = json.RawMessage(fmt.Sprintf(`{"g":%d,"b":%d,"i":%d,"pad":%q}`, g, b, i, pad))
				}
				if err := w.WriteRecords(stream, recs, testTime); err != nil {
					t.Error(err)
					return
				}
				if err := w.WriteRecord(stream, json.RawMessage(fmt.Sprintf(`{"g":%d,"b":%d,"i":-1}`, g, b)), testTime); err != nil {
					t.Error(err)
					return
				}
				if b%10 == 0 {
					if err := w.WriteState(map[string]int{"g": g, "b": b}); err != nil {
						t.Error(err)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if !strings.HasSuffix(out, "\n") {
		t.Fatal("output does not end with a newline")
	}
	type rec struct{ G, B, I int }
	type message struct {
		Type   string `json:"type"`
		Stream string `json:"stream"`
		Record rec    `json:"record"`
	}
	var msgs []message
	for i, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		var m message
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("line %d is not valid JSON (%v): %.100s", i, err, line)
		}
		msgs = append(msgs, m)
	}
	counts := map[string]int{}
	for i, m := range msgs {
		counts[m.Type]++
		// The first record of each batch must be followed by the rest of
		// its batch.
		if m.Type == MessageRecord && m.Record.I == 0 {
			for k := 1; k < batchSize; k++ {
				n := msgs[i+k]
				if n.Stream != m.Stream || n.Record != (rec{m.Record.G, m.Record.B, k}) {
					t.Fatalf("batch %s/%d interleaved at line %d: %+v", m.Stream, m.Record.B, i+k, n)
				}
			}
		}
	}
	if want := goroutines * batches * (batchSize + 1); counts[MessageRecord] != want {
		t.Errorf("got %d RECORD lines, want %d", counts[MessageRecord], want)
	}
	if want := goroutines * batches / 10; counts[MessageState] != want {
		t.Errorf("got %d STATE lines, want %d", counts[MessageState], want)
	}
}

// failingWriter accepts limit bytes, then fails every write.
type failingWriter struct {
	limit  int
	n      int
	writes int
}

var errDiskFull = errors.New("disk full")

func (f *failingWriter) Write(p []byte) (int, error) {
	f.writes++
	if f.n+len(p) > f.limit {
		k := f.limit - f.n
		f.n = f.limit
		return k, errDiskFull
	}
	f.n += len(p)
	return len(p), nil
}

func TestStickyError(t *testing.T) {
	tests := []struct {
		name  string
		write func(w *Writer) error
	}{
		{"WriteState", func(w *Writer) error { return w.WriteState(map[string]int{"a": 1}) }},
		{"Flush", func(w *Writer) error { return w.Flush() }},
		{"WriteRecords", func(w *Writer) error {
			return w.WriteRecords("s", []json.RawMessage{json.RawMessage(`{"x":"` + strings.Repeat("y", 2*DefaultBufferSize) + `"}`)}, testTime)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fw := &failingWriter{limit: 10}
			w := NewWriter(fw)
			if err := w.WriteSchema("s", json.RawMessage(`{"a":"0123456789"}`), nil, nil); err != nil {
				t.Fatalf("buffered write failed early: %v", err)
			}
			first := tt.write(w)
			if !errors.Is(first, errDiskFull) {
				t.Fatalf("got %v, want an error wrapping %v", first, errDiskFull)
			}
			writes := fw.writes
			later := []error{
				w.Err(),
				w.WriteSchema("s", json.RawMessage(`{}`), nil, nil),
				w.WriteRecord("s", json.RawMessage(`{}`), testTime),
				w.WriteState(map[string]int{}),
				w.Flush(),
			}
			for i, err := range later {
				if err != first {
					t.Errorf("call %d after the failure returned %v, want the first error %v", i, err, first)
				}
			}
			if fw.writes != writes {
				t.Errorf("the Writer kept writing after its first error (%d more writes)", fw.writes-writes)
			}
		})
	}
}

func nonEmptyLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l != "" {
			out = append(out, l)
		}
	}
	return out
}

func BenchmarkWriteRecords(b *testing.B) {
	rec := json.RawMessage(`{"id":"abcdef123456","code":"customer-1","email":"someone@example.com","balance":12.50,"updated_at":"2026-01-01T00:00:00Z","address":{"city":"Oslo","zip":"0150"}}`)
	batch := make([]json.RawMessage, 200)
	for i := range batch {
		batch[i] = rec
	}
	w := NewWriter(io.Discard)
	b.SetBytes(int64(len(batch) * len(rec)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if err := w.WriteRecords("accounts", batch, testTime); err != nil {
			b.Fatal(err)
		}
	}
}
