// Package aggregatetest makes the deltas that tests of the aggregate and
// of its publication share.
package aggregatetest

import (
	"fmt"
	"math/rand/v2"

	"github.com/tailorhq/tailor/sdk/ldp"
	"github.com/tailorhq/tailor/sdk/wire"
)

// LDPDeltas makes n federated+ldp deltas as devices do: one OLH report at
// eps, about an item with probability wire.LDPItemShare, else about its
// pair, claiming epsilon claim. Item i ("p0", "p1", ...) is chosen with
// weight 1/(i+1); its pair is i → i+1.
func LDPDeltas(rng *rand.Rand, n int, eps, claim float32) []wire.Delta {
	ds := make([]wire.Delta, n)
	for k := range ds {
		item, next := skewed(rng)
		r := ldp.Encode(wire.ReportItem, item, float64(eps), rng)
		if rng.Float64() >= wire.LDPItemShare {
			r = ldp.Encode(wire.ReportPair, ldp.PairValue(item, next), float64(eps), rng)
		}
		ds[k] = wire.Delta{Epsilon: claim, Reports: []wire.Report{r}}
	}
	return ds
}

// HadamardDeltas makes n federated+ldp deltas as devices did before OLH
// (a store may still hold them): one Hadamard item report and one pair
// report each, at eps/2 each, over the items of LDPDeltas.
func HadamardDeltas(rng *rand.Rand, n int, eps float32) []wire.Delta {
	ds := make([]wire.Delta, n)
	for k := range ds {
		item, next := skewed(rng)
		ds[k] = wire.Delta{Epsilon: eps, Reports: []wire.Report{
			ldp.EncodeHadamard(wire.ReportItem, item, float64(eps)/2, rng),
			ldp.EncodeHadamard(wire.ReportPair, ldp.PairValue(item, next), float64(eps)/2, rng),
		}}
	}
	return ds
}

// Catalog returns the ids "p0" to "p<n-1>": the catalogue of the items
// of LDPDeltas and HadamardDeltas, of which only p0-p50 are reported.
func Catalog(n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprint("p", i)
	}
	return ids
}

// skewed draws item i with weight about 1/(i+1), and its successor.
func skewed(rng *rand.Rand) (item, next string) {
	i := int(float64(50) * rng.Float64() * rng.Float64()) // skewed to low i
	return fmt.Sprint("p", i), fmt.Sprint("p", i+1)
}
