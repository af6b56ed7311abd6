package bolt_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/tailorhq/tailor/server/store"
	"github.com/tailorhq/tailor/server/store/bolt"
	"github.com/tailorhq/tailor/server/store/storetest"
)

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Opener {
		path := filepath.Join(t.TempDir(), "tailor.db")
		return func() (store.Store, error) { return bolt.Open(path) }
	})
}

// TestLocked checks that a second opener of the same file fails after the
// timeout instead of corrupting it or hanging.
func TestLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tailor.db")
	db, err := bolt.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if db2, err := bolt.Open(path, bolt.WithTimeout(50*time.Millisecond)); err == nil {
		db2.Close()
		t.Fatal("a second Open of a locked file succeeded")
	}
}

func TestOptions(t *testing.T) {
	for _, tc := range []struct {
		name string
		opt  bolt.Option
	}{
		{"timeout 0", bolt.WithTimeout(0)},
		{"max batch 0", bolt.WithMaxBatch(0)},
	} {
		if db, err := bolt.Open(filepath.Join(t.TempDir(), "x.db"), tc.opt); err == nil {
			db.Close()
			t.Errorf("%s: Open succeeded", tc.name)
		}
	}
}
