package modroot

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestDir(t *testing.T) {
	dir, err := Dir()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "internal", "modroot", "modroot.go")); err != nil {
		t.Errorf("Dir() = %s, not this module's root: %v", dir, err)
	}
	t.Chdir(t.TempDir())
	if dir, err := Dir(); !errors.Is(err, ErrNotFound) {
		t.Errorf("outside any module: Dir() = %q, %v; want ErrNotFound", dir, err)
	}
}
