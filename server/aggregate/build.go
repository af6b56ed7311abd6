package aggregate

import (
	"cmp"
	"math"
	"slices"

	"github.com/tailorhq/tailor/sdk/ldp"
	"github.com/tailorhq/tailor/sdk/wire"
)

// Noise draws the noise added to released sums; nil adds none.
type Noise func() float64

// released is one pair's released (decayed, maybe noisy) sum.
type released struct {
	key pairKey
	v   float64
	co  bool // over the floor only with the reverse pair's deltas: co-occurrence only
	// oneWay: the pair and its reverse fall short of the pair share of the
	// to-item's support, so the pair adds nothing to the to-item's list.
	oneWay bool
}

// Weights builds the items of a model version from the aggregate's clear
// sums (federated): for each item its popularity (0-1, relative to the
// most popular) and its top-K neighbours, scored from the sequential-rule
// sums (from → to) plus co-occurrence (the pair in either direction),
// normalized to 0-1 per item.
//
// A pair or an item is released only with at least MinCohort contributing
// deltas; with noise (central DP), its decayed sum plus noise() must also
// clear p.Threshold() (DP selection), and only noisy sums are used from
// then on. A pair must also carry, with its reverse (a co-occurrence),
// PairShare of its from-item's released support, or PairCap; it adds
// co-occurrence to its to-item's list only if it carries as much of the
// to-item's support. Items come back sorted by id.
//
// The floor of a pair counts its deltas in both directions: a → b below it
// still feeds the co-occurrence of a and b when a → b and b → a together
// have the deltas (a delta counts in one direction only, see Fold), but it
// adds to the sequential score only with the deltas on its own. A session's
// items are clicked in either order, so the co-occurrence of a pair comes
// over the floor long before each of its directions does (yoochoose-100k:
// HR@20 .491 → .517).
func (s *State) Weights(p *Params, noise Noise) []wire.ItemWeights {
	k := uint32(p.MinCohort)
	f := s.realFactor()
	threshold := p.Threshold()
	release := func(a acc) (float64, bool) {
		v := a.sum * f
		if noise != nil {
			v += noise()
		}
		return v, v > threshold && v > 0
	}
	keys := make([]pairKey, 0, len(s.pairs))
	kp := max(k, uint32(p.PairCohort))
	co := map[pairKey]bool{}
	for key, a := range s.pairs {
		if a.n >= kp {
			keys = append(keys, key)
		} else if a.n+s.pairs[pairKey{key.to, key.from}].n >= kp {
			keys = append(keys, key)
			co[key] = true
		}
	}
	// Canonical order, so that noise draws and float sums are reproducible.
	slices.SortFunc(keys, func(a, b pairKey) int { return cmp.Or(cmp.Compare(a.from, b.from), cmp.Compare(a.to, b.to)) })
	pairs := make([]released, 0, len(keys))
	for _, key := range keys {
		if v, ok := release(s.pairs[key]); ok {
			pairs = append(pairs, released{key: key, v: v, co: co[key]})
		}
	}
	ids := make([]string, 0, len(s.items))
	for id, a := range s.items {
		if a.n >= k {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	pops := map[string]float64{}
	for _, id := range ids {
		if v, ok := release(s.items[id]); ok {
			pops[id] = v
		}
	}
	return assemble(p, pops, pairs)
}

// assemble turns released item and pair values into item weights; it sees
// only what was released (post-processing).
func assemble(p *Params, pops map[string]float64, pairs []released) []wire.ItemWeights {
	var cut []released // over k, under the pair share
	if p.PairShare > 0 {
		// A from-item's support: its released pair sums, or its released
		// popularity if larger (an attacker's pairs add to the first).
		support := map[string]float64{}
		for _, r := range pairs {
			support[r.key.from] += r.v
		}
		for id, v := range pops {
			support[id] = max(support[id], v)
		}
		// A pair's share counts both its directions (a co-occurrence):
		// a delta counts in one only, so planting costs as many deltas.
		reverse := map[pairKey]float64{}
		for _, r := range pairs {
			reverse[pairKey{r.key.to, r.key.from}] = r.v
		}
		kept := pairs[:0]
		for _, r := range pairs {
			if both := r.v + reverse[r.key]; both >= min(p.PairShare*support[r.key.from], p.PairCap) {
				// Its co-occurrence in the to-item's list meets the same
				// test against the to-item's support: else b → a, checked
				// against the attacker's b alone, would plant b after a
				// popular a with k deltas.
				r.oneWay = both < min(p.PairShare*support[r.key.to], p.PairCap)
				kept = append(kept, r)
			} else if p.ShareFill > 0 && p.PairShare*support[r.key.from] < p.PairCap {
				cut = append(cut, r) // the share cut it, not the cap: a fill
			}
		}
		pairs = kept
	}
	top := 0.0
	for _, v := range pops {
		top = max(top, v)
	}
	all := map[string]*wire.ItemWeights{}
	get := func(id string) *wire.ItemWeights {
		it := all[id]
		if it == nil {
			it = &wire.ItemWeights{ID: id}
			all[id] = it
		}
		return it
	}
	for id, v := range pops {
		get(id).Pop = quantize(v / top)
	}
	best := map[string]float64{} // each list's strongest score, its 1
	for from, m := range scoreLists(pairs, p) {
		nbs := make([]wire.Neighbor, 0, len(m))
		for to, v := range m {
			best[from] = max(best[from], v)
			nbs = append(nbs, wire.Neighbor{ID: to, W: float32(v)})
		}
		slices.SortFunc(nbs, func(a, b wire.Neighbor) int { return cmp.Or(cmp.Compare(b.W, a.W), cmp.Compare(a.ID, b.ID)) })
		nbs = nbs[:min(len(nbs), p.Neighbors)]
		for i := range nbs {
			nbs[i].W = quantize(float64(m[nbs[i].ID]) / best[from])
		}
		get(from).Next = nbs
	}
	direct := make(map[string][]wire.Neighbor, len(all))
	for id, it := range all {
		direct[id] = it.Next
	}
	if len(cut) > 0 {
		fillCut(get, scoreLists(cut, p), best, p)
	}
	secondHop(all, direct, p)
	out := make([]wire.ItemWeights, 0, len(all))
	for _, it := range all {
		out = append(out, *it)
	}
	slices.SortFunc(out, func(a, b wire.ItemWeights) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// scoreLists sums the pairs' scores into lists by from-item: (1+β)·s(a→b)
// for b after a, β·s(a→b) for a after b; only the β parts for a pair over
// the floor with its reverse's deltas (r.co), and none for a after b when
// the pair is short of b's pair share (r.oneWay).
func scoreLists(pairs []released, p *Params) map[string]map[string]float64 {
	scores := map[string]map[string]float64{}
	add := func(from, to string, v float64) {
		m := scores[from]
		if m == nil {
			m = map[string]float64{}
			scores[from] = m
		}
		m[to] += v
	}
	for _, r := range pairs {
		if r.co {
			if p.CoOccurrence > 0 {
				add(r.key.from, r.key.to, p.CoOccurrence*r.v)
				if !r.oneWay {
					add(r.key.to, r.key.from, p.CoOccurrence*r.v)
				}
			}
			continue
		}
		add(r.key.from, r.key.to, (1+p.CoOccurrence)*r.v)
		if p.CoOccurrence > 0 && !r.oneWay {
			add(r.key.to, r.key.from, p.CoOccurrence*r.v)
		}
	}
	return scores
}

// fillCut fills the free places of each neighbour list (under
// p.Neighbors) with the pairs over k that the pair share cut under the
// pair cap (scores), strongest first, after the direct neighbours, at
// p.ShareFill times their score over the list's strongest (best; their
// own strongest for an item with no direct neighbour). Like the second
// hop it leaves a full list as it is.
func fillCut(get func(string) *wire.ItemWeights, scores map[string]map[string]float64, best map[string]float64, p *Params) {
	for from, m := range scores {
		it := get(from)
		free := p.Neighbors - len(it.Next)
		if free <= 0 {
			continue
		}
		for _, nb := range it.Next {
			delete(m, nb.ID)
		}
		b := best[from]
		fill := make([]wire.Neighbor, 0, len(m))
		for to, v := range m {
			fill = append(fill, wire.Neighbor{ID: to, W: float32(v)})
			if best[from] == 0 {
				b = max(b, v)
			}
		}
		slices.SortFunc(fill, func(a, b wire.Neighbor) int { return cmp.Or(cmp.Compare(b.W, a.W), cmp.Compare(a.ID, b.ID)) })
		fill = fill[:min(len(fill), free)]
		for i := range fill {
			fill[i].W = quantize(p.ShareFill * m[fill[i].ID] / b)
		}
		it.Next = append(slices.Clip(it.Next), fill...)
	}
}

// secondHop fills the free places of each neighbour list (under
// p.Neighbors) with the item's second hop, scored p.Hop·w(a→b)·w(b→c)
// summed over the direct neighbours b, strongest first, after the direct
// neighbours and the pair share's fill (see Params.Hop). It walks only
// the direct lists (direct, before any fill), so a filler never leads to
// another, and leaves a full list as it is: a
// popular item's list, the one an attacker most wants, keeps only pairs
// that cleared its own floors.
func secondHop(all map[string]*wire.ItemWeights, direct map[string][]wire.Neighbor, p *Params) {
	if !(p.Hop > 0) {
		return
	}
	fill := map[string]float64{}
	for id, it := range all {
		nbs := it.Next // the direct neighbours and the share's fill
		if len(direct[id]) == 0 || len(nbs) >= p.Neighbors {
			continue
		}
		clear(fill)
		fill[id] = -1 // the item itself and its neighbours are no fillers
		for _, b := range nbs {
			fill[b.ID] = -1
		}
		for _, b := range direct[id] {
			for _, c := range direct[b.ID] {
				if v := fill[c.ID]; v >= 0 {
					fill[c.ID] = v + p.Hop*float64(b.W)*float64(c.W)
				}
			}
		}
		hops := make([]wire.Neighbor, 0, len(fill))
		for to, v := range fill {
			if v > 0 {
				hops = append(hops, wire.Neighbor{ID: to, W: quantize(v)})
			}
		}
		slices.SortFunc(hops, func(a, b wire.Neighbor) int {
			return cmp.Or(cmp.Compare(fill[b.ID], fill[a.ID]), cmp.Compare(a.ID, b.ID))
		})
		it.Next = append(slices.Clip(nbs), hops[:min(len(hops), p.Neighbors-len(nbs))]...)
	}
}

// WeightsLDP builds the items of a federated+ldp site's version from its
// LDP reports: the item frequencies estimated over catalog (the site's
// public catalogue: the server never learns which items a device saw, so
// it can only ask about candidates), then the pairs among the LDPTopItems
// items estimated most frequent. Items are selected at false discovery
// rate LDPFDR (Benjamini-Hochberg over the catalogue) and must clear LDPZ
// standard deviations; pairs must clear LDPZ, more over many candidates
// (ldpZ). The estimates are post-processing of ε-LDP reports: no central
// noise is needed, and k does not apply.
func (s *State) WeightsLDP(p *Params, catalog []string) []wire.ItemWeights {
	pops := map[string]float64{}
	var top []released // items by estimate
	if items := newOracle(s.olhItems, s.ldpItems, wire.LDPItemShare); items.ok() {
		sd := items.stdDev()
		for _, id := range catalog {
			if _, dup := pops[id]; dup {
				continue
			}
			if v := items.estimate(id); v > p.LDPZ*sd && v > 0 {
				pops[id] = v
				top = append(top, released{key: pairKey{from: id}, v: v})
			}
		}
		slices.SortFunc(top, func(a, b released) int { return cmp.Or(cmp.Compare(b.v, a.v), cmp.Compare(a.key.from, b.key.from)) })
		n := selectFDR(top, sd, len(catalog), p.LDPFDR)
		for _, r := range top[n:] {
			delete(pops, r.key.from)
		}
		top = top[:n]
	}
	top = top[:min(len(top), p.LDPTopItems)]
	var pairs []released
	if o := newOracle(s.olhPairs, s.ldpPairs, 1-wire.LDPItemShare); o.ok() && len(top) > 1 {
		min := ldpZ(p.LDPZ, len(top)*(len(top)-1)) * o.stdDev()
		for _, a := range top {
			for _, b := range top {
				if a.key.from == b.key.from {
					continue
				}
				if v := o.estimate(ldp.PairValue(a.key.from, b.key.from)); v > min && v > 0 {
					pairs = append(pairs, released{key: pairKey{a.key.from, b.key.from}, v: v})
				}
			}
		}
	}
	return assemble(p, pops, pairs)
}

// oracle estimates how many deltas reported a value of one kind, from the
// OLH table and the Hadamard sketch of older deltas, either possibly nil.
// Only a share of the OLH reports are of the kind (the device's coin), so
// their estimate counts 1/share deltas each: both parts then estimate
// deltas, and add up, as do their variances.
type oracle struct {
	olh   *ldp.Table
	had   *ldp.Oracle
	share float64
}

func newOracle(t *ldp.Table, sk *ldp.Sketch, share float64) oracle {
	o := oracle{olh: t, share: share}
	if sk != nil {
		o.had = sk.Oracle()
	}
	return o
}

func (o oracle) ok() bool { return o.olh != nil || o.had != nil }

func (o oracle) estimate(v string) float64 {
	e := 0.0
	if o.olh != nil {
		e += o.olh.Estimate(v) / o.share
	}
	if o.had != nil {
		e += o.had.Estimate(v)
	}
	return e
}

func (o oracle) stdDev() float64 {
	v := 0.0
	if o.olh != nil {
		v += math.Pow(o.olh.StdDev()/o.share, 2)
	}
	if o.had != nil {
		v += math.Pow(o.had.StdDev(), 2)
	}
	return math.Sqrt(v)
}

// selectFDR returns how many of the estimates (sorted, largest first, each
// with standard deviation sd) the Benjamini-Hochberg procedure keeps among
// n candidates at false discovery rate q: the largest k whose one-sided
// p-value is at most k·q/n. Over a catalogue of thousands, bounding the
// chance of any false item (Bonferroni, ldpZ) keeps only the very top:
// YOOCHOOSE 1/64's tuning split at ε = 4 published 4 items; at q = 0.2,
// 11 (about 2 of them expected noise), and devices fill their lists with
// them (HR@20 .280 → .296, measured through the Go device).
func selectFDR(est []released, sd float64, n int, q float64) int {
	if !(sd > 0) {
		return len(est)
	}
	k := 0
	for i, r := range est {
		if pv := 0.5 * math.Erfc(r.v/sd/math.Sqrt2); pv <= float64(i+1)*q/float64(n) {
			k = i + 1
		}
	}
	return k
}

// ldpZ is the z an estimate must clear among n candidates: at least z, and
// enough that all n candidates' noise clears it with probability 5% at
// most (Bonferroni): over a large catalogue, 3σ of noise is common.
func ldpZ(z float64, n int) float64 {
	if n < 1 {
		return z
	}
	return max(z, math.Sqrt2*math.Erfcinv(2*0.05/float64(n)))
}

// Quantum is the step weights are rounded to: devices need no finer
// strengths, and rounding keeps a shard's bytes, and so its URL, unchanged
// across versions when nothing in it moved noticeably.
const Quantum = 1.0 / 256

// quantize rounds a 0-1 strength to Quantum, keeping positive ones
// positive.
func quantize(v float64) float32 {
	q := math.Round(v/Quantum) * Quantum
	return float32(min(1, max(q, Quantum)))
}
