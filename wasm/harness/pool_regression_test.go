package harness_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/tailorhq/tailor/wasm/harness"
	"github.com/tailorhq/tailor/wasm/harness/harnesstest"
)

// TestPoolSetupFailure fails the setup of instances being created
// concurrently: Run must return the error, never panic (a failed creation
// used to drop its slot by an index that other failures had shifted), and
// the pool must stay usable.
func TestPoolSetupFailure(t *testing.T) {
	errSetup := errors.New("setup failed")
	var failing atomic.Bool
	failing.Store(true)
	pool := harnesstest.Runtime(t).NewPool(6, func(*harness.Instance) error {
		if failing.Load() {
			return errSetup
		}
		return nil
	})
	ctx := context.Background()
	visit := func(*harness.Instance, int) error { return nil }
	if err := pool.Run(ctx, 24, visit); !errors.Is(err, errSetup) {
		t.Fatalf("Run with failing setups: %v, want the setup error", err)
	}
	failing.Store(false)
	if err := pool.Run(ctx, 24, visit); err != nil {
		t.Fatalf("Run after the failures: %v", err)
	}
	if err := pool.Each(ctx, func(*harness.Instance) error { return nil }); err != nil {
		t.Fatal(err)
	}
}
