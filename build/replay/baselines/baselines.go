// Package baselines holds the central methods Tailor is measured against,
// written in Go after session-rec's Python (github.com/rn5l/session-rec,
// algorithms/baselines and algorithms/knn; Ludewig, Mauro, Latifi, Jannach,
// RecSys 2019) so they run in the same tool on the same data:
//
//   - POP: global popularity (baselines/pop.py, Pop).
//   - S-POP: items of the current session by count, then global
//     popularity (baselines/spop.py, SessionPop).
//   - Segment: the traditional rule engine: popular items per segment of
//     context (category of the last viewed item, else time-of-day band).
//   - AR: association rules (baselines/ar.py, AssociationRules).
//   - SR: sequential rules (baselines/sr.py, SequentialRules).
//   - V-SKNN: vector-multiplication session kNN (knn/vsknn.py,
//     VMContextKNN).
//
// They see all raw training data: that is what Tailor's on-device modes
// are compared with. Importing the package registers each one with
// package replay (see register.go for the names).
//
// Ties: session-rec sorts scores with an unstable sort over the training
// items, so equal scores come out in an arbitrary order. Here every list
// is ordered by score, then by the item's first appearance in the
// training data, which makes runs reproducible. session-rec also pads a
// list with zero-score items up to the cut-off; these methods return only
// the items they score.
//
// # Notes
//
// A method is fitted once; after Fit it is read-only and Start may be
// called from any number of goroutines. Each Session belongs to one
// goroutine.
package baselines

import (
	"cmp"
	"slices"

	"github.com/tailorhq/tailor/build/replay/data"
)

// catalog interns item ids as dense numbers in order of first appearance
// in the training data; that order also breaks score ties.
type catalog struct {
	ids   map[string]int32
	names []string
	count []int // training clicks per item
}

func newCatalog(train []data.Session) *catalog {
	c := &catalog{ids: make(map[string]int32)}
	for _, s := range train {
		for _, cl := range s.Clicks {
			c.count[c.intern(cl.Item)]++
		}
	}
	return c
}

func (c *catalog) intern(item string) int32 {
	id, ok := c.ids[item]
	if !ok {
		id = int32(len(c.names))
		c.ids[item] = id
		c.names = append(c.names, item)
		c.count = append(c.count, 0)
	}
	return id
}

// lookup returns the item's number, or -1 for an item never trained on.
func (c *catalog) lookup(item string) int32 {
	if id, ok := c.ids[item]; ok {
		return id
	}
	return -1
}

// scored is a candidate item and its score.
type scored struct {
	id    int32
	score float64
}

// byScore orders by score, highest first, then by first appearance.
func byScore(a, b scored) int {
	if c := cmp.Compare(b.score, a.score); c != 0 {
		return c
	}
	return cmp.Compare(a.id, b.id)
}

// top sorts cands and returns the names of the k best.
func (c *catalog) top(cands []scored, k int) []string {
	slices.SortFunc(cands, byScore)
	return c.namesOf(cands[:min(k, len(cands))])
}

func (c *catalog) namesOf(cands []scored) []string {
	out := make([]string, len(cands))
	for i, s := range cands {
		out[i] = c.names[s.id]
	}
	return out
}

// popular returns all items ordered by training clicks, most first.
func (c *catalog) popular() []scored {
	out := make([]scored, len(c.names))
	for i, n := range c.count {
		out[i] = scored{int32(i), float64(n)}
	}
	slices.SortFunc(out, byScore)
	return out
}
