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
// An Index is not goroutine-safe; Rank only reads it.
package model

import (
	"github.com/tailorhq/tailor/sdk/internal/order"
	"github.com/tailorhq/tailor/sdk/wire"
)

// Index is a model version's weights held in memory for scoring.
type Index struct {
	Version uint32
	items   map[string]*wire.ItemWeights
	top     []string // most popular ids, for slots without candidates
}

// TopN is how many popular items Index keeps for generated candidates.
const TopN = 200

// Apply merges one shard (or a whole unsharded version) into the index:
// items in w replace what the index held for them.
func (x *Index) Apply(w *wire.Weights) {
	if x.items == nil || w.Version < x.Version {
		// An older version than held (a stale cached shard) starts over.
		x.items = make(map[string]*wire.ItemWeights, len(w.Items))
	}
	x.Version = w.Version
	for i := range w.Items {
		it := w.Items[i]
		x.items[it.ID] = &it
	}
	x.top = x.top[:0]
	for id := range x.items {
		x.top = append(x.top, id)
	}
	top := x.top
	order.Sort(len(top), func(i, j int) bool {
		pi, pj := x.items[top[i]].Pop, x.items[top[j]].Pop
		return pi > pj || pi == pj && top[i] < top[j]
	}, func(i, j int) { top[i], top[j] = top[j], top[i] })
	x.top = x.top[:min(len(x.top), TopN)]
}

// Reset empties the index back to version 0.
func (x *Index) Reset() { *x = Index{} }

// Len returns how many items the index knows.
func (x *Index) Len() int { return len(x.items) }

// Neighbors returns the items visitors go on to after id, strongest first.
func (x *Index) Neighbors(id string) []wire.Neighbor {
	if it := x.items[id]; it != nil {
		return it.Next
	}
	return nil
}

// Pop returns an item's popularity, 0-1.
func (x *Index) Pop(id string) float32 {
	if it := x.items[id]; it != nil {
		return it.Pop
	}
	return 0
}

func cmpDesc(a, b float32) int {
	switch {
	case a > b:
		return -1
	case a < b:
		return 1
	}
	return 0
}
