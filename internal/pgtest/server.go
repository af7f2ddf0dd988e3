// Package pgtest gives tests (and the demo) a real PostgreSQL: the one named
// by $TAP_RECURLY_TEST_PG, or a throwaway server it starts itself from the
// machine's PostgreSQL binaries, and a small Singer loader into it.
//
// Nothing in the tap imports this package: it exists to prove the tap's
// output loads into, and answers queries on, a real warehouse.
package pgtest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
)

// EnvDSN names the variable that points tests at a running PostgreSQL (a
// libpq connection string or URL). .ci/run sets it.
const EnvDSN = "TAP_RECURLY_TEST_PG"

// Server is a PostgreSQL server started by Start in a temporary directory,
// listening only on a Unix socket in that directory. The zero value is not
// a server; Stop on a nil *Server does nothing.
type Server struct {
	DSN  string // connection string for database postgres, user postgres
	dir  string
	bin  string
	cred *syscall.Credential // nil: run as the current user
}

// BinDir finds the directory holding initdb and pg_ctl: the one on PATH,
// else the newest /usr/lib/postgresql/*/bin (Debian's layout).
func BinDir() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int { return version(a) - version(b) })
	for i := len(dirs) - 1; i >= 0; i-- {
		if _, err := os.Stat(filepath.Join(dirs[i], "initdb")); err == nil {
			return dirs[i], nil
		}
	}
	return "", errors.New("no PostgreSQL binaries (initdb) on PATH or under /usr/lib/postgresql; install them with: apt-get install -y postgresql")
}

// version is the major version in a path such as /usr/lib/postgresql/15/bin.
func version(dir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
	return n
}

// Start initialises a data directory under the system's temporary directory
// and starts a server on a Unix socket there, with durability off (a test
// database needs none). PostgreSQL refuses to run as root, so as root the
// server runs as the "postgres" user that Debian's package creates.
func Start() (*Server, error) {
	bin, err := BinDir()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "tap-recurly-pg-")
	if err != nil {
		return nil, err
	}
	s := &Server{dir: dir, bin: bin}
	if err := s.start(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	s.DSN = fmt.Sprintf("host=%s port=5432 user=postgres dbname=postgres sslmode=disable", dir)
	return s, nil
}

func (s *Server) start() error {
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return fmt.Errorf("running as root and there is no postgres user to run PostgreSQL as: %w", err)
		}
		uid, _ := strconv.ParseUint(u.Uid, 10, 32)
		gid, _ := strconv.ParseUint(u.Gid, 10, 32)
		s.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chown(s.dir, int(uid), int(gid)); err != nil {
			return err
		}
	}
	data := filepath.Join(s.dir, "data")
	if err := s.run("initdb", "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"); err != nil {
		return err
	}
	opts := "-c listen_addresses='' -k " + s.dir + " -p 5432 -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
	return s.run("pg_ctl", "-D", data, "-l", filepath.Join(s.dir, "server.log"), "-w", "-o", opts, "start")
}

// run runs one of the server's programs as the server's user; its output
// becomes part of the error when it fails.
func (s *Server) run(prog string, args ...string) error {
	cmd := exec.Command(filepath.Join(s.bin, prog), args...)
	cmd.Dir = s.dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %v: %s", prog, err, strings.TrimSpace(lastLines(string(out), 5)))
	}
	return nil
}

// Stop stops the server at once and removes its directory.
func (s *Server) Stop() error {
	if s == nil {
		return nil
	}
	err := s.run("pg_ctl", "-D", filepath.Join(s.dir, "data"), "-m", "immediate", "-w", "stop")
	return errors.Join(err, os.RemoveAll(s.dir))
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
