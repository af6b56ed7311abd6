package modroot

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestDir(t *testing.T) {
	wd, _ := os.Getwd() // go test runs in the package's directory, internal/modroot
	if dir, err := Dir(); err != nil || dir != filepath.Dir(filepath.Dir(wd)) {
		t.Errorf("Dir() = %q, %v; want %q", dir, err, filepath.Dir(filepath.Dir(wd)))
	}
	t.Chdir(t.TempDir())
	if dir, err := Dir(); !errors.Is(err, ErrNotFound) {
		t.Errorf("outside any module: Dir() = %q, %v; want ErrNotFound", dir, err)
	}
}
