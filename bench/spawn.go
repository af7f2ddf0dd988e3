package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// Why a spawner: Go starts child processes with clone(CLONE_VM|CLONE_VFORK),
// and on exec Linux folds the high-water RSS of the memory the child shared
// with its parent into the child's rusage ru_maxrss. A tap started directly
// by the driver, which holds a simulated site of a million records, would
// report the driver's peak RSS as its own. So the driver starts this small
// spawner first, while it is still small, and every tap is started by the
// spawner: its ru_maxrss then carries at most the spawner's few megabytes.

// spawnRequest asks the spawner to run one program to completion.
type spawnRequest struct {
	Path       string
	Args       []string
	StderrPath string // where the program's stderr goes
	StdoutPath string // where its stdout is copied; "" discards it after counting
}

// spawnResult is what the spawner measured of one run.
type spawnResult struct {
	ExitCode int
	Wall     time.Duration
	User     time.Duration // user CPU time of the program alone
	Sys      time.Duration // system CPU time of the program alone
	MaxRSSKB int64         // peak resident set size in KiB (ru_maxrss)
	Count    lineCount     // what its stdout held
	Err      string        // why the run could not be started or read
}

// spawner is the driver's handle on the spawner process.
type spawner struct {
	mu    sync.Mutex
	cmd   *exec.Cmd
	stdin io.Closer
	in    *json.Encoder
	out   *json.Decoder
}

// startSpawner starts this executable again in spawner mode.
func startSpawner() (*spawner, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self, "-spawner")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	return &spawner{cmd: cmd, stdin: stdin, in: json.NewEncoder(stdin), out: json.NewDecoder(stdout)}, nil
}

// run runs one program through the spawner and waits for its result.
func (s *spawner) run(req spawnRequest) (spawnResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var res spawnResult
	if err := s.in.Encode(req); err != nil {
		return res, fmt.Errorf("spawner: %w", err)
	}
	if err := s.out.Decode(&res); err != nil {
		return res, fmt.Errorf("spawner: %w", err)
	}
	if res.Err != "" {
		return res, errors.New(res.Err)
	}
	return res, nil
}

// close ends the spawner (it exits when its stdin closes).
func (s *spawner) close() error {
	s.stdin.Close()
	return s.cmd.Wait()
}

// serveSpawner is the spawner's main loop: one JSON request per line on
// stdin, one JSON result per line on stdout, until stdin closes.
func serveSpawner(in io.Reader, out io.Writer) error {
	dec := json.NewDecoder(bufio.NewReader(in))
	enc := json.NewEncoder(out)
	for {
		var req spawnRequest
		if err := dec.Decode(&req); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		res, err := spawn(req)
		if err != nil {
			res.Err = err.Error()
		}
		if err := enc.Encode(res); err != nil {
			return err
		}
	}
}

// spawn runs req's program, counting its stdout, and measures it.
func spawn(req spawnRequest) (spawnResult, error) {
	var res spawnResult
	stderr, err := os.Create(req.StderrPath)
	if err != nil {
		return res, err
	}
	defer stderr.Close()
	var sink io.Writer = io.Discard
	if req.StdoutPath != "" {
		f, err := os.Create(req.StdoutPath)
		if err != nil {
			return res, err
		}
		defer f.Close()
		bw := bufio.NewWriterSize(f, 1<<20)
		defer bw.Flush()
		sink = bw
	}
	cmd := exec.Command(req.Path, req.Args...)
	cmd.Stderr = stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return res, err
	}
	began := time.Now()
	if err := cmd.Start(); err != nil {
		return res, err
	}
	counter := &lineCounter{}
	_, copyErr := io.CopyBuffer(io.MultiWriter(counter, sink), stdout, make([]byte, 1<<20))
	waitErr := cmd.Wait()
	res.Wall = time.Since(began)
	res.Count = counter.result()
	if ps := cmd.ProcessState; ps != nil {
		res.ExitCode = ps.ExitCode()
		res.User, res.Sys = ps.UserTime(), ps.SystemTime()
		if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
			res.MaxRSSKB = ru.Maxrss // KiB on Linux
		}
	}
	if copyErr != nil {
		return res, copyErr
	}
	var exitErr *exec.ExitError
	if waitErr != nil && !errors.As(waitErr, &exitErr) {
		return res, waitErr
	}
	return res, nil
}

// lineCount tallies Singer output.
type lineCount struct {
	Lines, Records, States, Schemas int64
	Bytes                           int64
	LastState                       string // the last STATE line, without its newline
}

// lineCounter is an io.Writer that counts Singer message lines by type,
// reading only each line's first bytes (Singer writers put "type" first, as
// tap-recurly does) and keeping the last STATE line. Lines may be split
// across writes in any way.
type lineCounter struct {
	c    lineCount
	line []byte // the current line's first headLen bytes, or all of it while it is a STATE line
	skip bool   // the current line is known not to be a STATE line: ignore the rest of it
}

const headLen = len(`{"type":"SCHEMA"`)

const (
	recordHead = `{"type":"RECORD"`
	stateHead  = `{"type":"STATE"`
	schemaHead = `{"type":"SCHEMA"`
)

// Write implements io.Writer; it never fails.
func (l *lineCounter) Write(p []byte) (int, error) {
	n := len(p)
	l.c.Bytes += int64(n)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		seg := p
		if i >= 0 {
			seg = p[:i]
		}
		if !l.skip {
			if len(l.line) < headLen {
				take := min(headLen-len(l.line), len(seg))
				l.line = append(l.line, seg[:take]...)
				seg = seg[take:]
			}
			if len(l.line) >= headLen {
				if bytes.HasPrefix(l.line, []byte(stateHead)) {
					l.line = append(l.line, seg...)
				} else {
					l.skip = true
				}
			}
		}
		if i < 0 {
			break
		}
		l.endLine()
		p = p[i+1:]
	}
	return n, nil
}

func (l *lineCounter) endLine() {
	l.c.Lines++
	switch {
	case bytes.HasPrefix(l.line, []byte(recordHead)):
		l.c.Records++
	case bytes.HasPrefix(l.line, []byte(stateHead)):
		l.c.States++
		l.c.LastState = string(l.line)
	case bytes.HasPrefix(l.line, []byte(schemaHead)):
		l.c.Schemas++
	}
	l.line, l.skip = l.line[:0], false
}

// result returns the counts so far (a final line without a newline is
// counted too).
func (l *lineCounter) result() lineCount {
	if len(l.line) > 0 || l.skip {
		l.endLine()
	}
	return l.c
}
