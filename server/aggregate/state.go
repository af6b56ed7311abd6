package aggregate

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"github.com/tailorhq/tailor/sdk/msgp"
	"github.com/tailorhq/tailor/sdk/wire"
)

// ArmTotals sums what one experiment arm showed and what came of it.
type ArmTotals struct {
	Impressions, Clicks, Conversions uint64
}

// Arms are the totals of each arm, indexed by wire.Arm.
type Arms [3]ArmTotals

type pairKey struct{ from, to string }

// acc sums one entry's clipped contributions and counts the deltas that
// made them.
type acc struct {
	sum float64
	n   uint32
}

// State is one site's aggregate: the clipped sums of every pair and item,
// how many deltas contributed to each, and the per-arm totals by the model
// version devices held. It is what a version is built from, and what is
// checkpointed with it.
//
// # Notes
//
// A State is not goroutine-safe; the Aggregator guards its own.
type State struct {
	Cursor uint64 // the last delta Seq folded
	Deltas uint64 // deltas folded
	pairs  map[pairKey]acc
	items  map[string]acc
	arms   map[uint32]*Arms
	intern map[string]string // one copy of each id
}

// NewState returns an empty aggregate.
func NewState() *State {
	return &State{pairs: map[pairKey]acc{}, items: map[string]acc{}, arms: map[uint32]*Arms{}, intern: map[string]string{}}
}

func (s *State) id(v string) string {
	if c, ok := s.intern[v]; ok {
		return c
	}
	s.intern[v] = v
	return v
}

// entry is one weight of a delta being clipped.
type entry struct {
	key pairKey // items: to is empty
	w   float64
}

// Fold adds one accepted delta, clipped by p, as the delta numbered seq.
func (s *State) Fold(d *wire.Delta, seq uint64, p *Params) {
	s.Cursor, s.Deltas = max(s.Cursor, seq), s.Deltas+1
	pairs := make([]entry, 0, len(d.Pairs))
	for _, q := range d.Pairs {
		if q.From != q.To {
			pairs = append(pairs, entry{pairKey{q.From, q.To}, float64(q.W)})
		}
	}
	for _, e := range clip(pairs, p.MaxPairs, p) {
		k := pairKey{s.id(e.key.from), s.id(e.key.to)}
		a := s.pairs[k]
		s.pairs[k] = acc{a.sum + e.w, a.n + 1}
	}
	items := make([]entry, 0, len(d.Items))
	for _, c := range d.Items {
		items = append(items, entry{pairKey{from: c.ID}, float64(c.N)})
	}
	for _, e := range clip(items, p.MaxItems, p) {
		k := s.id(e.key.from)
		a := s.items[k]
		s.items[k] = acc{a.sum + e.w, a.n + 1}
	}
	if len(d.Arms) > 0 {
		arms := s.arms[d.Model]
		if arms == nil {
			arms = new(Arms)
			s.arms[d.Model] = arms
		}
		seen := [len(Arms{})]bool{}
		for _, a := range d.Arms {
			if int(a.Arm) >= len(arms) || seen[a.Arm] {
				continue
			}
			seen[a.Arm] = true
			t := &arms[a.Arm]
			t.Impressions += uint64(min(a.Impressions, p.MaxImpressions))
			t.Clicks += uint64(min(a.Clicks, p.MaxClicks))
			t.Conversions += uint64(min(a.Conversions, p.MaxConversions))
		}
	}
	if len(s.pairs) > p.KeepPairs {
		prune(s.pairs, p.KeepPairs)
	}
	if len(s.items) > p.KeepItems {
		prune(s.items, p.KeepItems)
	}
}

// clip merges duplicate entries, clips each to ±ClipWeight, scales pairs
// down so that none of their items gets more than ClipItem in or out,
// keeps the limit strongest, and scales them down to an L1 norm of ClipL1.
func clip(es []entry, limit int, p *Params) []entry {
	slices.SortFunc(es, func(a, b entry) int {
		return cmp.Or(cmp.Compare(a.key.from, b.key.from), cmp.Compare(a.key.to, b.key.to))
	})
	out := es[:0]
	for _, e := range es {
		if n := len(out); n > 0 && out[n-1].key == e.key {
			out[n-1].w += e.w
		} else {
			out = append(out, e)
		}
	}
	for i := range out {
		out[i].w = max(-p.ClipWeight, min(p.ClipWeight, out[i].w))
	}
	if len(out) > 0 && out[0].key.to != "" { // pairs
		capItems(out, p.ClipItem)
	}
	if len(out) > limit {
		slices.SortStableFunc(out, func(a, b entry) int { return cmp.Compare(math.Abs(b.w), math.Abs(a.w)) })
		out = out[:limit]
	}
	l1 := 0.0
	for _, e := range out {
		l1 += math.Abs(e.w)
	}
	if l1 > p.ClipL1 {
		f := p.ClipL1 / l1
		for i := range out {
			out[i].w *= f
		}
	}
	return out
}

// capItems scales pairs (sorted by from, then to) so that the pairs out of
// any one item, and into any one item, sum to at most limit in absolute
// value: each pair takes the smaller of its two factors.
func capItems(es []entry, limit float64) {
	f := make([]float64, len(es))
	group := func(same func(a, b *entry) bool, idx []int) {
		for i := 0; i < len(idx); {
			j, sum := i, 0.0
			for ; j < len(idx) && same(&es[idx[i]], &es[idx[j]]); j++ {
				sum += math.Abs(es[idx[j]].w)
			}
			for k := i; k < j; k++ {
				f[idx[k]] = min(f[idx[k]], limit/sum)
			}
			i = j
		}
	}
	idx := make([]int, len(es))
	for i := range idx {
		idx[i], f[i] = i, 1
	}
	group(func(a, b *entry) bool { return a.key.from == b.key.from }, idx) // es is sorted by from
	slices.SortFunc(idx, func(a, b int) int { return cmp.Compare(es[a].key.to, es[b].key.to) })
	group(func(a, b *entry) bool { return a.key.to == b.key.to }, idx)
	for i := range es {
		es[i].w *= f[i]
	}
}

// prune drops the entries with the fewest contributors (then the weakest)
// until a quarter of the room is free again. An entry below the minimum
// cohort cannot be published yet, so those go first.
func prune[K comparable](m map[K]acc, keep int) {
	type kv struct {
		k K
		a acc
	}
	all := make([]kv, 0, len(m))
	for k, a := range m {
		all = append(all, kv{k, a})
	}
	slices.SortFunc(all, func(x, y kv) int {
		return cmp.Or(cmp.Compare(x.a.n, y.a.n), cmp.Compare(math.Abs(x.a.sum), math.Abs(y.a.sum)))
	})
	for _, e := range all[:len(all)-keep*3/4] {
		delete(m, e.k)
	}
}

// Arms returns a copy of the per-arm totals by model version.
func (s *State) Arms() map[uint32]Arms {
	out := make(map[uint32]Arms, len(s.arms))
	for v, a := range s.arms {
		out[v] = *a
	}
	return out
}

// Pair returns the clipped sum of a pair and how many deltas made it.
func (s *State) Pair(from, to string) (sum float64, n int) {
	a := s.pairs[pairKey{from, to}]
	return a.sum, int(a.n)
}

// Item returns the clipped sum of an item and how many deltas made it.
func (s *State) Item(id string) (sum float64, n int) {
	a := s.items[id]
	return a.sum, int(a.n)
}

// EachPair calls fn for every pair of the aggregate, in no order.
func (s *State) EachPair(fn func(from, to string, sum float64, n int)) {
	for k, a := range s.pairs {
		fn(k.from, k.to, a.sum, int(a.n))
	}
}

// EachItem calls fn for every item of the aggregate, in no order.
func (s *State) EachItem(fn func(id string, sum float64, n int)) {
	for k, a := range s.items {
		fn(k, a.sum, int(a.n))
	}
}

// Len returns how many pairs and items the aggregate holds.
func (s *State) Len() (pairs, items int) { return len(s.pairs), len(s.items) }

// stateSchema versions the checkpoint encoding.
const stateSchema = 1

// MarshalBinary encodes the state as a checkpoint, in a canonical order.
func (s *State) MarshalBinary() ([]byte, error) {
	w := msgp.NewWriter(64 + 32*len(s.pairs) + 24*len(s.items))
	w.ArrayHeader(6)
	w.Uint(stateSchema)
	w.Uint(s.Cursor)
	w.Uint(s.Deltas)
	keys := make([]pairKey, 0, len(s.pairs))
	for k := range s.pairs {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b pairKey) int { return cmp.Or(cmp.Compare(a.from, b.from), cmp.Compare(a.to, b.to)) })
	w.ArrayHeader(len(keys))
	for _, k := range keys {
		a := s.pairs[k]
		w.ArrayHeader(4)
		w.String(k.from)
		w.String(k.to)
		w.Float64(a.sum)
		w.Uint(uint64(a.n))
	}
	ids := make([]string, 0, len(s.items))
	for k := range s.items {
		ids = append(ids, k)
	}
	slices.Sort(ids)
	w.ArrayHeader(len(ids))
	for _, id := range ids {
		a := s.items[id]
		w.ArrayHeader(3)
		w.String(id)
		w.Float64(a.sum)
		w.Uint(uint64(a.n))
	}
	versions := make([]uint32, 0, len(s.arms))
	for v := range s.arms {
		versions = append(versions, v)
	}
	slices.Sort(versions)
	w.ArrayHeader(len(versions))
	for _, v := range versions {
		w.ArrayHeader(1 + 3*len(Arms{}))
		w.Uint(uint64(v))
		for _, t := range s.arms[v] {
			w.Uint(t.Impressions)
			w.Uint(t.Clicks)
			w.Uint(t.Conversions)
		}
	}
	return w.Bytes(), nil
}

// UnmarshalBinary restores a checkpoint written by MarshalBinary.
func (s *State) UnmarshalBinary(b []byte) error {
	*s = *NewState()
	r := msgp.NewReader(b)
	r.Tuple(6)
	if v := r.Uint(); r.Err() == nil && v != stateSchema {
		return fmt.Errorf("aggregate: checkpoint schema %d, want %d", v, stateSchema)
	}
	s.Cursor = r.Uint()
	s.Deltas = r.Uint()
	n := r.ArrayHeader()
	for i := 0; i < n && r.Err() == nil; i++ {
		r.Tuple(4)
		k := pairKey{s.id(r.String()), s.id(r.String())}
		s.pairs[k] = acc{r.Float(), uint32(r.UintMax(math.MaxUint32))}
	}
	n = r.ArrayHeader()
	for i := 0; i < n && r.Err() == nil; i++ {
		r.Tuple(3)
		k := s.id(r.String())
		s.items[k] = acc{r.Float(), uint32(r.UintMax(math.MaxUint32))}
	}
	n = r.ArrayHeader()
	for i := 0; i < n && r.Err() == nil; i++ {
		r.Tuple(1 + 3*len(Arms{}))
		v := uint32(r.UintMax(math.MaxUint32))
		a := new(Arms)
		for j := range a {
			a[j] = ArmTotals{r.Uint(), r.Uint(), r.Uint()}
		}
		s.arms[v] = a
	}
	if err := r.Finish(); err != nil {
		*s = *NewState()
		return fmt.Errorf("aggregate: decode checkpoint: %w", err)
	}
	return nil
}

// Movement is how far one aggregate moved from another, in the terms the
// clipping bounds: the L1 norm of the pairs' and of the items' change, the
// largest change of one entry, and the largest change of what one item's
// pairs carry in or out.
type Movement struct {
	PairsL1, ItemsL1, Entry, PerItem float64
}

// Moved measures how far b moved from a.
func Moved(a, b *State) Movement {
	var m Movement
	in, out := map[string]float64{}, map[string]float64{}
	diff := func(from, to string) {
		x, _ := a.Pair(from, to)
		y, _ := b.Pair(from, to)
		d := math.Abs(y - x)
		m.PairsL1 += d
		m.Entry = max(m.Entry, d)
		in[to] += d
		out[from] += d
	}
	seen := map[pairKey]bool{}
	for _, s := range []*State{a, b} {
		for k := range s.pairs {
			if !seen[k] {
				seen[k] = true
				diff(k.from, k.to)
			}
		}
	}
	for _, v := range in {
		m.PerItem = max(m.PerItem, v)
	}
	for _, v := range out {
		m.PerItem = max(m.PerItem, v)
	}
	ids := map[string]bool{}
	for _, s := range []*State{a, b} {
		for id := range s.items {
			if !ids[id] {
				ids[id] = true
				x, _ := a.Item(id)
				y, _ := b.Item(id)
				m.ItemsL1 += math.Abs(y - x)
				m.Entry = max(m.Entry, math.Abs(y-x))
			}
		}
	}
	return m
}

// Within reports an error when the movement exceeds what n deltas clipped
// by p can cause.
func (m Movement) Within(n int, p *Params) error {
	const slack = 1e-6 // float sums
	f := float64(n)
	switch {
	case m.PairsL1 > f*p.ClipL1+slack:
		return fmt.Errorf("aggregate: pairs moved %.3f in L1, beyond %d × %v", m.PairsL1, n, p.ClipL1)
	case m.ItemsL1 > f*p.ClipL1+slack:
		return fmt.Errorf("aggregate: items moved %.3f in L1, beyond %d × %v", m.ItemsL1, n, p.ClipL1)
	case m.Entry > f*p.ClipWeight+slack:
		return fmt.Errorf("aggregate: an entry moved %.3f, beyond %d × %v", m.Entry, n, p.ClipWeight)
	case m.PerItem > f*p.ClipItem+slack:
		return fmt.Errorf("aggregate: an item's pairs moved %.3f, beyond %d × %v", m.PerItem, n, p.ClipItem)
	}
	return nil
}
