// Package rnd is the one interface the device's randomness comes through,
// and the two draws built on it. The source is the platform's
// cryptographic generator (WASI random_get: crypto.getRandomValues in
// browsers, the host's CSPRNG in the Go harness), never state saved in the
// profile: a device's delta ids, LDP bits, sampling, exploration and
// holdout then say nothing about each other, nor survive forget().
package rnd

// Source returns uniformly random 64-bit numbers. sdk/ldp.Random is the
// same interface.
type Source interface{ Uint64() uint64 }

// Float64 returns a uniform number in [0, 1).
func Float64(r Source) float64 { return float64(r.Uint64()>>11) / (1 << 53) }

// Intn returns a number in [0, n) for n > 0 (0 otherwise). Its modulo
// bias is below n/2^64: nothing for the small n of the device.
func Intn(r Source, n int) int {
	if n <= 0 {
		return 0
	}
	return int(r.Uint64() % uint64(n))
}
