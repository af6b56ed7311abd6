// Package harnesstest gives tests one shared, compiled tailor.wasm: it
// builds the artifact with `make wasm` (a no-op when it is up to date, so
// tests never run a stale guest) and compiles it once per test process,
// or once for all processes into the directory TAILOR_WAZERO_CACHE names.
package harnesstest

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/tailorhq/tailor/internal/modroot"
	"github.com/tailorhq/tailor/sdk/wire"
	"github.com/tailorhq/tailor/wasm/harness"
	"github.com/tetratelabs/wazero"
)

var (
	once   sync.Once
	rt     *harness.Runtime
	bytes_ []byte
	err    error
)

// Root returns the module's root directory (where go.mod is).
func Root(tb testing.TB) string {
	tb.Helper()
	dir, err := modroot.Dir()
	if err != nil {
		tb.Fatal("harnesstest: ", err)
	}
	return dir
}

// Wasm returns the bytes of the current tailor.wasm, building it if needed.
// TAILOR_WASM names a prebuilt artifact instead.
func Wasm(tb testing.TB) []byte {
	tb.Helper()
	load(tb)
	return bytes_
}

// Runtime returns the shared runtime with tailor.wasm compiled. It lives
// for the whole test process.
func Runtime(tb testing.TB) *harness.Runtime {
	tb.Helper()
	load(tb)
	return rt
}

func load(tb testing.TB) {
	tb.Helper()
	once.Do(func() {
		path := os.Getenv("TAILOR_WASM")
		if path == "" {
			root := Root(tb)
			cmd := exec.Command("make", "-s", "wasm")
			cmd.Dir = root
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			if err = cmd.Run(); err != nil {
				err = &buildError{err: err, out: out.String()}
				return
			}
			path = filepath.Join(root, "dist", "tailor.wasm")
		}
		if bytes_, err = os.ReadFile(path); err != nil {
			return
		}
		cache := wazero.NewCompilationCache()
		if dir := os.Getenv("TAILOR_WAZERO_CACHE"); dir != "" {
			// Shared by processes: each fuzz worker is one, and compiling
			// the guest anew in each took longer than the fuzzer waits for
			// a worker's first input on a busy machine.
			if cache, err = wazero.NewCompilationCacheWithDir(dir); err != nil {
				return
			}
		}
		rt, err = harness.New(context.Background(), bytes_, harness.WithCompilationCache(cache))
	})
	if err != nil {
		tb.Fatalf("harnesstest: %v", err)
	}
}

// Instance returns a new instance closed when the test ends.
func Instance(tb testing.TB) *harness.Instance {
	tb.Helper()
	in, err := Runtime(tb).Instantiate(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { in.Close(context.Background()) })
	return in
}

// Delta takes in's pending profile delta and decodes it, failing the test
// when the guest has none to send or sends one that does not decode.
func Delta(tb testing.TB, in *harness.Instance) wire.Delta {
	tb.Helper()
	b, err := in.TakeDelta()
	if err != nil || len(b) == 0 {
		tb.Fatalf("TakeDelta = %d bytes, %v", len(b), err)
	}
	var d wire.Delta
	if err := wire.Unmarshal(b, &d, "delta"); err != nil {
		tb.Fatal(err)
	}
	return d
}

type buildError struct {
	err error
	out string
}

func (e *buildError) Error() string { return "make wasm: " + e.err.Error() + "\n" + e.out }
