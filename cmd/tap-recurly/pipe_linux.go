package main

import (
	"os"
	"syscall"
)

// fSetPipeSize is F_SETPIPE_SZ from fcntl.h.
const fSetPipeSize = 1031

// growPipe asks for a 1 MiB pipe buffer when stdout is a pipe, so the tap
// and its target switch context less often. Failure is harmless: the
// kernel's default (64 KiB) stays.
func growPipe(f *os.File) {
	fi, err := f.Stat()
	if err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
		return
	}
	_, _, _ = syscall.Syscall(syscall.SYS_FCNTL, f.Fd(), fSetPipeSize, 1<<20)
}
