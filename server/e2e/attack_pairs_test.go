package e2e

import (
	"fmt"
	"slices"
	"testing"

	"github.com/tailorhq/tailor/sdk/wire"
	"github.com/tailorhq/tailor/server/ingest"
)

// TestAttackPairOnly measures whether session 7's allowance, a delta with
// no item carrying up to ingest.PairsPerItem pairs (for a device's sent
// set: a page of items already sent syncs only its new pairs), makes
// planting a pair cheaper than before it. On TestAttackCost's bench (2,000
// honest shoppers of the demo on tailor.wasm, default parameters), for
// from-items from the most popular to one no honest delta named, it finds
// the fewest deltas that get the pair from → to published, for three
// attackers:
//   - "from and to named": TestAttackCost's, the delta also names both
//     items (which raises from's popularity, part of its support);
//   - "to named": the cheapest delta before the allowance, one item;
//   - "pair only": the allowance's, no item.
//
// Every delta passes ingest.Check. The pair-only attacker may not be
// cheaper than the to-named one: an item named besides the pair never
// added to what the pair's floors ask (the support of a from-item is its
// pairs' sum or its popularity, which naming to leaves alone).
func TestAttackPairOnly(t *testing.T) {
	b := newAttackBench(t)
	clean := b.weights(0, nil)
	pops := byPopularity(clean)
	// The most popular item; running-shoes-1, the rarely seen item;
	// and a product no honest delta named yet (new in the catalogue), whose
	// pairs' support is the attacker's. The pair leads to the least popular
	// published item that is none of them.
	const fresh = "new-product-1"
	froms := []string{pops[0].ID, "running-shoes-1", fresh}
	var to string
	for i := len(pops) - 1; to == "" && i >= 0; i-- {
		if !slices.Contains(froms, pops[i].ID) {
			to = pops[i].ID
		}
	}

	type attacker struct {
		name  string
		delta func(from string, i int) wire.Delta
	}
	attackers := []attacker{
		{"from and to named", func(from string, i int) wire.Delta { return pairAttack("po", from, to, 1)(i) }},
		{"to named", func(from string, i int) wire.Delta {
			return wire.Delta{Pairs: []wire.Pair{{From: from, To: to, W: 1}}, Items: []wire.Count{{ID: to, N: 1}}}
		}},
		{"pair only", func(from string, i int) wire.Delta {
			return wire.Delta{Pairs: []wire.Pair{{From: from, To: to, W: 1}}}
		}},
	}
	for _, from := range froms {
		cost := map[string]int{}
		for _, a := range attackers {
			d := a.delta(from, 0)
			d.Site = "demo"
			if err := ingest.Check(&d, ingest.Policy{Privacy: wire.PrivacyFederated}); err != nil {
				t.Fatalf("%s: the server refuses the attacker's delta: %v", a.name, err)
			}
			attack := func(i int) wire.Delta {
				d := a.delta(from, i)
				copy(d.ID[:], fmt.Sprintf("po-%d", i))
				return d
			}
			cost[a.name] = smallest(100, func(m int) bool { return neighbor(b.weights(m, attack), from, to) }) // 101: not even by 100
		}
		it, _ := item(clean, from)
		t.Logf("%s (popularity %.3f) → %s published from: %d deltas naming both, %d naming to, %d pair-only",
			from, it.Pop, to, cost["from and to named"], cost["to named"], cost["pair only"])
		if cost["pair only"] < cost["to named"] {
			t.Errorf("%s → %s: pair-only deltas plant it with %d, deltas naming an item needed %d", from, to, cost["pair only"], cost["to named"])
		}
		if from == fresh && cost["pair only"] < b.p.MinCohort {
			t.Errorf("%s → %s: %d pair-only deltas plant it after a new product; want at least k = %d", from, to, cost["pair only"], b.p.MinCohort)
		}
		if from == pops[0].ID && cost["pair only"] < minPairCost {
			t.Errorf("%s → %s: %d pair-only deltas plant it after the most popular item; want at least %d", from, to, cost["pair only"], minPairCost)
		}
	}
}
