package aggregate_test

import (
	"slices"
	"testing"

	"github.com/tailorhq/tailor/sdk/wire"
	"github.com/tailorhq/tailor/server/aggregate"
)

// TestWeightsFloorCountsBothDirections checks that a pair under the floor
// in each direction is published as co-occurrence once both directions
// together have k deltas, that its sequential part waits for k deltas of
// its own, and that a delta holding both directions counts once.
func TestWeightsFloorCountsBothDirections(t *testing.T) {
	type next map[string]float32 // neighbour → weight
	for _, c := range []struct {
		name   string
		ab, ba int // honest deltas a → b and b → a
		both   int // crafted deltas holding a → b and b → a
		wantA  next
		wantB  next
	}{
		{name: "2+2 under k", ab: 2, ba: 2},
		{name: "3+2 co-occurrence only", ab: 3, ba: 2, wantA: next{"b": 1}, wantB: next{"a": 1}},
		{name: "5+2 a→b sequential", ab: 5, ba: 2,
			// a: b = 1.5·5 + 0.5·2 = 8.5; b: a = 0.5·2 + 0.5·5 = 3.5, each its item's best.
			wantA: next{"b": 1}, wantB: next{"a": 1}},
		{name: "crafted both ways count once", both: 4},
		{name: "crafted both ways and one honest", both: 4, ba: 1, wantA: next{"b": 1}, wantB: next{"a": 1}},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := aggregate.DefaultParams
			p.PairShare = 0
			s := aggregate.NewState()
			fold := func(n int, d *wire.Delta) {
				for range n {
					s.Fold(d, s.Cursor+1, t0, &p)
				}
			}
			fold(c.ab, pairDelta("a", "b"))
			fold(c.ba, pairDelta("b", "a"))
			fold(c.both, &wire.Delta{Pairs: []wire.Pair{{From: "a", To: "b", W: 1}, {From: "b", To: "a", W: 1}}})
			got := map[string]next{}
			for _, it := range s.Weights(&p, nil) {
				for _, nb := range it.Next {
					if got[it.ID] == nil {
						got[it.ID] = next{}
					}
					got[it.ID][nb.ID] = nb.W
				}
			}
			for id, want := range map[string]next{"a": c.wantA, "b": c.wantB} {
				if len(got[id]) != len(want) {
					t.Errorf("%s's neighbours = %v, want %v", id, got[id], want)
				}
				for nb, w := range want {
					if got[id][nb] != w {
						t.Errorf("%s's neighbours = %v, want %v", id, got[id], want)
					}
				}
			}
		})
	}
}

// TestWeightsCoOccurrenceOnly checks the scores of a pair over the floor
// only with its reverse's deltas: the co-occurrence part, not the
// sequential one.
func TestWeightsCoOccurrenceOnly(t *testing.T) {
	p := aggregate.DefaultParams
	p.PairShare, p.CoOccurrence = 0, 0.5
	s := aggregate.NewState()
	for range 6 {
		s.Fold(pairDelta("a", "c"), s.Cursor+1, t0, &p) // a → c: 1.5·6 = 9 for c after a
	}
	for range 3 {
		s.Fold(pairDelta("a", "b"), s.Cursor+1, t0, &p) // under k alone: 0.5·3 for b after a
	}
	for range 2 {
		s.Fold(pairDelta("b", "a"), s.Cursor+1, t0, &p) // under k alone: 0.5·2 for b after a
	}
	for _, it := range s.Weights(&p, nil) {
		if it.ID != "a" {
			continue
		}
		want := []wire.Neighbor{{ID: "c", W: 1}, {ID: "b", W: aggregateQuantize(2.5 / 9)}}
		if len(it.Next) != 2 || it.Next[0] != want[0] || it.Next[1] != want[1] {
			t.Errorf("a's neighbours = %v, want %v", it.Next, want)
		}
		return
	}
	t.Error("a has no weights")
}

func aggregateQuantize(v float64) float32 {
	return float32(float64(int(v/aggregate.Quantum+0.5)) * aggregate.Quantum)
}

// TestWeightsPairShareBothDirections checks that a pair's share of its
// from-item's support counts the pair's reverse: a co-occurrence in
// either order.
func TestWeightsPairShareBothDirections(t *testing.T) {
	for _, c := range []struct {
		at, ta int // deltas a → t and t → a
		want   bool
	}{
		{6, 0, false}, // 6 < 0.1·106
		{6, 6, true},  // 6 + 6 >= 0.1·106 (and t → a alone is under t's share too)
	} {
		p := aggregate.DefaultParams
		p.ShareFill = 0 // the share's cut itself
		s := aggregate.NewState()
		for range 100 {
			s.Fold(pairDelta("a", "x"), s.Cursor+1, t0, &p)
			s.Fold(pairDelta("t", "y"), s.Cursor+1, t0, &p)
		}
		for range c.at {
			s.Fold(pairDelta("a", "t"), s.Cursor+1, t0, &p)
		}
		for range c.ta {
			s.Fold(pairDelta("t", "a"), s.Cursor+1, t0, &p)
		}
		got := false
		for _, it := range s.Weights(&p, nil) {
			if it.ID == "a" {
				got = slices.ContainsFunc(it.Next, func(nb wire.Neighbor) bool { return nb.ID == "t" })
			}
		}
		if got != c.want {
			t.Errorf("a → t in %d deltas, t → a in %d: t is a's neighbour %v, want %v", c.at, c.ta, got, c.want)
		}
	}
}

// TestWeightsReverseMeetsShare checks that a pair b → a puts b into a's
// list (its co-occurrence) only with the pair share of a's support, as
// a → b would: b's own support, an attacker's alone, does not do.
func TestWeightsReverseMeetsShare(t *testing.T) {
	for _, c := range []struct {
		ba   int  // deltas b → a
		want bool // b in a's list
	}{
		// a's support: its 100 deltas and the pair's, which name a too.
		{6, false}, // 6 < 0.1·106: planted by k deltas without the check
		{12, true}, // 12 >= 0.1·112
	} {
		p := aggregate.DefaultParams
		p.ShareFill, p.Hop = 0, 0
		s := aggregate.NewState()
		for range 100 {
			s.Fold(pairDelta("a", "x"), s.Cursor+1, t0, &p)
		}
		for range c.ba {
			s.Fold(pairDelta("b", "a"), s.Cursor+1, t0, &p)
		}
		next := map[string][]wire.Neighbor{}
		for _, it := range s.Weights(&p, nil) {
			next[it.ID] = it.Next
		}
		has := func(from, to string) bool {
			return slices.ContainsFunc(next[from], func(nb wire.Neighbor) bool { return nb.ID == to })
		}
		if got := has("a", "b"); got != c.want {
			t.Errorf("b → a in %d deltas: b is a's neighbour %v, want %v", c.ba, got, c.want)
		}
		if !has("b", "a") {
			t.Errorf("b → a in %d deltas: a is not b's neighbour", c.ba)
		}
	}
}

// TestWeightsSecondHop checks that a short neighbour list is filled with
// the second hop, after the direct neighbours and weaker than the hop it
// goes through, that a full list is left as it is, and that a filler
// never leads to another (only direct lists are walked).
func TestWeightsSecondHop(t *testing.T) {
	p := aggregate.DefaultParams
	p.PairShare, p.CoOccurrence, p.Neighbors, p.Hop = 0, 0, 2, 0.5
	s := aggregate.NewState()
	for _, pair := range [][2]string{{"a", "b"}, {"b", "c"}, {"b", "d"}, {"c", "e"}, {"f", "g"}, {"f", "h"}, {"g", "i"}} {
		for range 5 {
			s.Fold(pairDelta(pair[0], pair[1]), s.Cursor+1, t0, &p)
		}
	}
	got := map[string][]wire.Neighbor{}
	for _, it := range s.Weights(&p, nil) {
		got[it.ID] = it.Next
	}
	half := aggregateQuantize(0.5)
	for _, c := range []struct {
		id   string
		want []wire.Neighbor
	}{
		{"a", []wire.Neighbor{{ID: "b", W: 1}, {ID: "c", W: half}}}, // c before d: equal, by id; one free place
		{"b", []wire.Neighbor{{ID: "c", W: 1}, {ID: "d", W: 1}}},    // full: no second hop
		{"c", []wire.Neighbor{{ID: "e", W: 1}}},                     // e leads nowhere
		{"f", []wire.Neighbor{{ID: "g", W: 1}, {ID: "h", W: 1}}},    // full: i stays out
		{"g", []wire.Neighbor{{ID: "i", W: 1}}},
	} {
		if !slices.Equal(got[c.id], c.want) {
			t.Errorf("%s's neighbours = %v, want %v", c.id, got[c.id], c.want)
		}
	}
	p.Hop = 0
	for _, it := range s.Weights(&p, nil) {
		if it.ID == "a" && len(it.Next) != 1 {
			t.Errorf("without the second hop a's neighbours = %v, want b alone", it.Next)
		}
	}
}

// TestWeightsShareFill checks that a pair over k but under the pair
// share fills a short neighbour list after the direct neighbours, at
// ShareFill times its score, and stays out of a full list and of every
// list with ShareFill 0.
func TestWeightsShareFill(t *testing.T) {
	p := aggregate.DefaultParams
	p.CoOccurrence, p.Neighbors, p.Hop, p.ShareFill = 0, 2, 0, 0.5
	s := aggregate.NewState()
	for _, c := range []struct {
		from, to string
		n        int
	}{
		{"a", "x", 100}, {"a", "t", 6}, // 6 < 0.1·106: cut
		{"b", "y", 100}, {"b", "z", 100}, {"b", "t", 6}, // b's list is full
	} {
		for range c.n {
			s.Fold(pairDelta(c.from, c.to), s.Cursor+1, t0, &p)
		}
	}
	lists := func() map[string][]wire.Neighbor {
		got := map[string][]wire.Neighbor{}
		for _, it := range s.Weights(&p, nil) {
			got[it.ID] = it.Next
		}
		return got
	}
	got := lists()
	if want := []wire.Neighbor{{ID: "x", W: 1}, {ID: "t", W: aggregateQuantize(0.5 * 6 / 100)}}; !slices.Equal(got["a"], want) {
		t.Errorf("a's neighbours = %v, want %v", got["a"], want)
	}
	if want := []wire.Neighbor{{ID: "y", W: 1}, {ID: "z", W: 1}}; !slices.Equal(got["b"], want) {
		t.Errorf("b's neighbours = %v, want %v (full: no fill)", got["b"], want)
	}
	p.ShareFill = 0
	if got := lists(); len(got["a"]) != 1 {
		t.Errorf("without the share's fill a's neighbours = %v, want x alone", got["a"])
	}
}
