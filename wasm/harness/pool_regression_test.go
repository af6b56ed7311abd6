package harness_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

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

// TestPoolWaitersWakeWhenCreationFails: a Get waiting for an instance while
// another's creation fails must not wait forever: the failed slot is free,
// so it tries to create one itself (and here fails too).
func TestPoolWaitersWakeWhenCreationFails(t *testing.T) {
	started := make(chan struct{})
	release := make(chan struct{})
	var calls atomic.Int32
	pool := harnesstest.Runtime(t).NewPool(1, func(*harness.Instance) error {
		if calls.Add(1) == 1 {
			close(started)
			<-release
		}
		return errors.New("setup failed")
	})
	first := make(chan error, 1)
	go func() {
		_, err := pool.Get(context.Background())
		first <- err
	}()
	<-started
	second := make(chan error, 1)
	go func() {
		_, err := pool.Get(context.Background())
		second <- err
	}()
	time.Sleep(50 * time.Millisecond) // the second Get is waiting now
	close(release)
	for i, ch := range []chan error{first, second} {
		select {
		case err := <-ch:
			if err == nil {
				t.Errorf("Get %d succeeded with a failing setup", i+1)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("Get %d still waiting after the other's creation failed", i+1)
		}
	}
}
