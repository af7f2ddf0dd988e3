package cli

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tap-recurly/tap-recurly/internal/testutil"
	"github.com/tap-recurly/tap-recurly/recurlytest"
)

// TestSignalWhileStdoutBlocked: a target that stopped reading blocks the
// tap's writes to stdout. SIGTERM then still ends the run within 2 s: the
// stop line goes to stderr, the exit status is the signal's, and what the
// reader finally gets is whole Singer lines (the final STATE is attempted
// but cannot pass a stalled pipe).
func TestSignalWhileStdoutBlocked(t *testing.T) {
	srv := newTestSite(t, recurlytest.Config{Seed: 61})
	cfgPath := writeFile(t, t.TempDir(), "config.json", siteConfig(srv, ""))
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	cmd := exec.Command(tapBinary(t), "--config", cfgPath)
	var stderr testutil.Buffer
	cmd.Stdout, cmd.Stderr = w, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close() // the child holds the write end now
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() { cmd.Process.Kill() })

	// Nobody reads the pipe: wait until the tap stops making requests
	// because its writes are blocked.
	stalled := waitUntilStalled(t, srv, exited)
	if !stalled {
		t.Fatalf("the tap finished without filling the pipe; stderr:\n%s", stderr.Bytes())
	}
	sent := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	var waitErr error
	select {
	case waitErr = <-exited:
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("still running 30 s after SIGTERM with a blocked stdout; stderr:\n%s", stderr.Bytes())
	}
	// The tap gives the final STATE 2 s; the rest of the bound is for a
	// machine busy with other tests (the code without the fix never exits).
	if took := time.Since(sent); took > 5*time.Second {
		t.Errorf("exited %s after SIGTERM; the tap's own bound is 2s", took.Round(time.Millisecond))
	}
	if code := exitCode(waitErr); code != ExitSIGTERM {
		t.Errorf("exit %d, want %d; stderr:\n%s", code, ExitSIGTERM, stderr.Bytes())
	}
	res := result{stderr: stderr.Bytes()}
	want := "tap-recurly: stopped by SIGTERM; the last STATE written is safe to resume from"
	if lines := res.errorLines(); len(lines) != 1 || lines[0] != want {
		t.Errorf("error lines %q, want [%q]", lines, want)
	}
	if !strings.Contains(string(res.stderr), "stopping without a final STATE") {
		t.Errorf("stderr does not say the final STATE could not be written:\n%s", res.stderr)
	}
	noStackTrace(t, res.stderr)

	// Whatever reached the pipe is whole lines of JSON, but the last line
	// may be cut where the blocked write stopped.
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	n := 0
	var lines []string
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	for i, l := range lines {
		if i == len(lines)-1 {
			break
		}
		if !json.Valid([]byte(l)) {
			t.Fatalf("stdout line %d is not JSON: %.80s", i+1, l)
		}
		n++
	}
	if n == 0 {
		t.Fatal("nothing reached stdout before the stall")
	}
}

// waitUntilStalled waits until the site has seen no request for 500 ms
// (the tap blocked on stdout); false if the tap exited first.
func waitUntilStalled(t *testing.T, srv *recurlytest.Server, exited chan error) bool {
	t.Helper()
	last, since := -1, time.Now()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			exited <- err
			return false
		case <-time.After(50 * time.Millisecond):
		}
		n := len(srv.Site.Requests())
		if n != last {
			last, since = n, time.Now()
			continue
		}
		if n > 0 && time.Since(since) > 500*time.Millisecond {
			return true
		}
	}
	t.Fatal("the tap kept making requests for 60 s without a reader")
	return false
}
