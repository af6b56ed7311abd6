// Package datatest finds the public datasets for the replay's tests: they
// live beside the project, not in it, so a clean clone skips those tests.
package datatest

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/tailorhq/tailor/internal/modroot"
)

// Dir returns $TAILOR_DATASETS or, without it, ../shared/datasets beside
// the project root (the directory holding go.mod). It skips the test when
// the directory is absent, as it is on a clean clone.
func Dir(tb testing.TB) string {
	tb.Helper()
	d := os.Getenv("TAILOR_DATASETS")
	if d == "" {
		dir, err := modroot.Dir()
		if err != nil {
			tb.Skip("skipping: ", err)
		}
		d = filepath.Join(dir, "..", "shared", "datasets")
	}
	if _, err := os.Stat(d); err != nil {
		tb.Skipf("skipping: public datasets not found at %s (set TAILOR_DATASETS to run this test)", d)
	}
	return d
}
