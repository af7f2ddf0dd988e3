// Package singer implements the parts of the Singer specification a tap
// needs: the message writer that owns stdout (SCHEMA, RECORD and STATE
// lines), the catalog with its metadata as written by --discover and read
// from --catalog or --properties, stream and field selection with schema
// pruning and record projection, and singer-python style metric log lines.
//
// The package knows nothing about any particular source API. Records travel
// through it as raw JSON bytes and are never re-encoded, so numbers and
// strings reach the target exactly as the source sent them.
package singer
