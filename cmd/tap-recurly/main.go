// Command tap-recurly is a Singer tap for the Recurly API v2018-08-09.
// See README.md, or run tap-recurly --help.
package main

import (
	"os"
	"os/signal"
	"syscall"

	"github.com/tap-recurly/tap-recurly/cli"
)

func main() {
	growPipe(os.Stdout)
	code := cli.Main(os.Args[1:], os.Stdout, os.Stderr)
	// A run stopped by SIGINT or SIGTERM has written its final STATE; now it
	// dies of that signal, as Unix programs do, so a parent sees "killed by
	// SIGTERM" (Meltano's connection test expects -15; a shell shows 143).
	for sig, c := range map[syscall.Signal]int{syscall.SIGINT: cli.ExitSIGINT, syscall.SIGTERM: cli.ExitSIGTERM} {
		if code == c {
			signal.Reset(sig)
			_ = syscall.Kill(os.Getpid(), sig)
		}
	}
	os.Exit(code)
}
