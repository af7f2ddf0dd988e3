package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/tap-recurly/tap-recurly/internal/testutil"
	"github.com/tap-recurly/tap-recurly/schemas/internal/schemagen"
)

func TestRunWritesOneFilePerStream(t *testing.T) {
	dir := t.TempDir()
	if err := run(dir); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != len(schemagen.Streams()) {
		t.Fatalf("wrote %d files, want %d", len(entries), len(schemagen.Streams()))
	}
	for _, s := range schemagen.Streams() {
		got, err := os.ReadFile(filepath.Join(dir, s.Name+".json"))
		if err != nil {
			t.Fatal(err)
		}
		want, err := schemagen.Generate(testutil.Spec(t), s)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("%s.json differs from Generate's output", s.Name)
		}
	}
}

func TestRunFailsOnMissingDirectory(t *testing.T) {
	if err := run(filepath.Join(t.TempDir(), "absent")); err == nil {
		t.Fatal("want an error writing into a missing directory")
	}
}
