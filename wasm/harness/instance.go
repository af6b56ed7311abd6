package harness

import (
	"bytes"
	"context"
	"fmt"

	"github.com/tailorhq/tailor/sdk/msgp"
	"github.com/tailorhq/tailor/sdk/wire"
	"github.com/tailorhq/tailor/wasm/abi"
	"github.com/tetratelabs/wazero/api"
)

var exportNames = []string{abi.Alloc, abi.Free, abi.OutPtr, abi.OutLen, abi.Init, abi.Weights,
	abi.Track, abi.Rank, abi.TakeDelta, abi.SaveProfile, abi.LoadProfile, abi.Forget}

// GuestError is an error status returned by the guest, with its message.
type GuestError struct {
	Op      string
	Status  abi.Status
	Message string
}

func (e *GuestError) Error() string {
	return fmt.Sprintf("tailor.wasm %s: status %d: %s", e.Op, e.Status, e.Message)
}

// Instance is one running tailor.wasm: one simulated device.
//
// # Notes
//
// Not goroutine-safe. Results returned as bytes are copies: the guest's
// memory may move on the next call.
type Instance struct {
	mod  api.Module
	mem  api.Memory
	fns  map[string]api.Function
	logs *bytes.Buffer
	ctx  context.Context

	buf    uint32 // a guest buffer reused for inputs
	bufCap uint32
	w      *msgp.Writer
	stack  []uint64

	seeded      *seededRandom // random_get's stream under WithSeededRandom, else nil
	runtimeSeed uint64
}

func newInstance(mod api.Module, logs *bytes.Buffer) *Instance {
	in := &Instance{mod: mod, mem: mod.Memory(), fns: map[string]api.Function{}, logs: logs,
		ctx: context.Background(), w: msgp.NewWriter(4096), stack: make([]uint64, 3)}
	for _, name := range exportNames {
		in.fns[name] = mod.ExportedFunction(name)
	}
	return in
}

// WithContext returns in set to run its calls under ctx (a deadline stops
// a runaway guest: the runtime closes instances on a done context).
func (in *Instance) WithContext(ctx context.Context) *Instance {
	in.ctx = ctx
	return in
}

// Close stops the instance.
func (in *Instance) Close(ctx context.Context) error { return in.mod.Close(ctx) }

// MemorySize returns the bytes of linear memory the instance holds.
func (in *Instance) MemorySize() uint32 { return in.mem.Size() }

// Logs returns what the guest wrote to stdout and stderr.
func (in *Instance) Logs() string { return in.logs.String() }

// call invokes an export with the stack's first n values as arguments.
func (in *Instance) call(name string, args ...uint64) (uint64, error) {
	copy(in.stack, args)
	if err := in.fns[name].CallWithStack(in.ctx, in.stack); err != nil {
		return 0, fmt.Errorf("harness: %s: %w (guest output: %q)", name, err, in.logs.String())
	}
	return in.stack[0], nil
}

// write copies b into the reused guest buffer, growing it when needed.
func (in *Instance) write(b []byte) (ptr uint32, err error) {
	n := uint32(len(b))
	if n > in.bufCap {
		if in.buf != 0 {
			if _, err := in.call(abi.Free, uint64(in.buf)); err != nil {
				return 0, err
			}
			in.buf, in.bufCap = 0, 0
		}
		size := max(n, 64<<10)
		p, err := in.call(abi.Alloc, uint64(size))
		if err != nil {
			return 0, err
		}
		if p == 0 {
			return 0, &GuestError{Op: "alloc", Status: abi.BadInput, Message: fmt.Sprintf("input of %d bytes refused (max %d)", n, abi.MaxInput)}
		}
		in.buf, in.bufCap = uint32(p), size
	}
	if !in.mem.Write(in.buf, b) {
		return 0, fmt.Errorf("harness: write %d bytes at %#x: out of range", n, in.buf)
	}
	return in.buf, nil
}

// output copies the guest's output buffer.
func (in *Instance) output() ([]byte, error) {
	p, err := in.call(abi.OutPtr)
	if err != nil {
		return nil, err
	}
	n, err := in.call(abi.OutLen)
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, nil
	}
	b, ok := in.mem.Read(uint32(p), uint32(n))
	if !ok {
		return nil, fmt.Errorf("harness: output at %#x+%d: out of range", p, n)
	}
	return bytes.Clone(b), nil
}

// Call runs an operation export on raw input bytes (nil for operations
// without input) and returns its output. A guest error status comes back
// as *GuestError. Typed methods wrap it; tests use it to send bad bytes.
func (in *Instance) Call(op string, input []byte, extra ...uint64) ([]byte, error) {
	args := make([]uint64, 0, 3)
	if input != nil {
		p, err := in.write(input)
		if err != nil {
			return nil, err
		}
		args = append(args, uint64(p), uint64(len(input)))
	}
	args = append(args, extra...)
	st, err := in.call(op, args...)
	if err != nil {
		return nil, err
	}
	out, err := in.output()
	if err != nil {
		return nil, err
	}
	if s := abi.Status(int32(uint32(st))); s != abi.OK {
		return nil, &GuestError{Op: op, Status: s, Message: string(out)}
	}
	return out, nil
}

func (in *Instance) encode(v wire.Encoder) []byte {
	in.w.Reset()
	v.EncodeTo(in.w)
	return in.w.Bytes()
}

// Init configures the device and gives it a fresh profile; weights
// applied before are kept.
func (in *Instance) Init(cfg wire.Config) error {
	_, err := in.Call(abi.Init, in.encode(&cfg))
	return err
}

// Seed restarts the instance's random stream from (the runtime's seed,
// seed), so that what follows (a replayed visitor's exploration, ids,
// samples) does not depend on which pooled instance runs it. Only for a
// runtime made WithSeededRandom; otherwise it returns ErrNotSeeded and the
// instance keeps reading the host's CSPRNG.
func (in *Instance) Seed(seed uint64) error {
	if in.seeded == nil {
		return ErrNotSeeded
	}
	in.seeded.reset(in.runtimeSeed, seed, streamSeed)
	return nil
}

// ApplyWeights sends a model version, or one shard of it.
func (in *Instance) ApplyWeights(w *wire.Weights) error { return in.ApplyWeightsBytes(in.encode(w)) }

// ApplyWeightsBytes sends encoded weights as fetched from the server.
func (in *Instance) ApplyWeightsBytes(b []byte) error {
	_, err := in.Call(abi.Weights, b)
	return err
}

// Track sends one event.
func (in *Instance) Track(e *wire.Event) error {
	_, err := in.Call(abi.Track, in.encode(e))
	return err
}

// Rank ranks a slot.
func (in *Instance) Rank(q *wire.RankRequest) (wire.RankResult, error) {
	var res wire.RankResult
	out, err := in.Call(abi.Rank, in.encode(q))
	if err != nil {
		return res, err
	}
	return res, wire.Unmarshal(out, &res, "rank result")
}

// TakeDelta returns the encoded profile delta to sync, or nil when there
// is nothing to send.
func (in *Instance) TakeDelta() ([]byte, error) { return in.Call(abi.TakeDelta, nil) }

// SaveProfile returns the encoded profile, as the loader stores it.
func (in *Instance) SaveProfile() ([]byte, error) { return in.Call(abi.SaveProfile, nil) }

// LoadProfile restores a stored profile.
func (in *Instance) LoadProfile(b []byte) error {
	_, err := in.Call(abi.LoadProfile, b)
	return err
}

// Forget wipes the visitor's profile on the device.
func (in *Instance) Forget() error {
	_, err := in.Call(abi.Forget, nil)
	return err
}
