package aggregate

import (
	"fmt"
	"math"

	"github.com/tailorhq/tailor/sdk/wire"
	"github.com/tailorhq/tailor/server/store"
)

// Noise mechanisms for the sums a version releases.
const (
	NoiseNone     = "none"
	NoiseLaplace  = "laplace"
	NoiseGaussian = "gaussian"
)

// Params are the aggregation's defences and shape. DefaultParams suit a
// store's catalogue; each field says what it bounds.
type Params struct {
	// ClipWeight bounds one entry (a pair's or an item's weight) of one
	// delta, after duplicate entries are merged.
	ClipWeight float64
	// ClipItem bounds what one delta's pairs put into any one item (the
	// pairs leading to it) and out of it (the pairs leading from it): the
	// pairs over it are scaled down. An honest session spreads its pairs
	// (1, 1/2, 1/3... by distance: under 3 per item); a device pushing one
	// item concentrates them, and is held to ClipItem instead of ClipL1.
	ClipItem float64
	// ClipL1 bounds the L1 norm of one delta's pairs, and separately of its
	// items: a delta over it is scaled down to it. Together with
	// ClipWeight and ClipItem it bounds how far any one delta moves the
	// aggregate.
	ClipL1 float64
	// MaxPairs and MaxItems cap how many pairs and items of one delta count
	// (its strongest): the per-delta contribution caps.
	MaxPairs, MaxItems int
	// MaxImpressions, MaxClicks and MaxConversions cap one delta's per-arm
	// counts in the uplift report.
	MaxImpressions, MaxClicks, MaxConversions uint32
	// MinCohort is k: a pair or an item is published only once at least k
	// distinct deltas contributed to it.
	MinCohort int
	// Neighbors is K, how many neighbours each item keeps (at most
	// wire.MaxNeighbors).
	Neighbors int
	// CoOccurrence weighs co-occurrence (a pair in either direction)
	// against the sequential rule (from → to), which counts 1.
	CoOccurrence float64
	// Shards is how many shards a version's weights are split into.
	Shards int
	// KeepPairs and KeepItems bound the memory of a site's aggregate: past
	// them, the entries with the fewest contributors are pruned.
	KeepPairs, KeepItems int
	// Noise is the mechanism ("none", "laplace" or "gaussian") adding
	// noise to every released sum; Epsilon and Delta are its privacy
	// parameters per version (Delta for gaussian only).
	Noise          string
	Epsilon, Delta float64
}

// DefaultParams are the defaults of the server's flags.
var DefaultParams = Params{
	ClipWeight: 2, ClipItem: 3, ClipL1: 16, MaxPairs: 200, MaxItems: 100,
	MaxImpressions: 1000, MaxClicks: 100, MaxConversions: 20,
	MinCohort: 5, Neighbors: 20, CoOccurrence: 0.5, Shards: 4,
	KeepPairs: 1 << 20, KeepItems: 1 << 17, Noise: NoiseNone,
}

// Validate checks that the parameters make sense together.
func (p *Params) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("aggregate: %w: %s", ErrParams, fmt.Sprintf(format, args...))
	}
	switch {
	case !(p.ClipWeight > 0) || !(p.ClipItem >= p.ClipWeight) || !(p.ClipL1 >= p.ClipItem):
		return bad("need 0 < clip weight (%v) <= clip item (%v) <= clip L1 (%v)", p.ClipWeight, p.ClipItem, p.ClipL1)
	case p.MaxPairs < 1 || p.MaxPairs > wire.MaxDeltaPairs || p.MaxItems < 1 || p.MaxItems > wire.MaxDeltaItems:
		return bad("per-delta caps %d pairs, %d items: need 1-%d and 1-%d", p.MaxPairs, p.MaxItems, wire.MaxDeltaPairs, wire.MaxDeltaItems)
	case p.MinCohort < 1:
		return bad("minimum cohort %d: need at least 1", p.MinCohort)
	case p.Neighbors < 1 || p.Neighbors > wire.MaxNeighbors:
		return bad("neighbours %d: need 1-%d", p.Neighbors, wire.MaxNeighbors)
	case !(p.CoOccurrence >= 0 && p.CoOccurrence <= 10):
		return bad("co-occurrence weight %v: need 0-10", p.CoOccurrence)
	case p.Shards < 1 || p.Shards > 1024:
		return bad("shards %d: need 1-1024", p.Shards)
	case p.KeepPairs < 1000 || p.KeepItems < 100 || p.KeepItems > wire.MaxWeightsItems:
		return bad("keep %d pairs, %d items: need >= 1000 and 100-%d", p.KeepPairs, p.KeepItems, wire.MaxWeightsItems)
	}
	switch p.Noise {
	case NoiseNone:
	case NoiseLaplace:
		if !(p.Epsilon > 0) {
			return bad("laplace noise needs epsilon > 0")
		}
	case NoiseGaussian:
		if !(p.Epsilon > 0 && p.Epsilon <= 1) || !(p.Delta > 0 && p.Delta < 1) {
			return bad("gaussian noise needs 0 < epsilon <= 1 and 0 < delta < 1 (the classic analytic bound)")
		}
	default:
		return bad("noise %q is not none, laplace or gaussian", p.Noise)
	}
	return nil
}

// Scale returns the scale of the noise added to each released sum: the
// Laplace b or the Gaussian sigma, 0 without noise. A version releases two
// vectors (pair sums and item sums), each with half of Epsilon; one
// delta changes each by at most ClipL1 in L1 norm and sqrt(ClipL1 *
// ClipWeight) in L2 norm.
func (p *Params) Scale() float64 {
	eps := p.Epsilon / 2
	switch p.Noise {
	case NoiseLaplace:
		return p.ClipL1 / eps
	case NoiseGaussian:
		l2 := math.Sqrt(p.ClipL1 * p.ClipWeight)
		return l2 * math.Sqrt(2*math.Log(1.25/(p.Delta/2))) / eps
	}
	return 0
}

// Privacy returns the parameters recorded with each version.
func (p *Params) Privacy() store.Privacy {
	pr := store.Privacy{MinCohort: p.MinCohort, ClipWeight: p.ClipWeight, ClipItem: p.ClipItem, ClipL1: p.ClipL1, Noise: p.Noise}
	if p.Noise != NoiseNone {
		pr.Epsilon, pr.Scale = p.Epsilon, p.Scale()
		if p.Noise == NoiseGaussian {
			pr.Delta = p.Delta
		}
	}
	return pr
}
