package pgtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) { Main(m) }

func TestPGType(t *testing.T) {
	for _, tc := range []struct{ schema, want string }{
		{`{"type":"string"}`, "text"},
		{`{"type":["null","string"]}`, "text"},
		{`{"type":["null","string"],"format":"date-time"}`, "timestamp with time zone"},
		{`{"anyOf":[{"type":"null"},{"type":"string","format":"date-time"}]}`, "timestamp with time zone"},
		{`{"type":["null","integer"]}`, "bigint"},
		{`{"type":["null","number"]}`, "numeric"},
		{`{"type":["integer","number"]}`, "numeric"},
		{`{"type":["null","boolean"]}`, "boolean"},
		{`{"type":["null","object"]}`, "jsonb"},
		{`{"type":"array"}`, "jsonb"},
		{`{"type":["string","integer"]}`, "jsonb"},
		{`{}`, "jsonb"},
	} {
		var p property
		if err := json.Unmarshal([]byte(tc.schema), &p); err != nil {
			t.Fatal(err)
		}
		if got := p.pgType(); got != tc.want {
			t.Errorf("%s: got %s, want %s", tc.schema, got, tc.want)
		}
	}
}

// TestLoaderUpsertsOnKeys: a key seen twice keeps one row with the last
// values, in one batch and across batches; a stream without keys appends; a
// later SCHEMA adds its new columns; values land in typed columns.
func TestLoaderUpsertsOnKeys(t *testing.T) {
	conn, schema := Connect(t)
	ctx := context.Background()
	lines := []string{
		`{"type":"SCHEMA","stream":"h","key_properties":["id","updated_at"],"schema":{"properties":{"id":{"type":"string"},"updated_at":{"type":"string","format":"date-time"},"n":{"type":["null","number"]},"ok":{"type":["null","boolean"]},"o":{"type":["null","object"]}}}}`,
		`{"type":"RECORD","stream":"h","record":{"id":"a","updated_at":"2024-01-01T00:00:00Z","n":1.25,"ok":true,"o":{"x":1}}}`,
		`{"type":"RECORD","stream":"h","record":{"id":"a","updated_at":"2024-01-02T00:00:00Z","n":2,"ok":false,"o":null}}`,
		`{"type":"RECORD","stream":"h","record":{"id":"a","updated_at":"2024-01-02T00:00:00Z","n":3,"ok":false,"o":null}}`,
		`{"type":"STATE","value":{"bookmarks":{"h":"1"}}}`,
		`{"type":"SCHEMA","stream":"log","key_properties":[],"schema":{"properties":{"msg":{"type":"string"}}}}`,
		`{"type":"RECORD","stream":"log","record":{"msg":"x"}}`,
		`{"type":"RECORD","stream":"log","record":{"msg":"x"}}`,
		`{"type":"SCHEMA","stream":"h","key_properties":["id","updated_at"],"schema":{"properties":{"id":{"type":"string"},"updated_at":{"type":"string","format":"date-time"},"n":{"type":["null","number"]},"ok":{"type":["null","boolean"]},"o":{"type":["null","object"]},"extra":{"type":["null","integer"]}}}}`,
		`{"type":"RECORD","stream":"h","record":{"id":"a","updated_at":"2024-01-01T00:00:00Z","n":4.5,"ok":null,"o":{"y":[1]},"extra":7}}`,
		`{"type":"STATE","value":{"bookmarks":{"h":"2"}}}`,
	}
	l := &Loader{Conn: conn, Schema: schema}
	if err := l.Load(ctx, strings.NewReader(strings.Join(lines, "\n")+"\n")); err != nil {
		t.Fatal(err)
	}
	if got := string(l.State); got != `{"bookmarks":{"h":"2"}}` {
		t.Errorf("state %s", got)
	}
	if l.Records["h"] != 4 || l.Records["log"] != 2 {
		t.Errorf("records %v", l.Records)
	}
	rows := query(t, conn, `SELECT id || ' ' || to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') || ' ' || n::text || ' ' || coalesce(ok::text, '-') || ' ' || coalesce(o::text, '-') || ' ' || coalesce(extra::text, '-') FROM `+Ident(schema)+`.h ORDER BY updated_at`)
	want := []string{`a 2024-01-01 4.5 - {"y": [1]} 7`, `a 2024-01-02 3 false - -`}
	if strings.Join(rows, "\n") != strings.Join(want, "\n") {
		t.Errorf("rows of h:\n%s\nwant:\n%s", strings.Join(rows, "\n"), strings.Join(want, "\n"))
	}
	if n := query(t, conn, `SELECT count(*)::text FROM `+Ident(schema)+`.log`); n[0] != "2" {
		t.Errorf("log has %s rows, want 2 (appended)", n[0])
	}
}

func TestLoaderRefuses(t *testing.T) {
	conn, schema := Connect(t)
	for _, tc := range []struct{ name, in, want string }{
		{"record before schema", `{"type":"RECORD","stream":"x","record":{}}`, "line 1 (RECORD x): RECORD before its stream's SCHEMA"},
		{"key not in schema", `{"type":"SCHEMA","stream":"x","key_properties":["id"],"schema":{"properties":{}}}`, `key property "id" is not in the schema`},
		{"not json", `{"type":`, "line 1: unexpected end of JSON input"},
		{"null key", `{"type":"SCHEMA","stream":"k","key_properties":["id"],"schema":{"properties":{"id":{"type":"string"}}}}` + "\n" +
			`{"type":"RECORD","stream":"k","record":{"id":null}}`, "writing k"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := &Loader{Conn: conn, Schema: schema}
			err := l.Load(context.Background(), strings.NewReader(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

// TestStartAndStop starts a server of its own (not the shared one) when the
// machine has PostgreSQL's binaries, and checks Stop removes its directory.
func TestStartAndStop(t *testing.T) {
	if _, err := BinDir(); err != nil && os.Getenv("CI") == "" {
		t.Skip(err)
	}
	s, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(context.Background(), s.DSN)
	if err != nil {
		s.Stop()
		t.Fatal(err)
	}
	var one int
	err = conn.QueryRow(context.Background(), "SELECT 1").Scan(&one)
	conn.Close(context.Background())
	if err != nil || one != 1 {
		t.Errorf("SELECT 1: %d, %v", one, err)
	}
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(s.dir); !os.IsNotExist(err) {
		t.Errorf("%s still exists after Stop (%v)", s.dir, err)
	}
}

// query runs q and returns its single text column.
func query(t testing.TB, conn *pgx.Conn, q string, args ...any) []string {
	t.Helper()
	rows, err := conn.Query(context.Background(), q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return out
}

// fakeTB records how a helper ended a test; Fatal and Skip stop it as the
// real ones do (by unwinding), so the caller's next line never runs.
type fakeTB struct {
	testing.TB
	ended string
}

type stopped struct{}

func (f *fakeTB) Helper()           {}
func (f *fakeTB) Fatal(args ...any) { f.ended = "fatal: " + fmt.Sprint(args...); panic(stopped{}) }
func (f *fakeTB) Skip(args ...any)  { f.ended = "skip: " + fmt.Sprint(args...); panic(stopped{}) }

// TestDSNFailsUnderCI: with no database the test fails when $CI is set and
// is skipped otherwise; a DSN in the environment is used as given, and a
// started server when there is none.
func TestDSNFailsUnderCI(t *testing.T) {
	noServer := func() (string, error) { return "", errors.New("no initdb") }
	server := func() (string, error) { return "host=/tmp/x", nil }
	for _, tc := range []struct {
		name  string
		env   map[string]string
		start func() (string, error)
		want  string
	}{
		{"CI without a database fails", map[string]string{"CI": "true"}, noServer, "fatal: no PostgreSQL: $TAP_RECURLY_TEST_PG is unset and starting one failed: no initdb (CI must run this test"},
		{"locally without a database skips", nil, noServer, "skip: no PostgreSQL"},
		{"environment wins", map[string]string{"CI": "true", EnvDSN: "host=db"}, noServer, "dsn: host=db"},
		{"started server", map[string]string{"CI": "true"}, server, "dsn: host=/tmp/x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeTB{TB: t}
			func() {
				defer func() {
					if r := recover(); r != nil && r != (stopped{}) {
						panic(r)
					}
				}()
				f.ended = "dsn: " + resolveDSN(f, func(k string) string { return tc.env[k] }, tc.start)
			}()
			if !strings.HasPrefix(f.ended, tc.want) {
				t.Errorf("got %q, want it to start with %q", f.ended, tc.want)
			}
		})
	}
}
