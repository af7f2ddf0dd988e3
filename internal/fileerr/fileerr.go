// Package fileerr words a failure to read an input file (config, state,
// catalog) the one way every such line uses: "no such file", "permission
// denied", or the operating system's reason without the path, which the
// line already names.
package fileerr

import (
	"errors"
	"io/fs"
)

// Describe returns the short reason an os.ReadFile error gives.
func Describe(err error) string {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "no such file"
	case errors.Is(err, fs.ErrPermission):
		return "permission denied"
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}
