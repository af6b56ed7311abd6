//go:build wasip1

package main

import "unsafe"

// randomGet is WASI's random_get: n bytes from the host's cryptographic
// generator (crypto.getRandomValues in the loader's shim, the host's
// CSPRNG in the Go harness). Importing it directly, rather than through
// crypto/rand, keeps tailor.wasm small.
//
//go:wasmimport wasi_snapshot_preview1 random_get
func randomGet(buf unsafe.Pointer, n uint32) uint32

// platformRand is the device's source of randomness (device.Random). It
// keeps no state: every draw asks the host, so nothing random is left in
// the guest's memory or the profile to link one delta to another.
type platformRand struct{}

// Uint64 returns 8 bytes from random_get. A host that cannot give them is
// a bug to surface, not a reason to send predictable ids: it panics, and
// call() turns that into abi.Internal with the device state unchanged.
func (platformRand) Uint64() uint64 {
	var b [8]byte
	if randomGet(unsafe.Pointer(&b[0]), uint32(len(b))) != 0 {
		panic("random_get failed")
	}
	return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
		uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
}
