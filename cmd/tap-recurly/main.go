// Command tap-recurly is a Singer tap for the Recurly API v2018-08-09.
// See README.md, or run tap-recurly --help.
package main

import (
	"os"

	"github.com/tap-recurly/tap-recurly/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr))
}
