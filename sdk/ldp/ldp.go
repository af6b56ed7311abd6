// Package ldp is Tailor's ε-local differential privacy frequency oracle: a
// Hadamard Count-Mean Sketch (Apple's Differential Privacy Team, "Learning
// with Privacy at Scale", 2017).
//
// A device in federated+ldp mode does not send which items or pairs its
// visitor saw. For each sampled value it sends one wire.Report: a random
// hash row j, a random Hadamard coefficient l and one randomized bit, the
// sign of coefficient l of the one-hot vector of hash_j(value), flipped with
// probability 1/(e^ε+1). Whatever the value, every report is possible, and
// two values make a given report at most e^ε times more or less likely: the
// report is ε-LDP, keys included.
//
// The server folds many reports into a Sketch and, after a row-wise
// Hadamard transform, estimates how often any candidate value was reported
// (Oracle.Estimate), unbiased, with a standard deviation of about
// c_ε·sqrt(n) for n reports, c_ε = (e^ε+1)/(e^ε-1).
//
//	r := ldp.Encode(wire.ReportItem, "running-shoes-1", 2, rnd) // device
//	s := ldp.NewSketch()                                         // server
//	s.Add(r, 2, 1)
//	n := s.Oracle().Estimate("running-shoes-1")
//
// The device half (Encode, the hash) is imported by tailor.wasm, so this
// file stays small: no fmt, no reflection.
//
// # Notes
//
// Encode is safe for concurrent use if rnd is. A Sketch is not safe for
// concurrent use; an Oracle is read-only once built.
package ldp

import (
	"math"
	"math/bits"

	"github.com/tailorhq/tailor/sdk/wire"
)

// Random is the source of the device's choices. It must be cryptographic
// (WASI random_get): with a predictable source the server could undo the
// randomization.
type Random interface{ Uint64() uint64 }

// Rows and Cols are the sketch's dimensions (wire.LDPRows hash functions,
// wire.LDPCols Hadamard columns, a power of two).
const (
	Rows = wire.LDPRows
	Cols = wire.LDPCols
)

// PairValue is the value a ReportPair encodes for the directed pair
// from→to. Item ids cannot contain a NUL byte, so the encoding is
// unambiguous.
func PairValue(from, to string) string { return from + "\x00" + to }

// Encode makes one ε-LDP report about value. eps is the budget this report
// spends; eps <= 0 or NaN gives a pure-noise report (nothing spent), +Inf
// an exact one.
func Encode(kind wire.ReportKind, value string, eps float64, rnd Random) wire.Report {
	j := int(rnd.Uint64() % Rows)
	l := uint16(rnd.Uint64() % Cols)
	bit := sign(l, Hash(j, value))
	if rnd.Uint64()>>11 < flipThreshold(eps) {
		bit = -bit
	}
	return wire.Report{Kind: kind, Row: uint16(j), Col: l, Bit: bit}
}

// Hash is hash function j of the sketch: FNV-1a 64 over the row byte and
// the value, finished by splitmix64's mixer (FNV alone spreads its low bits
// poorly), reduced to a column. The guest and the server must agree on it
// bit for bit; testdata pins its values.
func Hash(j int, value string) uint16 {
	const (
		offset = 14695981039346656037
		prime  = 1099511628211
	)
	h := uint64(offset)
	h ^= uint64(byte(j))
	h *= prime
	for i := 0; i < len(value); i++ {
		h ^= uint64(value[i])
		h *= prime
	}
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	h ^= h >> 31
	return uint16(h & (Cols - 1))
}

// sign is entry (l, h) of the Sylvester-Hadamard matrix: (-1)^popcount(l&h).
func sign(l, h uint16) int8 {
	if bits.OnesCount16(l&h)&1 == 1 {
		return -1
	}
	return 1
}

// flipThreshold is the number of 53-bit draws (out of 2^53) that flip the
// bit: ceil(2^53/(e^eps+1)), raised by a relative 1e-9 to absorb the
// rounding of Exp and the division. The flip probability p' then stays
// above 1/(e^eps+1), so (1-p')/p' never exceeds e^eps; the test checks it
// exactly.
func flipThreshold(eps float64) uint64 {
	const one = 1 << 53
	if !(eps > 0) { // <= 0 or NaN: p = 1/2
		return one / 2
	}
	p := 1 / (math.Exp2(eps*math.Log2E) + 1) // Exp2, not Exp: the guest already links Exp2 (profile decay), and each costs ~330 bytes of brotli
	return uint64(math.Ceil(p * one * (1 + 1e-9)))
}
