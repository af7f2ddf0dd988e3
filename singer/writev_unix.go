//go:build darwin || linux || openbsd || illumos

package singer

import (
	"io"
	"syscall"

	"golang.org/x/sys/unix"
)

// maxVectors is how many slices one writev(2) call is given: at most
// IOV_MAX, which is 1024 on Linux and the BSDs.
const maxVectors = 1024

// vectorWriter writes a batch of byte slices to a file descriptor with
// writev(2), so that records go from the page they were read into to the
// output without a copy into the Writer's buffer (about 2% of the tap's
// CPU on plain JSON).
type vectorWriter struct{ conn syscall.RawConn }

// newVectorWriter returns the vectorWriter of w when it is an open file
// (stdout: a pipe, a file or a terminal), or nil.
func newVectorWriter(w io.Writer) *vectorWriter {
	f, ok := w.(interface {
		SyscallConn() (syscall.RawConn, error)
	})
	if !ok {
		return nil
	}
	conn, err := f.SyscallConn()
	if err != nil {
		return nil
	}
	return &vectorWriter{conn: conn}
}

// writeVectors writes every byte of bufs, in order, resuming after short
// writes. It consumes bufs (the slice and its first element's bounds).
func (v *vectorWriter) writeVectors(bufs [][]byte) error {
	for len(bufs) > 0 {
		batch := bufs[:min(len(bufs), maxVectors)]
		var n int
		var err error
		if cerr := v.conn.Write(func(fd uintptr) bool {
			for {
				n, err = unix.Writev(int(fd), batch)
				if err != unix.EINTR {
					return err != unix.EAGAIN // EAGAIN: wait until the descriptor takes more
				}
			}
		}); cerr != nil {
			return cerr
		}
		if err != nil {
			return err
		}
		if n <= 0 {
			return io.ErrShortWrite
		}
		bufs = consume(bufs, n)
	}
	return nil
}

// consume drops the first n bytes of bufs.
func consume(bufs [][]byte, n int) [][]byte {
	for len(bufs) > 0 && n >= len(bufs[0]) {
		n -= len(bufs[0])
		bufs = bufs[1:]
	}
	if n > 0 {
		bufs[0] = bufs[0][n:]
	}
	return bufs
}
