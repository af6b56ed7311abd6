package aggregate

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/tailorhq/tailor/sdk/ldp"
	"github.com/tailorhq/tailor/sdk/msgp"
	"github.com/tailorhq/tailor/sdk/wire"
)

// ArmTotals sums what one experiment arm showed and what came of it, and
// how many deltas marked it exposed (for Uplift.Guard and the console's
// SRM check): one per visitor session, since a device marks only the
// session's first delta to show the arm (wire.ArmCount.Exposed).
type ArmTotals struct {
	Impressions, Clicks, Conversions uint64
	Deltas                           uint64 // exposures: deltas marked Exposed
	// Reported counts the deltas that reported the arm: the stats release
	// a row only once enough of them moved it (server/api).
	Reported uint64
}

// Arms are the totals of each arm, indexed by wire.Arm.
type Arms [3]ArmTotals

// Add adds o's totals to a's, arm by arm.
func (a *Arms) Add(o *Arms) {
	for i := range a {
		a[i].Impressions += o[i].Impressions
		a[i].Clicks += o[i].Clicks
		a[i].Conversions += o[i].Conversions
		a[i].Deltas += o[i].Deltas
		a[i].Reported += o[i].Reported
	}
}

type pairKey struct{ from, to string }

// acc sums one entry's clipped, decayed contributions and counts the
// deltas that made them.
type acc struct {
	sum float64 // in inflated units (see State)
	n   uint32  // deltas, not decayed: the k floor
}

// Approximate heap bytes of the aggregate's parts, for KeepBytes: a map
// entry with its share of buckets, and a string's header and bytes.
const (
	pairBytes   = 96
	itemBytes   = 64
	internBytes = 64
)

// State is one site's aggregate: the clipped, decayed sums of every pair
// and item, how many deltas contributed to each, the per-arm totals by
// the model version devices held, and, for federated+ldp, the LDP
// sketches of items and pairs. It is what a version is built from, and
// what is checkpointed with it.
//
// Decay is kept order-independent with "inflated units": a delta received
// at t adds 2^((t-ref)/h) instead of 1, so sums never need rescaling as
// time passes; their real value at time T is sum·2^((ref-T)/h). When the
// inflation grows large the state rebases ref (scaling every sum once).
//
// # Notes
//
// A State is not goroutine-safe; the Aggregator guards its own.
type State struct {
	Cursor uint64 // the last delta Seq folded
	Deltas uint64 // deltas folded

	ref    int64   // Unix seconds the inflated units are relative to; valid once hl > 0
	hl     float64 // the half-life the sums decay with, in seconds; 0: none
	latest int64   // the newest Received folded, Unix seconds; 0: none

	pairs  map[pairKey]acc
	items  map[string]acc
	arms   map[uint32]*Arms
	intern map[string]string // one copy of each id
	bytes  int64             // approximate heap bytes of pairs, items and intern

	// Entries below k, which cannot be published yet: counted against the
	// k they were counted with (0: to recount), and bounded on their own
	// (pendingCap), so that a flood of fresh ids only ever evicts
	// other unconfirmed entries and keeps the checkpoint small.
	k                          uint32
	pendingPairs, pendingItems int

	// federated+ldp: the OLH tables of items and pairs (at the site's ε),
	// and the Hadamard sketches of the reports devices sent before OLH
	// (Report.Bit set), still in the store's retention window. Each is nil
	// until a report of its kind arrives.
	olhItems, olhPairs *ldp.Table
	ldpItems, ldpPairs *ldp.Sketch
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
	s.bytes += internBytes + int64(len(v))
	return v
}

// maxInflation is how many half-lives ahead of ref a delta may be before
// the state rebases: 2^40 keeps every sum far from float64's limits and
// the oldest entries well above its precision.
const maxInflation = 40

// setHalfLife switches the state to decay with half-life h seconds (0:
// none) from time at on. Sums are first made real at the newest folded
// time under the old half-life, so switching loses nothing.
func (s *State) setHalfLife(h float64, at int64) {
	if h == s.hl {
		return
	}
	if s.hl > 0 {
		s.rebase(max(s.latest, s.ref))
	}
	s.hl, s.ref = h, at
	if s.latest > 0 {
		s.ref = s.latest
	}
}

// rebase moves ref to t, scaling every sum by 2^((ref-t)/hl).
func (s *State) rebase(t int64) {
	if s.hl == 0 || t == s.ref {
		return
	}
	s.scale(math.Exp2(float64(s.ref-t) / s.hl))
	s.ref = t
}

// scale multiplies every sum by f.
func (s *State) scale(f float64) {
	for k, a := range s.pairs {
		s.pairs[k] = acc{a.sum * f, a.n}
	}
	for k, a := range s.items {
		s.items[k] = acc{a.sum * f, a.n}
	}
	for _, sk := range []*ldp.Sketch{s.ldpItems, s.ldpPairs} {
		if sk != nil {
			sk.Scale(f)
		}
	}
	for _, t := range []*ldp.Table{s.olhItems, s.olhPairs} {
		if t != nil {
			t.Scale(f)
		}
	}
}

// unit is what a delta received at t adds, in inflated units.
func (s *State) unit(t int64) float64 {
	if s.hl == 0 {
		return 1
	}
	if float64(t-s.ref)/s.hl > maxInflation {
		s.rebase(t)
	}
	return math.Exp2(float64(t-s.ref) / s.hl)
}

// realFactor turns inflated sums into their real value at the newest
// folded time: what a fresh delta counts is 1.
func (s *State) realFactor() float64 {
	if s.hl == 0 {
		return 1
	}
	return math.Exp2(float64(s.ref-s.latest) / s.hl)
}

// entry is one weight of a delta being clipped.
type entry struct {
	key pairKey // items: to is empty
	w   float64
}

// Fold adds one accepted delta, clipped by p, as the delta numbered seq,
// received at at (decay counts from it). p must be the site's: its LDP
// fields say whether reports count.
//
// Every positive pair and item counts ClipWeight once (binary counting),
// then the per-delta bounds apply (see Params); non-positive weights count
// nothing, whatever epsilon the delta claims. Reports count only when
// p.LDPEpsilon > 0, debiased with the site's epsilon, never the delta's
// claim.
func (s *State) Fold(d *wire.Delta, seq uint64, at time.Time, p *Params) {
	t := at.Unix()
	s.setHalfLife(p.HalfLife.Seconds(), t)
	if k := uint32(p.MinCohort); s.k != k {
		s.recount(k)
	}
	if s.latest == 0 || t > s.latest {
		s.latest = t
	}
	u := s.unit(t)
	s.Cursor, s.Deltas = max(s.Cursor, seq), s.Deltas+1
	pairs := make([]entry, 0, len(d.Pairs))
	for _, q := range d.Pairs {
		if q.From != q.To && q.W > 0 {
			pairs = append(pairs, entry{pairKey{q.From, q.To}, p.ClipWeight})
		}
	}
	pairs = clip(pairs, p.MaxPairs, p)
	for i, e := range pairs {
		if slices.ContainsFunc(pairs[:i], func(o entry) bool { return o.key == pairKey{e.key.to, e.key.from} }) {
			continue // a delta counts in one direction of a pair: the floor counts both (Weights)
		}
		k := pairKey{s.id(e.key.from), s.id(e.key.to)}
		a, ok := s.pairs[k]
		if !ok {
			s.bytes += pairBytes
		}
		s.pending(&s.pendingPairs, a.n+1)
		s.pairs[k] = acc{a.sum + e.w*u, a.n + 1}
	}
	// A device names items through its pairs (sdk/delta): each item a
	// delta names, on its own or in a pair that counts, counts once (clip
	// drops duplicates).
	items := make([]entry, 0, len(d.Items)+2*len(pairs))
	for _, c := range d.Items {
		if c.N > 0 {
			items = append(items, entry{pairKey{from: c.ID}, p.ClipWeight})
		}
	}
	for _, e := range pairs {
		items = append(items, entry{pairKey{from: e.key.from}, p.ClipWeight}, entry{pairKey{from: e.key.to}, p.ClipWeight})
	}
	for _, e := range clip(items, p.MaxItems, p) {
		k := s.id(e.key.from)
		a, ok := s.items[k]
		if !ok {
			s.bytes += itemBytes
		}
		s.pending(&s.pendingItems, a.n+1)
		s.items[k] = acc{a.sum + e.w*u, a.n + 1}
	}
	s.foldReports(d, u, p)
	s.foldArms(d, p)
	if len(s.pairs) > p.KeepPairs || len(s.items) > p.KeepItems || s.bytes > p.KeepBytes ||
		s.pendingPairs+s.pendingItems > s.pendingCap(p) {
		s.prune(p)
	}
}

// pending updates a pending count for an entry whose count became n.
func (s *State) pending(count *int, n uint32) {
	switch {
	case n == 1 && n < s.k:
		*count++
	case n == s.k && n > 1:
		*count--
	}
}

// recount counts the entries below k.
func (s *State) recount(k uint32) {
	s.k, s.pendingPairs, s.pendingItems = k, 0, 0
	for _, a := range s.pairs {
		if a.n < k {
			s.pendingPairs++
		}
	}
	for _, a := range s.items {
		if a.n < k {
			s.pendingItems++
		}
	}
}

// minEntryBytes is the least an entry is taken to cost with its ids.
const minEntryBytes = 128

// pendingCap is how many entries below k a site's aggregate keeps: about
// half of KeepBytes, at the entries' current average cost (long ids make
// the cap smaller).
func (s *State) pendingCap(p *Params) int {
	avg := int64(minEntryBytes)
	if n := int64(len(s.pairs) + len(s.items)); n > 0 {
		avg = max(avg, s.bytes/n)
	}
	return int(p.KeepBytes / 2 / avg)
}

// foldReports adds a federated+ldp delta's reports: its first OLH report
// (a device sends one, at the site's whole ε) to the OLH table of its
// kind, made for the site's ε; or, for a delta of a guest from before OLH,
// its first LDPReports Hadamard reports to the sketches, each debiased
// with ε = the site's ε over the reports counted. The OLH report counts
// only when the delta claims the site's ε: the buckets it was randomized
// over follow from it. A delta claiming a smaller ε cannot make its
// reports weigh more. When the site's ε changes, the OLH tables of the
// old ε are dropped: their reports cannot be debiased with the new one.
func (s *State) foldReports(d *wire.Delta, u float64, p *Params) {
	if !(p.LDPEpsilon > 0) || len(d.Reports) == 0 {
		return
	}
	if r := d.Reports[0]; r.Bit == 0 {
		eps := float64(float32(p.LDPEpsilon))
		if d.Epsilon != float32(eps) || (r.Kind != wire.ReportItem && r.Kind != wire.ReportPair) {
			return
		}
		t := &s.olhItems
		if r.Kind == wire.ReportPair {
			t = &s.olhPairs
		}
		if *t == nil || (*t).Eps() != eps {
			*t = ldp.NewTable(eps)
		}
		if *t != nil {
			(*t).Add(r, u)
		}
		return
	}
	rs := d.Reports[:min(len(d.Reports), p.LDPReports)]
	eps := p.LDPEpsilon / float64(len(rs))
	for _, r := range rs {
		sk := &s.ldpItems
		if r.Kind == wire.ReportPair {
			sk = &s.ldpPairs
		} else if r.Kind != wire.ReportItem {
			continue
		}
		if *sk == nil {
			*sk = ldp.NewSketch()
		}
		(*sk).Add(r, eps, u)
	}
}

// foldArms adds a delta's arm counts, each arm once, capped, and counts
// the arm's exposure when the delta marks it (once per visitor session).
func (s *State) foldArms(d *wire.Delta, p *Params) {
	if len(d.Arms) == 0 {
		return
	}
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
		// Each count is capped on its own: a click often syncs in a later
		// delta than its impression, and a purchase in a later one than its
		// click, so "clicks <= impressions" within one delta would drop
		// honest clicks and every conversion.
		imp := min(a.Impressions, p.MaxImpressions)
		clk := min(a.Clicks, p.MaxClicks)
		conv := min(a.Conversions, p.MaxConversions)
		t := &arms[a.Arm]
		t.Impressions += uint64(imp)
		t.Clicks += uint64(clk)
		t.Conversions += uint64(conv)
		if a.Exposed {
			t.Deltas++
		}
		t.Reported++
	}
}

// clip merges duplicate entries, scales pairs down so that none of their
// items gets more than ClipItem in or out, keeps the limit strongest, and
// scales them down to an L1 norm of ClipL1.
func clip(es []entry, limit int, p *Params) []entry {
	slices.SortFunc(es, func(a, b entry) int {
		return cmp.Or(cmp.Compare(a.key.from, b.key.from), cmp.Compare(a.key.to, b.key.to))
	})
	out := es[:0]
	for _, e := range es {
		if n := len(out); n == 0 || out[n-1].key != e.key { // duplicates count once
			out = append(out, e)
		}
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

// prune drops the pairs and items with the fewest contributors (then the
// weakest) until a quarter of each limit is free again, or half of the
// room for entries below k when those overflowed, then rebuilds the
// intern table from what is left, so that ids only the dropped entries
// used go too. An entry below the minimum cohort cannot be published yet,
// so those go first: a flood of fresh ids evicts other unconfirmed
// entries, never the published ones while room remains.
func (s *State) prune(p *Params) {
	frac := min(1, 0.75*float64(p.KeepBytes)/float64(s.bytes))
	dropPairs := len(s.pairs) - int(float64(len(s.pairs))*frac)
	dropItems := len(s.items) - int(float64(len(s.items))*frac)
	if len(s.pairs) > p.KeepPairs {
		dropPairs = max(dropPairs, len(s.pairs)-p.KeepPairs*3/4)
	}
	if len(s.items) > p.KeepItems {
		dropItems = max(dropItems, len(s.items)-p.KeepItems*3/4)
	}
	if pending, limit := s.pendingPairs+s.pendingItems, s.pendingCap(p); pending > limit {
		f := 1 - float64(limit/2)/float64(pending)
		dropPairs = max(dropPairs, int(math.Ceil(float64(s.pendingPairs)*f)))
		dropItems = max(dropItems, int(math.Ceil(float64(s.pendingItems)*f)))
	}
	pruneMap(s.pairs, dropPairs, s.pendingPairs, s.k)
	pruneMap(s.items, dropItems, s.pendingItems, s.k)
	s.recount(s.k)
	s.reintern()
}

// reintern rebuilds the intern table from the ids the pairs and items use,
// and recounts the bytes.
func (s *State) reintern() {
	s.intern = make(map[string]string, len(s.items)+len(s.pairs)/4)
	s.bytes = int64(len(s.pairs))*pairBytes + int64(len(s.items))*itemBytes
	for k := range s.pairs {
		s.id(k.from)
		s.id(k.to)
	}
	for k := range s.items {
		s.id(k)
	}
}

// pruneMap drops the drop entries with the fewest contributors (then the
// weakest). When they are all below k (pending of them), only those are
// ranked.
func pruneMap[K comparable](m map[K]acc, drop, pending int, k uint32) {
	if drop <= 0 {
		return
	}
	type kv struct {
		k K
		a acc
	}
	all := make([]kv, 0, min(len(m), max(pending, drop)))
	for key, a := range m {
		if drop > pending || a.n < k {
			all = append(all, kv{key, a})
		}
	}
	slices.SortFunc(all, func(x, y kv) int {
		return cmp.Or(cmp.Compare(x.a.n, y.a.n), cmp.Compare(math.Abs(x.a.sum), math.Abs(y.a.sum)))
	})
	for _, e := range all[:min(drop, len(all))] {
		delete(m, e.k)
	}
}

// Clone returns an independent copy of the state.
func (s *State) Clone() *State {
	c := &State{Cursor: s.Cursor, Deltas: s.Deltas, ref: s.ref, hl: s.hl, latest: s.latest, bytes: s.bytes,
		k: s.k, pendingPairs: s.pendingPairs, pendingItems: s.pendingItems,
		pairs: make(map[pairKey]acc, len(s.pairs)), items: make(map[string]acc, len(s.items)),
		arms: make(map[uint32]*Arms, len(s.arms)), intern: make(map[string]string, len(s.intern))}
	for k, v := range s.intern {
		c.intern[k] = v
	}
	for k, a := range s.pairs {
		c.pairs[k] = a
	}
	for k, a := range s.items {
		c.items[k] = a
	}
	for v, a := range s.arms {
		cp := *a
		c.arms[v] = &cp
	}
	if s.ldpItems != nil {
		c.ldpItems = s.ldpItems.Clone()
	}
	if s.ldpPairs != nil {
		c.ldpPairs = s.ldpPairs.Clone()
	}
	if s.olhItems != nil {
		c.olhItems = s.olhItems.Clone()
	}
	if s.olhPairs != nil {
		c.olhPairs = s.olhPairs.Clone()
	}
	return c
}

// Merge adds o's sums, counts, arm totals and sketches to s (base + live),
// aligning o's decay units to s's; o is not changed. Cursor becomes the
// larger of the two. The memory bounds apply again at the next Fold.
func (s *State) Merge(o *State) {
	at := o.latest // o's sums are real (decayed) at its newest delta
	if at == 0 {
		at = s.latest // a schema-1 checkpoint: no times, no decay
	}
	f := 1.0
	switch {
	case o.hl == 0 && s.hl == 0:
	case s.hl == 0 && len(s.pairs) == 0 && len(s.items) == 0 && s.ldpItems == nil && s.ldpPairs == nil && s.olhItems == nil && s.olhPairs == nil:
		s.hl, s.ref = o.hl, o.ref // s is empty: adopt o's units
	case o.hl == 0:
		f = s.unitAt(at)
	default:
		f = math.Exp2(float64(o.ref-at)/o.hl) * s.unitAt(at)
	}
	if o.latest > s.latest {
		s.latest = o.latest
	}
	s.Cursor, s.Deltas = max(s.Cursor, o.Cursor), s.Deltas+o.Deltas
	s.k = 0 // recount the entries below k at the next Fold
	for k, a := range o.pairs {
		k = pairKey{s.id(k.from), s.id(k.to)}
		b, ok := s.pairs[k]
		if !ok {
			s.bytes += pairBytes
		}
		s.pairs[k] = acc{b.sum + a.sum*f, b.n + a.n}
	}
	for k, a := range o.items {
		k = s.id(k)
		b, ok := s.items[k]
		if !ok {
			s.bytes += itemBytes
		}
		s.items[k] = acc{b.sum + a.sum*f, b.n + a.n}
	}
	for v, a := range o.arms {
		t := s.arms[v]
		if t == nil {
			t = new(Arms)
			s.arms[v] = t
		}
		t.Add(a)
	}
	merge := func(dst **ldp.Sketch, src *ldp.Sketch) {
		if src == nil {
			return
		}
		c := src.Clone()
		c.Scale(f)
		if *dst == nil {
			*dst = c
		} else {
			(*dst).Merge(c)
		}
	}
	merge(&s.ldpItems, o.ldpItems)
	merge(&s.ldpPairs, o.ldpPairs)
	// OLH tables of another ε cannot be added up: the newer (o, the live
	// part) wins.
	mergeTable := func(dst **ldp.Table, src *ldp.Table) {
		if src == nil {
			return
		}
		c := src.Clone()
		c.Scale(f)
		if *dst == nil || !(*dst).Merge(c) {
			*dst = c
		}
	}
	mergeTable(&s.olhItems, o.olhItems)
	mergeTable(&s.olhPairs, o.olhPairs)
}

// unitAt is what a delta received at t adds in s's units, without
// rebasing.
func (s *State) unitAt(t int64) float64 {
	if s.hl == 0 {
		return 1
	}
	return math.Exp2(float64(t-s.ref) / s.hl)
}

// Arms returns a copy of the per-arm totals by model version.
func (s *State) Arms() map[uint32]Arms {
	out := make(map[uint32]Arms, len(s.arms))
	for v, a := range s.arms {
		out[v] = *a
	}
	return out
}

// Pair returns the decayed sum of a pair (what a fresh delta adds is
// ClipWeight at most) and how many deltas made it.
func (s *State) Pair(from, to string) (sum float64, n int) {
	a := s.pairs[pairKey{from, to}]
	return a.sum * s.realFactor(), int(a.n)
}

// Item returns the decayed sum of an item and how many deltas made it.
func (s *State) Item(id string) (sum float64, n int) {
	a := s.items[id]
	return a.sum * s.realFactor(), int(a.n)
}

// EachPair calls fn for every pair of the aggregate, in no order, with its
// decayed sum.
func (s *State) EachPair(fn func(from, to string, sum float64, n int)) {
	f := s.realFactor()
	for k, a := range s.pairs {
		fn(k.from, k.to, a.sum*f, int(a.n))
	}
}

// EachItem calls fn for every item of the aggregate, in no order, with its
// decayed sum.
func (s *State) EachItem(fn func(id string, sum float64, n int)) {
	f := s.realFactor()
	for k, a := range s.items {
		fn(k, a.sum*f, int(a.n))
	}
}

// Len returns how many pairs and items the aggregate holds.
func (s *State) Len() (pairs, items int) { return len(s.pairs), len(s.items) }

// Interned returns how many distinct ids the aggregate holds.
func (s *State) Interned() int { return len(s.intern) }

// Latest returns the newest Received time folded (the zero time if none).
func (s *State) Latest() time.Time {
	if s.latest == 0 {
		return time.Time{}
	}
	return time.Unix(s.latest, 0).UTC()
}

// stateSchema versions the checkpoint encoding: 2 added decay and the LDP
// sketches, 3 the OLH tables; schemas 1 (no decay, no sketches) and 2 (no
// tables) still decode.
const stateSchema = 3

// MarshalBinary encodes the state as a checkpoint, in a canonical order:
// [schema, cursor, deltas, pairs, items, arms, ref, half-life, latest,
// item sketch, pair sketch, item table, pair table].
func (s *State) MarshalBinary() ([]byte, error) {
	w := msgp.NewWriter(64 + 32*len(s.pairs) + 24*len(s.items))
	w.ArrayHeader(13)
	w.Uint(stateSchema)
	w.Uint(s.Cursor)
	w.Uint(s.Deltas)
	pairs := canonical(s.pairs, func(k pairKey) uint64 { return fnv(fnv(fnvOffset, k.from), k.to) },
		func(a, b pairKey) int { return cmp.Or(cmp.Compare(a.from, b.from), cmp.Compare(a.to, b.to)) })
	w.ArrayHeader(len(pairs))
	for _, e := range pairs {
		w.ArrayHeader(4)
		w.String(e.k.from)
		w.String(e.k.to)
		w.Float64(e.a.sum)
		w.Uint(uint64(e.a.n))
	}
	items := canonical(s.items, func(id string) uint64 { return fnv(fnvOffset, id) }, cmp.Compare[string])
	w.ArrayHeader(len(items))
	for _, e := range items {
		w.ArrayHeader(3)
		w.String(e.k)
		w.Float64(e.a.sum)
		w.Uint(uint64(e.a.n))
	}
	versions := make([]uint32, 0, len(s.arms))
	for v := range s.arms {
		versions = append(versions, v)
	}
	slices.Sort(versions)
	w.ArrayHeader(len(versions))
	for _, v := range versions {
		w.ArrayHeader(1 + 5*len(Arms{}))
		w.Uint(uint64(v))
		for _, t := range s.arms[v] {
			w.Uint(t.Impressions)
			w.Uint(t.Clicks)
			w.Uint(t.Conversions)
			w.Uint(t.Deltas)
			w.Uint(t.Reported)
		}
	}
	w.Int(s.ref)
	w.Float64(s.hl)
	w.Int(s.latest)
	if err := writeOracles(w, s.ldpItems, s.ldpPairs); err != nil {
		return nil, err
	}
	if err := writeOracles(w, s.olhItems, s.olhPairs); err != nil {
		return nil, err
	}
	return w.Bytes(), nil
}

// hashedAcc is an accumulator of the checkpoint with its key and the hash
// that orders it.
type hashedAcc[K comparable] struct {
	h uint64
	k K
	a acc
}

// canonical returns m's accumulators in the checkpoint's canonical order:
// by a fixed hash of the key, then by the key (tie) where hashes collide.
// Sorting ids that share long prefixes ("product-...") by their bytes took
// most of a large checkpoint's time.
func canonical[K comparable](m map[K]acc, hash func(K) uint64, tie func(a, b K) int) []hashedAcc[K] {
	out := make([]hashedAcc[K], 0, len(m))
	for k, a := range m {
		out = append(out, hashedAcc[K]{hash(k), k, a})
	}
	slices.SortFunc(out, func(a, b hashedAcc[K]) int {
		if a.h != b.h { // cmp.Or would compare the keys too
			return cmp.Compare(a.h, b.h)
		}
		return tie(a.k, b.k)
	})
	return out
}

// ldpOracle is an LDP frequency oracle of the checkpoint: an ldp.Sketch
// (Hadamard reports) or an ldp.Table (OLH reports). Both encode
// themselves; the checkpoint carries that encoding in a bin, empty for a
// site that has no such oracle (nil).
type ldpOracle[T any] interface {
	*T
	MarshalBinary() ([]byte, error)
	UnmarshalBinary([]byte) error
}

// writeOracles writes each oracle as a bin, empty for a nil one.
func writeOracles[T any, P ldpOracle[T]](w *msgp.Writer, oracles ...P) error {
	for _, o := range oracles {
		if o == nil {
			w.Bin(nil)
			continue
		}
		b, err := o.MarshalBinary()
		if err != nil {
			return err
		}
		w.Bin(b)
	}
	return nil
}

// readOracles reads what writeOracles wrote into dst, in order: an empty
// bin leaves its oracle nil.
func readOracles[T any, P ldpOracle[T]](r *msgp.Reader, dst ...*P) {
	for _, o := range dst {
		if b := r.BytesView(); r.Err() == nil && len(b) > 0 {
			*o = P(new(T))
			if err := (*o).UnmarshalBinary(b); err != nil {
				r.Fail(err)
			}
		}
	}
}

// fnvOffset and fnv are FNV-1a 64 (with a separator byte after each
// string), the checkpoint's order.
const fnvOffset = 14695981039346656037

func fnv(h uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		h = (h ^ uint64(s[i])) * 1099511628211
	}
	return (h ^ 0xff) * 1099511628211
}

// UnmarshalBinary restores a checkpoint written by MarshalBinary (schema 1,
// 2 or 3). It validates what it reads: finite sums, a known schema.
func (s *State) UnmarshalBinary(b []byte) error {
	*s = *NewState()
	r := msgp.NewReader(b)
	n := r.ArrayHeader()
	schema := r.Uint()
	switch {
	case r.Err() != nil:
	case schema == 1 && n == 6, schema == 2 && n == 11, schema == 3 && n == 13:
	default:
		return fmt.Errorf("aggregate: checkpoint schema %d with %d fields, want %d with 13", schema, n, stateSchema)
	}
	s.Cursor = r.Uint()
	s.Deltas = r.Uint()
	finite := func(f float64) float64 {
		if math.IsNaN(f) || math.IsInf(f, 0) {
			r.Fail(fmt.Errorf("non-finite sum"))
			return 0
		}
		return f
	}
	m := r.ArrayHeader()
	for i := 0; i < m && r.Err() == nil; i++ {
		r.Tuple(4)
		k := pairKey{s.id(r.String()), s.id(r.String())}
		s.pairs[k] = acc{finite(r.Float()), uint32(r.UintMax(math.MaxUint32))}
	}
	m = r.ArrayHeader()
	for i := 0; i < m && r.Err() == nil; i++ {
		r.Tuple(3)
		k := s.id(r.String())
		s.items[k] = acc{finite(r.Float()), uint32(r.UintMax(math.MaxUint32))}
	}
	m = r.ArrayHeader()
	for i := 0; i < m && r.Err() == nil; i++ {
		fields := r.ArrayHeader() // 1+3 per arm before per-arm delta counts, 1+4 before reports, 1+5 since
		if fields != 1+3*len(Arms{}) && fields != 1+4*len(Arms{}) && fields != 1+5*len(Arms{}) {
			r.Fail(fmt.Errorf("arms of %d fields", fields))
			break
		}
		v := uint32(r.UintMax(math.MaxUint32))
		a := new(Arms)
		for j := range a {
			a[j] = ArmTotals{Impressions: r.Uint(), Clicks: r.Uint(), Conversions: r.Uint()}
			if fields >= 1+4*len(Arms{}) {
				a[j].Deltas = r.Uint()
			}
			if fields == 1+5*len(Arms{}) {
				a[j].Reported = r.Uint()
			}
		}
		s.arms[v] = a
	}
	if schema >= 2 {
		s.ref = r.Int()
		s.hl = r.Float()
		s.latest = r.Int()
		if r.Err() == nil && !(s.hl >= 0 && s.hl < math.Inf(1)) {
			r.Fail(fmt.Errorf("half-life %v", s.hl))
		}
		readOracles(r, &s.ldpItems, &s.ldpPairs)
	}
	if schema >= 3 {
		readOracles(r, &s.olhItems, &s.olhPairs)
	}
	if err := r.Finish(); err != nil {
		*s = *NewState()
		return fmt.Errorf("aggregate: decode checkpoint: %w", err)
	}
	s.bytes = int64(len(s.pairs))*pairBytes + int64(len(s.items))*itemBytes
	for k := range s.intern {
		s.bytes += internBytes + int64(len(k))
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

// Moved measures how far b moved from a (decayed sums).
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
