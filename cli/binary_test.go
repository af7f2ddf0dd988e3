package cli

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tap-recurly/tap-recurly/internal/testutil"
)

// The tap binary, built once per test process for the tests that need a
// real process (signals, SIGKILL).
var (
	binOnce sync.Once
	binDir  string
	binPath string
	binErr  error
)

// tapBinary builds cmd/tap-recurly (without the race detector: it is the
// program under test, not the test) and returns its path.
func tapBinary(t testing.TB) string {
	t.Helper()
	binOnce.Do(func() {
		goTool, err := exec.LookPath("go")
		if err != nil {
			root := os.Getenv("GOROOT")
			if root == "" {
				root = runtime.GOROOT() // the toolchain that built this test
			}
			goTool = filepath.Join(root, "bin", "go")
		}
		binDir, binErr = os.MkdirTemp("", "tap-recurly-bin-")
		if binErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "tap-recurly")
		cmd := exec.Command(goTool, "build", "-o", binPath, "github.com/tap-recurly/tap-recurly/cmd/tap-recurly")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			binErr = errors.New("go build: " + err.Error() + "\n" + string(out))
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

func cleanupBinary() {
	if binDir != "" {
		os.RemoveAll(binDir)
	}
}

// proc is a running tap process.
type proc struct {
	name   string
	cmd    *exec.Cmd
	stdout testutil.Buffer
	stderr testutil.Buffer
	lines  chan string // complete stdout lines, as they arrive
	copied chan struct{}
	exited chan struct{}
	code   int
	exitAt time.Time
}

// startTap starts the binary with args. Its stdout is read line by line as
// it arrives (see lines); stderr is collected.
func startTap(t testing.TB, name string, args ...string) *proc {
	t.Helper()
	p := &proc{name: name, lines: make(chan string, 1<<16), copied: make(chan struct{}), exited: make(chan struct{})}
	p.cmd = exec.Command(tapBinary(t), args...)
	p.cmd.Stderr = &p.stderr
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(p.copied)
		r := bufio.NewReaderSize(out, 1<<20)
		for {
			line, err := r.ReadBytes('\n')
			p.stdout.Write(line)
			if err != nil {
				return
			}
			select {
			case p.lines <- string(line):
			default: // nobody is watching that closely
			}
		}
	}()
	go func() {
		<-p.copied // Wait closes the pipe: read it all first
		err := p.cmd.Wait()
		p.exitAt = time.Now()
		p.code = exitCode(err)
		close(p.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			p.cmd.Process.Kill()
			<-p.exited
		}
	})
	return p
}

// exitCode maps a Wait error to the shell's exit status (128+n for a
// signal).
func exitCode(err error) int {
	if err == nil {
		return 0
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal())
		}
		return ee.ExitCode()
	}
	return -1
}

// wait waits for the process to exit (at most limit) and records its
// transcript.
func (p *proc) wait(t testing.TB, limit time.Duration) result {
	t.Helper()
	select {
	case <-p.exited:
	case <-time.After(limit):
		p.cmd.Process.Kill()
		<-p.exited
		t.Fatalf("%s: still running after %s; killed", p.name, limit)
	}
	r := result{name: p.name, code: p.code, stdout: p.stdout.Bytes(), stderr: p.stderr.Bytes()}
	transcripts.add(p.name, r.stdout, r.stderr)
	return r
}

// waitForLine waits until a stdout line containing substr arrives.
func (p *proc) waitForLine(t testing.TB, substr string, limit time.Duration) {
	t.Helper()
	deadline := time.After(limit)
	for {
		select {
		case l := <-p.lines:
			if bytes.Contains([]byte(l), []byte(substr)) {
				return
			}
		case <-p.exited:
			t.Fatalf("%s exited (code %d) before writing %q; stderr:\n%s", p.name, p.code, substr, p.stderr.Bytes())
		case <-deadline:
			t.Fatalf("%s: no %q line within %s", p.name, substr, limit)
		}
	}
}
