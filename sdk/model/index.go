// Package model scores and orders a slot's candidates from the visitor's
// profile, the moment's context, the site's rules and the global weights
// the server learned from many devices.
//
// The scoring is item-to-item, weighted over the whole session as
// V-SKNN-style session recommenders are: every item of this session votes
// for the items other visitors went on to (sequential rules and
// co-occurrence, shipped as Weights), recent items more strongly. Earlier
// visits, this visitor's own transitions, attribute affinities, searches,
// replenishment and popularity add to that; rules boost, bury, pin or
// filter; a diversity pass and seeded exploration keep the visitor out of a
// filter bubble. Each item comes back with its score and the reason for
// its place.
//
// # Notes
//
// Neither an Index nor a ranking is goroutine-safe: Rank uses the Index's
// scratch space.
package model

import (
	"github.com/tailorhq/tailor/sdk/internal/errs"
	"github.com/tailorhq/tailor/sdk/internal/order"
	"github.com/tailorhq/tailor/sdk/wire"
)

// ErrTooManyIDs refuses weights that would take an Index past MaxIDs.
var ErrTooManyIDs = errs.New("model: weights name more items than the index may hold")

// MaxIDs bounds the item ids an Index holds, its items and their
// neighbours: weights that would take it past are refused whole and the
// index keeps what it held, so that whoever serves the model cannot run
// the page's guest out of memory (fresh 64-byte ids cost about 0.55 KB
// each held: wasm/harness TestHostileWeights). A page holds the head and
// its items' shards; a whole model of the replay's largest catalogue
// (DIGINETICA, 43,097 items) fits.
const MaxIDs = 1 << 16

// Index is a model version's weights held in memory for scoring. Item ids
// are interned to dense numbers when weights arrive, so that a ranking adds
// votes into an array instead of a map: map operations with string keys
// are the slowest thing Go does in WebAssembly, and numbers keep the
// garbage collector from scanning a string per neighbour.
type Index struct {
	Version uint32
	ids     []string         // number → id
	num     map[string]int32 // id → number
	pop     []float32        // by number
	next    [][]edge         // by number, strongest first
	top     []int32          // most popular, for slots without candidates

	votes   []tally // scratch for Rank, by number
	touched []int32 // numbers with votes, to reset
}

type edge struct {
	to int32
	w  float32
}

// TopN is how many popular items Index keeps for generated candidates.
const TopN = 200

// Apply merges one shard (or a whole unsharded version) into the index:
// items in w replace what the index held for them, and the index's
// version is the newest it has seen. A shard may carry an older version
// than the index: the server keeps an unchanged shard (and its URL) across
// versions, so a device holding version 6 may apply shard 2 of version 3.
// Weights that would take the index past MaxIDs ids change nothing and
// return ErrTooManyIDs.
func (x *Index) Apply(w *wire.Weights) error {
	if !x.fits(w) {
		return ErrTooManyIDs
	}
	if x.num == nil {
		x.num = make(map[string]int32, len(w.Items))
	}
	x.Version = max(x.Version, w.Version)
	for i := range w.Items {
		it := &w.Items[i]
		n := x.intern(it.ID)
		x.pop[n] = it.Pop
		edges := make([]edge, len(it.Next))
		for j, nb := range it.Next {
			edges[j] = edge{to: x.intern(nb.ID), w: nb.W}
		}
		x.next[n] = edges
	}
	x.top = x.top[:0]
	for n := range x.ids {
		x.top = append(x.top, int32(n))
	}
	top := x.top
	order.Top(len(top), min(len(top), TopN), func(i, j int) bool {
		pi, pj := x.pop[top[i]], x.pop[top[j]]
		return pi > pj || pi == pj && top[i] < top[j]
	}, func(i, j int) { top[i], top[j] = top[j], top[i] })
	x.top = top[:min(len(top), TopN)]
	return nil
}

// fits reports whether the index can hold the ids w names besides its
// own (MaxIDs): counted once per mention first, which is enough for every
// honest shard, then, only when that is too many, once each.
func (x *Index) fits(w *wire.Weights) bool {
	var fresh map[string]int32 // nil on the first count
	for {
		n := 0
		for i := range w.Items {
			it := &w.Items[i]
			for j := -1; j < len(it.Next); j++ {
				id := it.ID
				if j >= 0 {
					id = it.Next[j].ID
				}
				if _, ok := x.num[id]; !ok {
					n++
					if fresh != nil {
						fresh[id] = 0
					}
				}
			}
		}
		if fresh != nil {
			n = len(fresh)
		}
		if len(x.ids)+n <= MaxIDs {
			return true
		}
		if fresh != nil {
			return false
		}
		fresh = map[string]int32{}
	}
}

// intern returns id's number, adding it if new.
//
//go:noinline
func (x *Index) intern(id string) int32 {
	if n, ok := x.num[id]; ok {
		return n
	}
	n := int32(len(x.ids))
	x.num[id] = n
	x.ids = append(x.ids, id)
	x.pop = append(x.pop, 0)
	x.next = append(x.next, nil)
	x.votes = append(x.votes, tally{})
	return n
}

// Reset empties the index back to version 0.
func (x *Index) Reset() { *x = Index{} }

// Len returns how many items the index knows.
func (x *Index) Len() int { return len(x.ids) }

// Neighbors returns the items visitors go on to after id, strongest first.
func (x *Index) Neighbors(id string) []wire.Neighbor {
	n, ok := x.num[id]
	if !ok {
		return nil
	}
	out := make([]wire.Neighbor, len(x.next[n]))
	for i, e := range x.next[n] {
		out[i] = wire.Neighbor{ID: x.ids[e.to], W: e.w}
	}
	return out
}

// Pop returns an item's popularity, 0-1.
func (x *Index) Pop(id string) float32 {
	if n, ok := x.num[id]; ok {
		return x.pop[n]
	}
	return 0
}

// vote adds w for every neighbour of the item numbered from, scaled by scale.
func (x *Index) vote(from int32, scale float32, reason wire.Reason, ref string) {
	for _, e := range x.next[from] {
		x.addVote(e.to, scale*e.w, reason, ref)
	}
}

//go:noinline
func (x *Index) addVote(n int32, w float32, reason wire.Reason, ref string) {
	if w <= 0 {
		return
	}
	t := &x.votes[n]
	if t.sum == 0 {
		x.touched = append(x.touched, n)
	}
	t.add(w, reason, ref)
}

// weight returns the strength of the edge from → to, or 0.
func (x *Index) weight(from, to int32) float32 {
	for _, e := range x.next[from] {
		if e.to == to {
			return e.w
		}
	}
	return 0
}

// clearVotes resets the scratch votes after a ranking.
func (x *Index) clearVotes() {
	for _, n := range x.touched {
		x.votes[n] = tally{}
	}
	x.touched = x.touched[:0]
}
