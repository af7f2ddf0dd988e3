package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
)

// shared is the server DSN starts for a test binary when $TAP_RECURLY_TEST_PG
// is unset: one per binary, stopped by Main.
var shared struct {
	once sync.Once
	srv  *Server
	err  error
}

// DSN is the database a test uses: $TAP_RECURLY_TEST_PG when set, else a
// server started from the machine's PostgreSQL binaries (once per test
// binary). Without either, the test fails when $CI is set (CI must run it)
// and is skipped otherwise, saying how to run it.
func DSN(t testing.TB) string {
	t.Helper()
	return resolveDSN(t, os.Getenv, func() (string, error) {
		shared.once.Do(func() { shared.srv, shared.err = Start() })
		if shared.err != nil {
			return "", shared.err
		}
		return shared.srv.DSN, nil
	})
}

// resolveDSN is DSN with its environment and server start passed in.
func resolveDSN(t testing.TB, getenv func(string) string, start func() (string, error)) string {
	t.Helper()
	if dsn := getenv(EnvDSN); dsn != "" {
		return dsn
	}
	dsn, err := start()
	if err == nil {
		return dsn
	}
	msg := fmt.Sprintf("no PostgreSQL: $%s is unset and starting one failed: %v", EnvDSN, err)
	if getenv("CI") != "" {
		t.Fatal(msg + " (CI must run this test: .ci/run installs and starts PostgreSQL)")
	}
	t.Skip(msg + "; set " + EnvDSN + " or install PostgreSQL to run this test")
	return ""
}

// Main runs a test binary's tests and then stops the server DSN started, if
// any. Call it from TestMain.
func Main(m *testing.M) {
	code := m.Run()
	if err := shared.srv.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "pgtest: stopping PostgreSQL:", err)
	}
	os.Exit(code)
}

// Connect connects to DSN's database and creates a schema of the test's own
// (dropped when the test ends), so tests sharing a server never meet.
func Connect(t testing.TB) (*pgx.Conn, string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, DSN(t))
	if err != nil {
		t.Fatalf("connecting to PostgreSQL ($%s or the server pgtest started): %v", EnvDSN, err)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "test_" + hex.EncodeToString(b[:])
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+Ident(schema)); err != nil {
		conn.Close(ctx)
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = conn.Exec(ctx, "DROP SCHEMA "+Ident(schema)+" CASCADE")
		conn.Close(ctx)
	})
	return conn, schema
}
