//go:build !linux

package main

import "os"

// growPipe is a no-op where F_SETPIPE_SZ does not exist.
func growPipe(*os.File) {}
