package client

import (
	"errors"
	"strings"
	"testing"
)

// TestReadAllSized checks that the size hint only sizes the buffer: the body read is the same whatever the
// hint says, and the limit holds.
func TestReadAllSized(t *testing.T) {
	body := strings.Repeat("x", 3000)
	tests := []struct {
		name        string
		size, limit int64
		wantErr     error
	}{
		{"exact hint", 3000, 10000, nil},
		{"unknown size", -1, 10000, nil},
		{"hint too small", 10, 10000, nil},
		{"hint too large", 9000, 10000, nil},
		{"hint past the limit", 1 << 40, 10000, nil},
		{"body at the limit", 3000, 3000, nil},
		{"body over the limit", 3000, 2999, errBodyTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readAllSized(strings.NewReader(body), tt.size, tt.limit, nil)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil || string(got) != body {
				t.Fatalf("readAllSized = %d bytes, %v; want the %d-byte body", len(got), err, len(body))
			}
		})
	}
}
