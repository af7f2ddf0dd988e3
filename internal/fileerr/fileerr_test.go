package fileerr

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

func TestDescribe(t *testing.T) {
	dir := t.TempDir()
	_, missing := os.ReadFile(filepath.Join(dir, "nope.json"))
	_, isDir := os.ReadFile(dir)
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"missing", missing, "no such file"},
		{"permission", &fs.PathError{Op: "open", Path: "/x", Err: fs.ErrPermission}, "permission denied"},
		{"other path error", isDir, "is a directory"},
		{"not a path error", errors.New("boom"), "boom"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Describe(tt.err); got != tt.want {
				t.Errorf("Describe(%v) = %q, want %q", tt.err, got, tt.want)
			}
		})
	}
}
