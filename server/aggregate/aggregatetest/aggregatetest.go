// Package aggregatetest makes the deltas that tests of the aggregate and
// of its publication share.
package aggregatetest

import (
	"fmt"
	"math/rand/v2"

	"github.com/tailorhq/tailor/sdk/ldp"
	"github.com/tailorhq/tailor/sdk/wire"
)

// LDPDeltas makes n federated+ldp deltas as devices do: one item report and
// one pair report each, at eps/2 each, claiming epsilon claim. Item i
// ("p0", "p1", ...) is chosen with weight 1/(i+1); its pair is i → i+1.
func LDPDeltas(rng *rand.Rand, n int, eps, claim float32) []wire.Delta {
	ds := make([]wire.Delta, n)
	for k := range ds {
		i := int(float64(50) * rng.Float64() * rng.Float64()) // skewed to low i
		item, next := fmt.Sprint("p", i), fmt.Sprint("p", i+1)
		ds[k] = wire.Delta{Epsilon: claim, Reports: []wire.Report{
			ldp.Encode(wire.ReportItem, item, float64(eps)/2, rng),
			ldp.Encode(wire.ReportPair, ldp.PairValue(item, next), float64(eps)/2, rng),
		}}
	}
	return ds
}
