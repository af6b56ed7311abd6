package aggregate

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/tailorhq/tailor/sdk/delta"
	"github.com/tailorhq/tailor/sdk/wire"
	"github.com/tailorhq/tailor/server/store"
)

// Noise mechanisms for the sums a version releases.
// ErrParams is the error of invalid aggregation parameters.
var ErrParams = errors.New("invalid parameters")

const (
	NoiseNone     = "none"
	NoiseGaussian = "gaussian"
)

// Params are the aggregation's defences and shape. DefaultParams suit a
// store's catalogue; each field says what it bounds.
type Params struct {
	// ClipWeight is what one delta's entry (a pair or an item) counts:
	// binary counting, whatever weight the delta claims, as long as it is
	// positive. A delta counts at most once per pair and per item, so
	// maximal weights buy an attacker nothing.
	ClipWeight float64
	// ClipItem bounds what one delta's pairs put into any one item (the
	// pairs leading to it) and out of it (the pairs leading from it): the
	// pairs over it are scaled down. A device pushing one item
	// concentrates its pairs there and is held to ClipItem.
	ClipItem float64
	// ClipL1 bounds the L1 norm of one delta's pairs, and separately of its
	// items: a delta over it is scaled down to it. With ClipWeight and
	// MaxPairs/MaxItems it bounds a delta's L2 norm: the sensitivity of the
	// central DP noise (Sensitivity).
	ClipL1 float64
	// MaxPairs and MaxItems cap how many pairs and items of one delta count
	// (its strongest): the per-delta contribution caps. The defaults are
	// what a device sends (sdk/delta): a crafted delta counts no more than
	// an honest one, and the central DP sensitivity is an honest delta's.
	MaxPairs, MaxItems int
	// MaxImpressions, MaxClicks and MaxConversions cap one delta's per-arm
	// counts in the uplift report; clicks also never count above
	// impressions, nor conversions above clicks.
	MaxImpressions, MaxClicks, MaxConversions uint32
	// MinCohort is k: a pair or an item is published only once at least k
	// distinct deltas contributed to it. Deltas are unlinkable, so k counts
	// deltas, not devices: k deltas can come from one attacker. It is a
	// floor, not a privacy guarantee; central DP (Noise) is.
	MinCohort int
	// PairCohort raises the floor for pairs: a pair is published only once
	// this many deltas carried it (k if lower). Planting a pair after an
	// item few visitors see costs that many deltas.
	PairCohort int
	// PairShare is the share of its from-item's pair support (the decayed
	// count of deltas with any pair out of it) a pair needs, with its
	// reverse (a delta counts in one direction only), to be a
	// neighbour: planting a pair after a popular item then takes many
	// deltas, not k. A pair b → a adds co-occurrence to a's list only
	// with the same share of a's support (else b → a, checked against
	// the attacker's b alone, would plant b after a with k deltas).
	PairShare float64
	// PairCap caps what PairShare asks of a pair, in (decayed) deltas: past
	// it, a popular item's long tail of neighbours stays.
	PairCap float64
	// ShareFill lets the pairs over k that the pair share cut fill the
	// free places of a short neighbour list, after its direct neighbours,
	// at ShareFill times their score (the list's strongest being 1); 0:
	// a cut pair is dropped (the default). Only an item whose share is
	// under PairCap (support under PairCap/PairShare) gets the fill, and
	// only in a list that is not full. It is post-processing of pairs over
	// k, but it lowers what planting a pair costs to k after every item
	// under that support: on the demo with the blocks guest, after its
	// most popular item too (RATIONALE: "Which server levers did issue
	// 12's sweep try...").
	ShareFill float64
	// Neighbors is K, how many neighbours each item keeps (at most
	// wire.MaxNeighbors).
	Neighbors int
	// CoOccurrence weighs co-occurrence (a pair in either direction)
	// against the sequential rule (from → to), which counts 1.
	CoOccurrence float64
	// Hop fills the free places of a short neighbour list (under
	// Neighbors) with the item's second hop: c after a when a → b and
	// b → c are both published, scored Hop·w(a→b)·w(b→c) summed over the
	// b's, after every direct neighbour. It is composed from the published
	// lists only (post-processing: it lets out nothing k did not), and
	// leaves a full list as it is. 0: no second hop. On DIGINETICA the k
	// floor leaves about two neighbours per item, and the item a session
	// goes on to is among its items' lists for 41% of the clicks, 48%
	// with the second hop (RATIONALE: "Why does the server fill short neighbour lists...").
	Hop float64
	// HalfLife is the half-life of every sum: a delta counts 2^(-age/HalfLife),
	// so old input, poisoned or not, fades. 0: no decay.
	HalfLife time.Duration
	// Shards is how many shards by item a version's weights are split
	// into; 0 chooses it from the model's size (ChooseLayout): shards of
	// about ShardBytes encoded bytes. HeadItems is how many of the most
	// popular items go into a head shard every device fetches, when there
	// is more than one shard: the default is the device's own list of
	// popular items (model.TopN, the fill of a slot without candidates).
	// yoochoose-100k, replay of train_valid, HR@20 / MRR@20 and model bytes
	// per device: 100 items .5430 / .3454, 9.3 kB; 200 .5464 / .3457,
	// 11.0 kB; the whole model .5472 / .3464, 24.2 kB. ShardBytes (4 KiB)
	// trades the manifest, ~35 brotli bytes a shard every device
	// downloads (~18 since a shard is named by 128 bits), against the
	// shards a first page fetches: model body bytes of a first / later
	// page view on the 40,000-item demo
	// (demo-site/e2e/large, 20,000 shoppers) at 8 KiB, 128 shards: 44,950
	// / 1,878; 4 KiB, 256: 36,841 / 1,308; 2 KiB, 512: 37,643 / 896;
	// 1 KiB, 1,024: 49,997 / 828. DIGINETICA (replay of train_valid,
	// 1,000 sessions: a first page is one product): 8 KiB, 256 shards,
	// 27,671 / 3,169; 4 KiB, 512: 34,117 / 1,684, and 25,956 / 1,686 once
	// shards are named by 128 bits (40,000-item demo, 4 KiB: 32,841 /
	// 1,299).
	Shards, ShardBytes, HeadItems int
	// KeepPairs, KeepItems and KeepBytes bound the memory of a site's
	// aggregate: past any of them, the entries with the fewest
	// contributors (then the weakest) are pruned, and the ids only they
	// used with them.
	KeepPairs, KeepItems int
	KeepBytes            int64
	// LDPReports is how many of a federated+ldp delta's reports count (the
	// first ones); LDPTopItems bounds the items among which pairs are
	// estimated (their pairs are LDPTopItems² candidates); LDPZ is the
	// one-sided z an estimate must clear (in standard deviations) to be
	// published.
	LDPReports, LDPTopItems int
	LDPZ                    float64
	// LDPFDR is the false discovery rate at which items are published
	// from the LDP estimates (Benjamini-Hochberg over the catalogue; see
	// selectFDR): the expected share of published items that are noise.
	LDPFDR float64
	// LDPEpsilon is the site's ε per federated+ldp delta. The aggregator
	// sets it in each site's copy of the parameters (it is no flag): 0
	// means the site is not federated+ldp, and its reports count nothing.
	LDPEpsilon float64
	// Noise is the central DP mechanism: "none", or "gaussian" noise on
	// every released sum with DP selection of the keys published.
	// Epsilon and Delta are the budget of all the versions published in
	// any DPWindow, which holds at most DPReleases of them; past it,
	// publication stops (the last version keeps being served).
	Noise          string
	Epsilon, Delta float64
	DPWindow       time.Duration
	DPReleases     int
}

// DefaultParams are the defaults of the server's flags.
var DefaultParams = Params{
	ClipWeight: 1, ClipItem: 3, ClipL1: 16, MaxPairs: delta.SampledPairs, MaxItems: delta.SampledItems,
	MaxImpressions: 50, MaxClicks: 5, MaxConversions: 1, // the device's own caps (sdk/delta)
	MinCohort: 5, PairShare: 0.1, PairCap: 20, Neighbors: 20, CoOccurrence: 0.5, Hop: 0.1, HalfLife: 7 * 24 * time.Hour, Shards: 0, ShardBytes: 4 << 10, HeadItems: 200,
	KeepPairs: 1 << 20, KeepItems: 1 << 17, KeepBytes: 256 << 20,
	LDPReports: 4, LDPTopItems: 200, LDPZ: 3, LDPFDR: 0.2,
	Noise: NoiseNone, DPWindow: 7 * 24 * time.Hour, DPReleases: 168,
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
	case !(p.PairShare >= 0 && p.PairShare < 1) || !(p.PairCap >= 0) || p.PairCohort < 0:
		return bad("pair share %v, cap %v, cohort %d: need 0 <= share < 1, cap >= 0, cohort >= 0", p.PairShare, p.PairCap, p.PairCohort)
	case p.Neighbors < 1 || p.Neighbors > wire.MaxNeighbors:
		return bad("neighbours %d: need 1-%d", p.Neighbors, wire.MaxNeighbors)
	case !(p.CoOccurrence >= 0 && p.CoOccurrence <= 10):
		return bad("co-occurrence weight %v: need 0-10", p.CoOccurrence)
	case !(p.ShareFill >= 0 && p.ShareFill <= 1):
		return bad("pair share's fill weight %v: need 0-1", p.ShareFill)
	case !(p.Hop >= 0 && p.Hop <= 1):
		return bad("second hop weight %v: need 0-1", p.Hop)
	case p.HalfLife != 0 && p.HalfLife < time.Minute:
		return bad("half-life %v: need 0 (no decay) or at least a minute", p.HalfLife)
	case p.Shards < 0 || p.Shards > MaxShards || p.ShardBytes < 1<<10 || p.HeadItems < 0 || p.HeadItems > wire.MaxWeightsItems:
		return bad("shards %d of %d bytes, head %d items: need 0 (by size) to %d shards, >= 1 KiB and 0-%d items", p.Shards, p.ShardBytes, p.HeadItems, MaxShards, wire.MaxWeightsItems)
	case p.KeepPairs < 1000 || p.KeepItems < 100 || p.KeepItems > wire.MaxWeightsItems || p.KeepBytes < 1<<20:
		return bad("keep %d pairs, %d items, %d bytes: need >= 1000, 100-%d and >= 1 MiB", p.KeepPairs, p.KeepItems, p.KeepBytes, wire.MaxWeightsItems)
	case p.LDPReports < 1 || p.LDPReports > wire.MaxDeltaReports || p.LDPTopItems < 1 || p.LDPTopItems > 1000 || !(p.LDPZ >= 0 && p.LDPZ <= 10):
		return bad("LDP: %d reports, %d top items, z %v: need 1-%d, 1-1000 and 0-10", p.LDPReports, p.LDPTopItems, p.LDPZ, wire.MaxDeltaReports)
	case !(p.LDPFDR > 0 && p.LDPFDR <= 0.5):
		return bad("LDP false discovery rate %v: need 0 < rate <= 0.5", p.LDPFDR)
	}
	switch p.Noise {
	case NoiseNone:
	case NoiseGaussian:
		if !(p.Epsilon > 0 && p.Epsilon <= 100) || !(p.Delta > 0 && p.Delta < 0.01) || p.DPWindow < time.Minute || p.DPReleases < 1 {
			return bad("gaussian noise needs 0 < epsilon <= 100, 0 < delta < 0.01, a window >= 1m and >= 1 release per window")
		}
	default:
		return bad("noise %q is not none or gaussian", p.Noise)
	}
	return nil
}

// Sensitivity is the L2 norm one delta can add to the released sums (pairs
// and items together), in the units of a fresh delta: per part, at most
// MaxPairs (MaxItems) entries of at most ClipWeight, summing to at most
// ClipL1.
func (p *Params) Sensitivity() float64 {
	part := func(n int) float64 { return min(float64(n)*p.ClipWeight*p.ClipWeight, p.ClipWeight*p.ClipL1) }
	return math.Sqrt(part(p.MaxPairs) + part(p.MaxItems))
}

// RhoBudget is the zCDP ρ of the whole window's budget: the ρ whose
// conversion ρ + 2·sqrt(ρ·ln(2/δ)) equals Epsilon, with half of Delta
// (the other half covers the selection of keys). 0 without noise.
func (p *Params) RhoBudget() float64 {
	if p.Noise != NoiseGaussian {
		return 0
	}
	l := math.Log(2 / p.Delta)
	r := math.Sqrt(l+p.Epsilon) - math.Sqrt(l)
	return r * r
}

// Rho is the zCDP ρ of one release: the window's budget over DPReleases.
func (p *Params) Rho() float64 {
	if p.Noise != NoiseGaussian {
		return 0
	}
	return p.RhoBudget() / float64(p.DPReleases)
}

// Sigma is the standard deviation of the Gaussian noise on each released
// sum: Δ/sqrt(2ρ) for the per-release ρ; 0 without noise.
func (p *Params) Sigma() float64 {
	if p.Noise != NoiseGaussian {
		return 0
	}
	return p.Sensitivity() / math.Sqrt(2*p.Rho())
}

// Threshold is what a key's noisy sum must exceed to be published with
// noise on: k·ClipWeight plus z·σ, z such that the keys one delta could
// make appear (at most MaxPairs+MaxItems) all stay hidden except with
// probability δ/2 over the window's releases. 0 without noise.
func (p *Params) Threshold() float64 {
	if p.Noise != NoiseGaussian {
		return 0
	}
	keys := float64(p.MaxPairs + p.MaxItems)
	tail := p.Delta / 2 / float64(p.DPReleases) / keys // P(N(0,1) > z)
	z := math.Sqrt2 * math.Erfcinv(2*tail)
	return float64(p.MinCohort)*p.ClipWeight + z*p.Sigma()
}

// EpsilonOf converts a zCDP ρ to the ε of (ε, δ)-DP at δ/2 (the other
// half of δ being the selection's).
func (p *Params) EpsilonOf(rho float64) float64 {
	if rho <= 0 {
		return 0
	}
	return rho + 2*math.Sqrt(rho*math.Log(2/p.Delta))
}

// Privacy returns the parameters recorded with a version that releases
// with ρ spent over the window so far, this release included.
func (p *Params) Privacy(windowRho float64) store.Privacy {
	pr := store.Privacy{MinCohort: p.MinCohort, ClipWeight: p.ClipWeight, ClipItem: p.ClipItem, ClipL1: p.ClipL1,
		Noise: p.Noise, HalfLife: p.HalfLife.String()}
	if p.Noise == NoiseGaussian {
		pr.Epsilon, pr.Delta, pr.Scale = p.EpsilonOf(windowRho), p.Delta, p.Sigma()
		pr.Rho, pr.Window, pr.Threshold = p.Rho(), p.DPWindow.String(), p.Threshold()
	}
	return pr
}
