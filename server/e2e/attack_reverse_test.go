package e2e

import (
	"slices"
	"testing"

	"github.com/tailorhq/tailor/sdk/wire"
)

// TestAttackReverse measures whether an attacker who wants his item b in
// the neighbour list of a popular item a plants it more cheaply through
// the reverse pair b → a than through a → b. The pair share checks a pair
// against its from-item's support: a → b against a's, which honest
// shoppers make large, but b → a against b's, which is the attacker's
// own; and a published b → a adds co-occurrence toward b to a's list.
//
// On TestAttackCost's bench (2,000 honest shoppers of the demo on
// tailor.wasm, default parameters) it finds the fewest deltas, each
// carrying the one pair and naming both items, that get b into the most
// popular item's published list and into a new visitor's top 5 after a
// click on it, by a → b and by b → a (and into its list's first 5). The reverse pair may not be cheaper
// than the direct one, nor under minPairCost.
func TestAttackReverse(t *testing.T) {
	b := newAttackBench(t)
	pops := byPopularity(b.weights(0, nil))
	most, least := pops[0].ID, pops[len(pops)-1].ID

	type cost struct{ published, first5, shown int }
	measure := func(attack func(i int) wire.Delta) cost {
		return cost{
			published: smallest(2*b.n, func(m int) bool { return neighbor(b.weights(m, attack), most, least) }),
			first5:    smallest(2*b.n, func(m int) bool { return place(b.weights(m, attack), most, least) < 5 }),
			shown: smallest(2*b.n, func(m int) bool {
				return slices.Contains(b.rank(t, b.weights(m, attack), most), least)
			}),
		}
	}
	direct, reverse := measure(pairAttack("rev", most, least, wire.MaxDeltaWeight)), measure(pairAttack("rev", least, most, wire.MaxDeltaWeight))
	t.Logf("%s into the list of %s (most popular, %d neighbours): %s → %s published from %d deltas, in the list's first 5 from %d, in the top %d after a click from %d; %s → %s from %d, %d and %d",
		least, most, len(pops[0].Next), most, least, direct.published, direct.first5, topK, direct.shown, least, most, reverse.published, reverse.first5, reverse.shown)
	if reverse.published < min(direct.published, minPairCost) {
		t.Errorf("%d deltas of %s → %s put %s into the list of %s; a → b needs %d, want at least %d", reverse.published, least, most, least, most, direct.published, minPairCost)
	}
	if reverse.first5 < direct.first5 {
		t.Errorf("%d deltas of %s → %s put %s into the first 5 neighbours of %s; a → b needs %d", reverse.first5, least, most, least, most, direct.first5)
	}
	if reverse.shown < direct.shown {
		t.Errorf("%d deltas of %s → %s put %s into the top %d after a click on %s; a → b needs %d", reverse.shown, least, most, least, topK, most, direct.shown)
	}
}
