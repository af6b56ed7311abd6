// Package harness runs the real tailor.wasm in Go with wazero: the same
// file browsers download, so tests, benchmarks and the replay tool measure
// what ships. It compiles the module once, instantiates it cheaply, pools
// instances, and gives each a typed API over the guest's exports.
//
//	rt, err := harness.New(ctx, wasmBytes)
//	defer rt.Close(ctx)
//	inst, err := rt.Instantiate(ctx)
//	err = inst.Init(cfg)
//	err = inst.Track(&event)
//	res, err := inst.Rank(&request)
//
// # Notes
//
// A Runtime is goroutine-safe. An Instance is not (wazero's Function.Call
// is not): give each goroutine its own, or take them from a Pool.
package harness

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
)

// Errors of the harness itself; guest errors are *GuestError.
var (
	ErrClosed    = errors.New("harness: runtime closed")
	ErrNoWasm    = errors.New("harness: tailor.wasm not found")
	ErrExports   = errors.New("harness: module lacks a Tailor export")
	ErrNotSeeded = errors.New("harness: runtime not made WithSeededRandom")
)

// DefaultMemoryLimitPages caps an instance's linear memory: 1024 pages of
// 64 KiB, 64 MiB. A device needs a few MiB; the cap turns a runaway guest
// into an error instead of a host out of memory.
const DefaultMemoryLimitPages = 1024

// Option configures a Runtime.
type Option func(*options) error

type options struct {
	memoryPages uint32
	cache       wazero.CompilationCache
	closeOnDone bool
	seeded      bool
	seed        uint64
}

// WithMemoryLimitPages sets the memory cap per instance, in 64 KiB pages.
func WithMemoryLimitPages(pages uint32) Option {
	return func(o *options) error {
		if pages == 0 || pages > 65536 {
			return fmt.Errorf("harness: memory limit %d pages out of range 1-65536", pages)
		}
		o.memoryPages = pages
		return nil
	}
}

// WithCompilationCache shares compiled code between runtimes (e.g. one
// cache per test package, or a directory cache across processes).
func WithCompilationCache(c wazero.CompilationCache) Option {
	return func(o *options) error {
		o.cache = c
		return nil
	}
}

// WithCloseOnContextDone makes a done context (a deadline, a cancel) stop
// a running guest call. It costs: wazero then checks the context at every
// function entry and loop, which made Rank about 6x slower here (Go code
// calls many small functions). Use it where a runaway guest must be
// stopped, e.g. with untrusted input under a test deadline.
func WithCloseOnContextDone() Option {
	return func(o *options) error {
		o.closeOnDone = true
		return nil
	}
}

// WithSeededRandom, for tests and replays only, answers every instance's
// WASI random_get from a deterministic stream instead of the host's
// CSPRNG: each instance starts from (seed, the order it was made in), and
// Instance.Seed restarts it, so that a replay gives the same figures
// twice. Never use it for a device whose deltas leave the process: its
// ids and LDP reports are then predictable. Without it, random_get reads
// crypto/rand (wazero's own default is a deterministic fake).
func WithSeededRandom(seed uint64) Option {
	return func(o *options) error {
		o.seeded, o.seed = true, seed
		return nil
	}
}

// Runtime holds tailor.wasm compiled once.
type Runtime struct {
	rt       wazero.Runtime
	compiled wazero.CompiledModule
	seeded   bool
	seed     uint64
	mu       sync.Mutex
	closed   bool
	made     uint64 // instances made, for their seeded streams
}

// New compiles tailor.wasm. Compilation takes about a second for the
// guest; instantiation afterwards takes milliseconds.
func New(ctx context.Context, wasm []byte, opts ...Option) (*Runtime, error) {
	o := options{memoryPages: DefaultMemoryLimitPages}
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	cfg := wazero.NewRuntimeConfig().
		WithMemoryLimitPages(o.memoryPages).
		WithCloseOnContextDone(o.closeOnDone)
	if o.cache != nil {
		cfg = cfg.WithCompilationCache(o.cache)
	}
	rt := wazero.NewRuntimeWithConfig(ctx, cfg)
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, rt); err != nil {
		rt.Close(ctx)
		return nil, fmt.Errorf("harness: wasi: %w", err)
	}
	compiled, err := rt.CompileModule(ctx, wasm)
	if err != nil {
		rt.Close(ctx)
		return nil, fmt.Errorf("harness: compile tailor.wasm: %w", err)
	}
	exports := compiled.ExportedFunctions()
	for _, name := range exportNames {
		if _, ok := exports[name]; !ok {
			rt.Close(ctx)
			return nil, fmt.Errorf("%w: %s", ErrExports, name)
		}
	}
	return &Runtime{rt: rt, compiled: compiled, seeded: o.seeded, seed: o.seed}, nil
}

// Load reads tailor.wasm from path and compiles it.
func Load(ctx context.Context, path string, opts ...Option) (*Runtime, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("harness: %w", err)
	}
	return New(ctx, b, opts...)
}

// Instantiate starts a new guest instance (running _initialize, which
// starts the Go runtime). Its stdout and stderr are kept for error messages.
func (r *Runtime) Instantiate(ctx context.Context) (*Instance, error) {
	r.mu.Lock()
	closed := r.closed
	r.made++
	made := r.made
	r.mu.Unlock()
	if closed {
		return nil, ErrClosed
	}
	var logs bytes.Buffer
	var src io.Reader = rand.Reader
	var seeded *seededRandom
	if r.seeded {
		seeded = newSeededRandom(r.seed, made, streamInstance)
		src = seeded
	}
	mc := wazero.NewModuleConfig().
		WithName(""). // anonymous: many instances in one runtime
		WithStartFunctions("_initialize").
		WithStdout(&logs).
		WithStderr(&logs).
		WithRandSource(src)
	mod, err := r.rt.InstantiateModule(ctx, r.compiled, mc)
	if err != nil {
		return nil, fmt.Errorf("harness: instantiate: %w (guest output: %q)", err, logs.String())
	}
	in := newInstance(mod, &logs)
	in.seeded, in.runtimeSeed = seeded, r.seed
	return in, nil
}

// Close releases the runtime and every instance it started.
func (r *Runtime) Close(ctx context.Context) error {
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
	return r.rt.Close(ctx)
}
