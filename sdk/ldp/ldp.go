// Package ldp is Tailor's ε-local differential privacy frequency oracle:
// optimized local hashing (OLH; Wang, Blocki, Li and Jha, "Locally
// Differentially Private Protocols for Frequency Estimation", 2017) over
// a public family of hash functions.
//
// A device in federated+ldp mode does not send which items or pairs its
// visitor saw. For one sampled value it sends one wire.Report (Encode): a
// random hash function s of the family (Seeds of them) and the bucket
// h_s(value) among g = Buckets(ε), kept with probability e^ε/(e^ε+g-1)
// and otherwise moved to one of the other buckets. Whatever the value,
// every report is possible, and two values make a given report at most
// e^ε times more or less likely: the report is ε-LDP, keys included.
//
// The server counts reports per (hash function, bucket) in a Table and
// estimates how often a candidate value was reported (Table.Estimate) from
// one cell per hash function: unbiased, with a variance of about
// 4e^ε/(e^ε-1)² per report (0.076 at ε = 4).
//
//	r := ldp.Encode(wire.ReportItem, "running-shoes-1", 4, rnd) // device
//	t := ldp.NewTable(4)                                         // server
//	t.Add(r, 1)
//	n := t.Estimate("running-shoes-1")
//
// Before OLH, devices sent reports of a Hadamard Count-Mean Sketch (Apple's
// Differential Privacy Team, "Learning with Privacy at Scale", 2017): a
// random hash row j, a Hadamard coefficient l and a randomized bit, with a
// variance of about c_ε² = ((e^ε+1)/(e^ε-1))² per report, 1.7 at ε = 2.
// The server still decodes them (Sketch) while a store keeps such deltas.
//
// The device half (Encode, Noise, the hash family) is imported by
// tailor.wasm, so it stays small: no fmt, no reflection.
//
// # Notes
//
// Encode is safe for concurrent use if rnd is. Sketch and Table are not
// safe for concurrent use; an Oracle is read-only once built.
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

// Rows and Cols are the Hadamard sketch's dimensions (wire.LDPRows hash
// functions, wire.LDPCols Hadamard columns, a power of two).
const (
	Rows = wire.LDPRows
	Cols = wire.LDPCols
)

// PairValue is the value a ReportPair encodes for the directed pair
// from→to. Item ids cannot contain a NUL byte, so the encoding is
// unambiguous.
func PairValue(from, to string) string { return from + "\x00" + to }

// EncodeHadamard makes one ε-LDP Hadamard report about value, as devices
// did before OLH: the server's tests make the deltas a store may still
// hold with it; devices no longer call it. eps is the budget this report
// spends; eps <= 0 or NaN gives a pure-noise report (nothing spent), +Inf
// an exact one.
func EncodeHadamard(kind wire.ReportKind, value string, eps float64, rnd Random) wire.Report {
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
	p := 1 / (math.Exp(eps) + 1)
	return uint64(math.Ceil(p * one * (1 + 1e-9)))
}
