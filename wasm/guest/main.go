//go:build wasip1

// Command guest is tailor.wasm: the device engine (package device) behind a
// small ABI over linear memory, built as a WASI reactor so that one file
// runs in browsers (through the loader's WASI shim) and in wazero.
//
// The ABI, for a host:
//
//  1. Call _initialize once.
//  2. tailor_init(config) configures the device with a fresh profile
//     (weights already applied are kept); then tailor_load_profile restores
//     a stored profile, if the host has one. The device's randomness (delta
//     ids, sampling, LDP reports, exploration) comes from WASI random_get,
//     which the host must answer from its cryptographic generator.
//  3. To pass bytes in: p = tailor_alloc(n); write n bytes at p; call the
//     operation with (p, n); then tailor_free(p).
//  4. Every operation returns a status: 0 OK, else an error code (see
//     package abi). Its output, or the error message, is at
//     tailor_out_ptr() for tailor_out_len() bytes, valid until the next
//     call: copy it out at once (memory growth detaches views).
//
// All inputs and outputs are MessagePack (package wire).
package main

import (
	"runtime"
	"unsafe"

	"github.com/tailorhq/tailor/sdk/device"
	"github.com/tailorhq/tailor/sdk/msgp"
	"github.com/tailorhq/tailor/sdk/wire"
	"github.com/tailorhq/tailor/wasm/abi"
)

func main() {}

var (
	dev    *device.Device
	out    []byte                    // the last operation's output
	pinned [][]byte                  // buffers handed to the host, kept from the GC (a few at a time)
	writer = msgp.NewWriter(4 << 10) // reused for outputs
)

//go:wasmexport tailor_alloc
func alloc(n uint32) uint32 {
	if n == 0 || n > abi.MaxInput {
		return 0
	}
	b := make([]byte, n)
	pinned = append(pinned, b)
	return addr(b)
}

//go:wasmexport tailor_free
func free(p uint32) {
	if i := find(p); i >= 0 {
		pinned[i] = pinned[len(pinned)-1]
		pinned[len(pinned)-1] = nil
		pinned = pinned[:len(pinned)-1]
	}
}

func addr(b []byte) uint32 { return uint32(uintptr(unsafe.Pointer(&b[0]))) }

// find returns the index of the pinned buffer at p, or -1.
func find(p uint32) int {
	for i, b := range pinned {
		if addr(b) == p {
			return i
		}
	}
	return -1
}

//go:wasmexport tailor_out_ptr
func outPtr() uint32 {
	if len(out) == 0 {
		return 0
	}
	return addr(out)
}

//go:wasmexport tailor_out_len
func outLen() uint32 { return uint32(len(out)) }

// input returns the bytes the host wrote into a buffer from tailor_alloc;
// anything else is refused, so a bad pointer cannot read stray memory.
func input(p, n uint32) ([]byte, bool) {
	i := find(p)
	if i < 0 || n > uint32(len(pinned[i])) {
		return nil, false
	}
	return pinned[i][:n], true
}

// call runs op on the input at (p, n) and turns errors and panics into a
// status with a message, leaving the device as it was.
func call(p, n uint32, op func(in []byte) (abi.Status, error)) (st int32) {
	out = out[:0]
	defer func() {
		if r := recover(); r != nil {
			st = fail(abi.Internal, "internal error")
		}
	}()
	in, ok := input(p, n)
	if !ok && n > 0 {
		return fail(abi.BadInput, "input not in a buffer from tailor_alloc")
	}
	s, err := op(in)
	// Let the runtime's background goroutines (GC mark workers, sweeper)
	// run before control returns to the host: a reactor's goroutines only
	// run inside export calls, and without this a GC cycle could start and
	// never finish, letting the heap grow until memory runs out.
	runtime.Gosched()
	if err != nil {
		return fail(s, err.Error())
	}
	return int32(abi.OK)
}

func fail(s abi.Status, msg string) int32 {
	out = append(out[:0], msg...)
	return int32(s)
}

func ready() (abi.Status, error) {
	if dev == nil {
		return abi.NotReady, abi.ErrNotReady
	}
	return abi.OK, nil
}

// decode reads one whole document from in with read. The guest calls wire
// types' methods directly, never through wire.Marshal's interfaces, so the
// linker can drop the methods the guest does not use.
func decode(in []byte, what string, read func(r *msgp.Reader)) error {
	r := msgp.NewReader(in)
	read(r)
	return wire.Finish(r, what)
}

//go:wasmexport tailor_init
func initDevice(p, n uint32) int32 {
	return call(p, n, func(in []byte) (abi.Status, error) {
		var cfg wire.Config
		if err := decode(in, "config", cfg.DecodeFrom); err != nil {
			return abi.BadInput, err
		}
		if dev == nil {
			dev = device.New(cfg, platformRand{})
		} else {
			dev.Reset(cfg)
		}
		return abi.OK, nil
	})
}

//go:wasmexport tailor_weights
func applyWeights(p, n uint32) int32 {
	return call(p, n, func(in []byte) (abi.Status, error) {
		if s, err := ready(); err != nil {
			return s, err
		}
		var w wire.Weights
		if err := decode(in, "weights", w.DecodeFrom); err != nil {
			return abi.BadInput, err
		}
		if err := dev.ApplyWeights(&w); err != nil {
			return abi.BadInput, err
		}
		return abi.OK, nil
	})
}

//go:wasmexport tailor_track
func track(p, n uint32) int32 {
	return call(p, n, func(in []byte) (abi.Status, error) {
		if s, err := ready(); err != nil {
			return s, err
		}
		var e wire.Event
		if err := decode(in, "event", e.DecodeFrom); err != nil {
			return abi.BadInput, err
		}
		dev.Track(&e)
		return abi.OK, nil
	})
}

//go:wasmexport tailor_rank
func rank(p, n uint32) int32 {
	return call(p, n, func(in []byte) (abi.Status, error) {
		if s, err := ready(); err != nil {
			return s, err
		}
		var q wire.RankRequest
		if err := decode(in, "rank request", q.DecodeFrom); err != nil {
			return abi.BadInput, err
		}
		res := dev.Rank(&q)
		writer.Reset()
		res.EncodeTo(writer)
		out = writer.Bytes()
		return abi.OK, nil
	})
}

//go:wasmexport tailor_take_delta
func takeDelta() int32 {
	return call(0, 0, func([]byte) (abi.Status, error) {
		if s, err := ready(); err != nil {
			return s, err
		}
		if d, ok := dev.TakeDelta(); ok {
			writer.Reset()
			d.EncodeTo(writer)
			out = writer.Bytes()
		}
		return abi.OK, nil
	})
}

//go:wasmexport tailor_save_profile
func saveProfile() int32 {
	return call(0, 0, func([]byte) (abi.Status, error) {
		if s, err := ready(); err != nil {
			return s, err
		}
		out = dev.SaveProfile()
		return abi.OK, nil
	})
}

//go:wasmexport tailor_load_profile
func loadProfile(p, n uint32) int32 {
	return call(p, n, func(in []byte) (abi.Status, error) {
		if s, err := ready(); err != nil {
			return s, err
		}
		if err := dev.LoadProfile(in); err != nil {
			return abi.BadInput, err
		}
		return abi.OK, nil
	})
}

//go:wasmexport tailor_forget
func forget() int32 {
	return call(0, 0, func([]byte) (abi.Status, error) {
		if s, err := ready(); err != nil {
			return s, err
		}
		dev.Forget()
		return abi.OK, nil
	})
}
