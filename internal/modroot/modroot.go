// Package modroot finds the repository's root from a test or a tool run
// anywhere inside it: the tests that build binaries, read dist/ or the
// datasets beside the project need it, and go test runs each in its
// package's directory.
package modroot

import (
	"errors"
	"os"
	"path/filepath"
)

// ErrNotFound is returned when no directory up from the working one
// holds a go.mod.
var ErrNotFound = errors.New("modroot: no go.mod above the working directory")

// Dir returns the nearest directory at or above the working directory
// that holds go.mod: the module's root.
func Dir() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		up := filepath.Dir(dir)
		if up == dir {
			return "", ErrNotFound
		}
		dir = up
	}
}
