package singer

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

// blockingWriter blocks every Write until release is closed.
type blockingWriter struct{ release chan struct{} }

func (b blockingWriter) Write(p []byte) (int, error) { <-b.release; return len(p), nil }

func TestWriteStateWithin(t *testing.T) {
	t.Run("free output", func(t *testing.T) {
		var buf bytes.Buffer
		w := NewWriter(&buf)
		if err := w.WriteStateWithin(map[string]int{"a": 1}, time.Second); err != nil {
			t.Fatal(err)
		}
		if got, want := buf.String(), `{"type":"STATE","value":{"a":1}}`+"\n"; got != want {
			t.Errorf("wrote %q, want %q", got, want)
		}
	})
	t.Run("stalled output", func(t *testing.T) {
		bw := blockingWriter{release: make(chan struct{})}
		defer close(bw.release)
		w := NewWriter(bw)
		blocked := make(chan struct{})
		go func() {
			close(blocked)
			_ = w.WriteState("first") // blocks in the flush, holding the lock
		}()
		<-blocked
		if err := w.WriteStateWithin("second", 100*time.Millisecond); !errors.Is(err, ErrStalled) {
			t.Fatalf("err = %v, want ErrStalled", err)
		}
	})
}
