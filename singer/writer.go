package singer

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"
)

// Message types written on the Singer output.
const (
	MessageSchema = "SCHEMA"
	MessageRecord = "RECORD"
	MessageState  = "STATE"
)

// DefaultBufferSize is the size of the Writer's output buffer. Lines longer
// than the buffer are written through unbroken; the buffer only batches
// small lines into fewer system calls.
const DefaultBufferSize = 1 << 20

// ErrInvalidRecord is wrapped by the errors WriteRecords and WriteRecord
// return for a record that is not a JSON object. Such an error is not
// sticky: nothing of the rejected batch was written.
var ErrInvalidRecord = errors.New("invalid record")

// Writer writes Singer messages, one JSON object per line, to an io.Writer
// (normally stdout, which it should then own alone).
//
// A Writer is safe for concurrent use by many goroutines: every call writes
// whole lines under one lock, so lines from different streams never
// interleave. Output is buffered within a call; WriteRecords, WriteState
// and Flush push the buffer out, so a reader that went away is noticed at
// the next batch of records (a page), not only at the next STATE.
// The first write error is sticky: every later call returns it without
// writing anything. There is no limit on the length of a line.
//
// The zero value is not usable; create Writers with NewWriter.
type Writer struct {
	mu  sync.Mutex
	bw  *bufio.Writer
	dst io.Writer
	err error

	vec  *vectorWriter // dst as a file, for batches of records (nil: not a file)
	vecs [][]byte      // a batch's slices for vec, reused
}

// NewWriter returns a Writer that writes to w through a buffer of
// DefaultBufferSize bytes; when w is a file (stdout) on Linux, macOS,
// OpenBSD or illumos, batches of records are written with writev(2) from
// the caller's slices instead, without a copy. If w has a Flush() error
// method (for example a bufio.Writer), Flush and WriteState call it after
// flushing their own buffer.
func NewWriter(w io.Writer) *Writer {
	return &Writer{bw: bufio.NewWriterSize(w, DefaultBufferSize), dst: w, vec: newVectorWriter(w)}
}

type schemaMessage struct {
	Type               string          `json:"type"`
	Stream             string          `json:"stream"`
	Schema             json.RawMessage `json:"schema"`
	KeyProperties      []string        `json:"key_properties"`
	BookmarkProperties []string        `json:"bookmark_properties,omitempty"`
}

type stateMessage struct {
	Type  string `json:"type"`
	Value any    `json:"value"`
}

// WriteSchema writes a SCHEMA message for stream. key_properties is always
// present ([] when keyProperties is empty); bookmark_properties is written
// only when bookmarkProperties is non-empty. The schema must be a JSON
// object; it is written compacted onto one line.
func (w *Writer) WriteSchema(stream string, schema json.RawMessage, keyProperties, bookmarkProperties []string) error {
	if jsonKind(schema) != '{' {
		return fmt.Errorf("singer: SCHEMA for stream %q: schema is not a JSON object", stream)
	}
	if keyProperties == nil {
		keyProperties = []string{}
	}
	line, err := marshalLine(schemaMessage{
		Type:               MessageSchema,
		Stream:             stream,
		Schema:             schema,
		KeyProperties:      keyProperties,
		BookmarkProperties: bookmarkProperties,
	})
	if err != nil {
		return fmt.Errorf("singer: SCHEMA for stream %q: %w", stream, err)
	}
	return w.writeLocked(func() error {
		_, err := w.bw.Write(line)
		return err
	}, false)
}

// WriteRecords writes one RECORD message per record, all under one lock so
// the batch stays contiguous:
//
//	{"type":"RECORD","stream":S,"record":<record>,"time_extracted":"2026-11-22T10:00:00.123Z"}
//
// Each record's bytes are copied as given, without re-encoding; a record
// containing a raw line break (pretty-printed JSON) is compacted first.
// time_extracted is extracted in UTC as RFC 3339 with fractional seconds,
// formatted once per batch, and omitted when extracted is the zero time.
//
// Every record must be a JSON object (leading and trailing white space
// allowed). Records are only checked cheaply (first and last byte) unless
// they need compacting, so the caller is responsible for handing over
// valid JSON. If a record fails the check, an error wrapping
// ErrInvalidRecord is returned and nothing of the batch is written.
//
// The batch is then flushed as WriteState flushes: a gone reader stops
// the run within a batch, even when no STATE follows for a while (records
// out of order hold it back).
func (w *Writer) WriteRecords(stream string, records []json.RawMessage, extracted time.Time) error {
	return w.writeRecords(stream, records, extracted, true)
}

// WriteLineRecords is WriteRecords for records the caller knows to hold no
// CR or LF byte, such as compact JSON that a strict reader refusing white
// space between tokens has passed: it skips WriteRecords' scan of every
// record for line breaks. Such a byte in a record would break the one
// message per line that Singer's readers rely on.
func (w *Writer) WriteLineRecords(stream string, records []json.RawMessage, extracted time.Time) error {
	return w.writeRecords(stream, records, extracted, false)
}

// writeRecords is WriteRecords, which scans each record for line breaks
// when scan is set.
func (w *Writer) writeRecords(stream string, records []json.RawMessage, extracted time.Time, scan bool) error {
	if len(records) == 0 {
		return w.Err()
	}
	// Compact records with line breaks before taking the lock; most
	// records need nothing and are used in place.
	var fixed map[int][]byte
	for i, r := range records {
		if jsonKind(r) != '{' || r[lastNonSpace(r)] != '}' {
			return fmt.Errorf("singer: RECORD %d for stream %q: %w: not a JSON object", i, stream, ErrInvalidRecord)
		}
		if scan && (bytes.IndexByte(r, '\n') >= 0 || bytes.IndexByte(r, '\r') >= 0) {
			var buf bytes.Buffer
			if err := json.Compact(&buf, r); err != nil {
				return fmt.Errorf("singer: RECORD %d for stream %q: %w: %v", i, stream, ErrInvalidRecord, err)
			}
			if fixed == nil {
				fixed = make(map[int][]byte)
			}
			fixed[i] = buf.Bytes()
		}
	}

	name, err := marshalCompact(stream)
	if err != nil {
		return fmt.Errorf("singer: RECORD for stream %q: %w", stream, err)
	}
	prefix := make([]byte, 0, len(`{"type":"RECORD","stream":,"record":`)+len(name))
	prefix = append(prefix, `{"type":"RECORD","stream":`...)
	prefix = append(prefix, name...)
	prefix = append(prefix, `,"record":`...)
	var suffix []byte
	if extracted.IsZero() {
		suffix = []byte("}\n")
	} else {
		suffix = make([]byte, 0, 64)
		suffix = append(suffix, `,"time_extracted":"`...)
		suffix = extracted.UTC().AppendFormat(suffix, time.RFC3339Nano)
		suffix = append(suffix, "\"}\n"...)
	}

	return w.writeLocked(func() error {
		if w.vec != nil {
			return w.writeVectors(records, fixed, prefix, suffix)
		}
		for i, r := range records {
			if f, ok := fixed[i]; ok {
				r = f
			}
			if _, err := w.bw.Write(prefix); err != nil {
				return err
			}
			if _, err := w.bw.Write(r); err != nil {
				return err
			}
			if _, err := w.bw.Write(suffix); err != nil {
				return err
			}
		}
		return nil
	}, true)
}

// writeVectors writes a batch of RECORD lines straight from the records'
// slices with w.vec, after the lines buffered before them. Between two
// records, one slice holds the first one's suffix and the next one's prefix.
// Called with w.mu held.
func (w *Writer) writeVectors(records []json.RawMessage, fixed map[int][]byte, prefix, suffix []byte) error {
	if err := w.bw.Flush(); err != nil {
		return err
	}
	between := append(suffix[:len(suffix):len(suffix)], prefix...)
	w.vecs = append(w.vecs[:0], prefix)
	for i, r := range records {
		if f, ok := fixed[i]; ok {
			r = f
		}
		if i > 0 {
			w.vecs = append(w.vecs, between)
		}
		w.vecs = append(w.vecs, r)
	}
	w.vecs = append(w.vecs, suffix)
	err := w.vec.writeVectors(w.vecs)
	clear(w.vecs[:cap(w.vecs)]) // keep no page alive
	return err
}

// WriteRecord writes a single RECORD message; see WriteRecords.
func (w *Writer) WriteRecord(stream string, record json.RawMessage, extracted time.Time) error {
	return w.WriteRecords(stream, []json.RawMessage{record}, extracted)
}

// WriteState writes {"type":"STATE","value":value} and then flushes the
// buffer (and the underlying writer, if it can be flushed). When WriteState
// returns nil, the STATE line and every line written before it have been
// handed to the underlying writer, so a STATE on the output never claims
// records that are not already out.
func (w *Writer) WriteState(value any) error {
	line, err := marshalLine(stateMessage{Type: MessageState, Value: value})
	if err != nil {
		return fmt.Errorf("singer: STATE: %w", err)
	}
	return w.writeLocked(func() error {
		_, err := w.bw.Write(line)
		return err
	}, true)
}

// ErrStalled is returned by WriteStateWithin when the output did not take
// the STATE line in time (a reader that stopped reading).
var ErrStalled = errors.New("output stalled: the reader is not taking lines")

// WriteStateWithin is WriteState with a deadline, for a run that must stop
// now: it gives up with ErrStalled after d if another write holds the
// output (blocked on a reader that stopped reading) or if its own flush
// does not complete. A write it gave up on may still complete later; the
// caller is expected to exit.
func (w *Writer) WriteStateWithin(value any, d time.Duration) error {
	deadline := time.Now().Add(d)
	for !w.mu.TryLock() {
		if time.Now().After(deadline) {
			return ErrStalled
		}
		time.Sleep(5 * time.Millisecond)
	}
	w.mu.Unlock()
	done := make(chan error, 1)
	go func() { done <- w.WriteState(value) }()
	select {
	case err := <-done:
		return err
	case <-time.After(time.Until(deadline)):
		return ErrStalled
	}
}

// Flush writes any buffered lines to the underlying writer, then flushes
// the underlying writer if it has a Flush() error method. It returns the
// sticky error, if any.
func (w *Writer) Flush() error {
	return w.writeLocked(func() error { return nil }, true)
}

// Err returns the first write error the Writer met, or nil.
func (w *Writer) Err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// writeLocked runs write under the lock unless an earlier write failed,
// flushes when asked, and records the first error.
func (w *Writer) writeLocked(write func() error, flush bool) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return w.err
	}
	err := write()
	if err == nil && flush {
		err = w.bw.Flush()
		if f, ok := w.dst.(interface{ Flush() error }); ok && err == nil {
			err = f.Flush()
		}
	}
	if err != nil {
		w.err = fmt.Errorf("singer: writing output: %w", err)
	}
	return w.err
}

// marshalCompact encodes v as JSON without escaping <, > and &, and without
// a trailing newline.
func marshalCompact(v any) ([]byte, error) {
	line, err := marshalLine(v)
	if err != nil {
		return nil, err
	}
	return line[:len(line)-1], nil
}

// marshalLine encodes v as one line of JSON (newline included) without
// escaping <, > and &. Embedded json.RawMessage values are compacted.
func marshalLine(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// jsonKind returns the first non-white-space byte of data, which tells the
// kind of JSON value it starts ('{', '[', '"', 't', 'f', 'n' or a number),
// or 0 if there is none.
func jsonKind(data []byte) byte {
	for _, c := range data {
		switch c {
		case ' ', '\t', '\n', '\r':
			continue
		}
		return c
	}
	return 0
}

// lastNonSpace returns the index of the last byte of data that is not JSON
// white space, or -1. Callers only use it after jsonKind found a value.
func lastNonSpace(data []byte) int {
	for i := len(data) - 1; i >= 0; i-- {
		switch data[i] {
		case ' ', '\t', '\n', '\r':
			continue
		}
		return i
	}
	return -1
}
