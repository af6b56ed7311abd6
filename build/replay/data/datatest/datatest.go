// Package datatest finds the public datasets for the replay's tests: they
// live beside the project, not in it, so a clean clone skips those tests.
package datatest

import (
	"os"
	"path/filepath"
	"testing"
)

// Dir returns $TAILOR_DATASETS or, without it, ../shared/datasets beside
// the project root (the directory holding go.mod). It skips the test when
// the directory is absent, as it is on a clean clone.
func Dir(tb testing.TB) string {
	tb.Helper()
	d := os.Getenv("TAILOR_DATASETS")
	if d == "" {
		dir, err := os.Getwd()
		if err != nil {
			tb.Fatal(err)
		}
		for {
			if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
				break
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				tb.Skip("skipping: project root (go.mod) not found")
			}
			dir = parent
		}
		d = filepath.Join(dir, "..", "shared", "datasets")
	}
	if _, err := os.Stat(d); err != nil {
		tb.Skipf("skipping: public datasets not found at %s (set TAILOR_DATASETS to run this test)", d)
	}
	return d
}
