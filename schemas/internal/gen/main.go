// Command gen writes one JSON Schema file per Singer stream, <stream>.json,
// generated from the embedded Recurly v2018-08-09 OpenAPI spec. It is run by
// `go generate` in package schemas:
//
//	go run ./internal/gen [-out DIR]
//
// Errors go to stderr with exit status 1; nothing is printed on success.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/tap-recurly/tap-recurly/internal/openapi"
	"github.com/tap-recurly/tap-recurly/schemas/internal/schemagen"
)

func main() {
	out := flag.String("out", ".", "directory to write <stream>.json files into")
	flag.Parse()
	if err := run(*out); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(dir string) error {
	spec, err := openapi.Load()
	if err != nil {
		return err
	}
	for _, s := range schemagen.Streams() {
		data, err := schemagen.Generate(spec, s)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, s.Name+".json"), data, 0o644); err != nil {
			return err
		}
	}
	return nil
}
