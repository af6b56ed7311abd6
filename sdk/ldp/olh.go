package ldp

import (
	"math"

	"github.com/tailorhq/tailor/sdk/wire"
)

// Seeds is the size of the public family of hash functions OLH reports
// draw from (wire.LDPSeeds, a power of two).
const Seeds = wire.LDPSeeds

// Buckets is the number of hash buckets g an OLH report at budget eps
// randomizes over: round(e^ε)+1, the variance-optimal choice (Wang et al.
// 2017), at least 2 and at most wire.LDPMaxBuckets (past ε ≈ 4.8 the cap
// costs a little variance and bounds the server's table). The device and
// the server must agree on it: both derive it from the site's ε.
func Buckets(eps float64) int {
	if !(eps > 0) {
		return 2
	}
	g := math.Floor(math.Exp2(eps*math.Log2E)+0.5) + 1 // Exp2 and Floor, not Exp and Round: the guest links them already
	return int(max(2, min(g, wire.LDPMaxBuckets)))
}

// Encode makes one ε-LDP optimized-local-hashing report about value: a
// uniformly random public hash function s (the report's Row), and the
// bucket h_s(value) among Buckets(eps), kept with probability
// e^ε/(e^ε+g-1) and otherwise replaced by one of the g-1 other buckets,
// uniformly (the report's Col). Whatever the value, every (Row, Col) is
// possible, and two values make a given report at most e^ε times more or
// less likely: the report is ε-LDP, keys included. eps must be the site's
// ε (the server debiases with it); +Inf makes an exact report.
func Encode(kind wire.ReportKind, value string, eps float64, rnd Random) wire.Report {
	return encode(kind, Hash64(value), Buckets(eps), keepThreshold(eps), rnd)
}

// Noise makes a report about nothing at the site's budget eps: a random
// hash function and a (nearly) uniformly random bucket among
// Buckets(eps). A device sends it when it has no value of the kind its
// coin chose, so that what it sends never depends on whether it had one;
// it spends no budget and leaves every estimate unbiased (the server
// subtracts 1/g of every report).
func Noise(kind wire.ReportKind, eps float64, rnd Random) wire.Report {
	g := Buckets(eps)
	return encode(kind, 0, g, uniformThreshold(g), rnd)
}

// encode draws the seed, then keeps the value's bucket when a 53-bit draw
// falls below keep, else moves it by 1 + a uniform draw of g-1 (so it
// lands on one of the other buckets).
func encode(kind wire.ReportKind, h uint64, g int, keep uint64, rnd Random) wire.Report {
	s := rnd.Uint64() % Seeds
	y := Bucket(h, int(s), g)
	if rnd.Uint64()>>11 >= keep {
		y = (y + 1 + int(rnd.Uint64()%uint64(g-1))) % g
	}
	return wire.Report{Kind: kind, Row: uint16(s), Col: uint16(y)}
}

// Hash64 is the seed-independent part of the hash family: FNV-1a 64 over
// the value's bytes. The guest and the server must agree on it bit for
// bit; a test pins its values.
func Hash64(value string) uint64 {
	const (
		offset = 14695981039346656037
		prime  = 1099511628211
	)
	h := uint64(offset)
	for i := 0; i < len(value); i++ {
		h ^= uint64(value[i])
		h *= prime
	}
	return h
}

// Bucket is h_s, hash function s of the public family, of a value whose
// Hash64 is h, among g buckets: splitmix64's mixer over h + (s+1)·γ, then
// its top 32 bits times g, shifted (a bias of at most g/2^32; no 128-bit
// product, which wasm lacks). The server evaluates it for every seed and
// candidate, so it is a few multiplications, not a pass over the value.
func Bucket(h uint64, s, g int) int {
	x := h + uint64(s+1)*0x9e3779b97f4a7c15
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return int((x >> 32) * uint64(g) >> 32)
}

// keepThreshold is the number of 53-bit draws (out of 2^53) that keep the
// true bucket: floor(2^53·e^ε/(e^ε+g-1)), lowered by a relative 1e-9 to
// absorb the rounding of Exp2 and the division, so the kept bucket's
// probability never exceeds e^ε times another's; the test checks it
// exactly. eps <= 0 or NaN keeps with probability 1/g (a report about
// nothing), +Inf always.
func keepThreshold(eps float64) uint64 {
	const one = 1 << 53
	g := Buckets(eps)
	if !(eps > 0) {
		return uniformThreshold(g)
	}
	e := math.Exp2(eps * math.Log2E) // Exp2, not Exp: the guest already links Exp2 (profile decay), and each costs ~330 bytes of brotli
	if math.IsInf(e, 1) {
		return one
	}
	p := e / (e + float64(g-1))
	return uint64(math.Floor(p * one * (1 - 1e-9)))
}

// uniformThreshold keeps the true bucket with probability about 1/g, so
// that the bucket is (almost exactly) uniform: the other g-1 share the
// rest.
func uniformThreshold(g int) uint64 { return (1 << 53) / uint64(g) }
