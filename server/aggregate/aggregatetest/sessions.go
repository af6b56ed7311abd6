package aggregatetest

import (
	"fmt"
	"math/rand/v2"

	"github.com/tailorhq/tailor/sdk/wire"
)

// Sessions streams device-shaped deltas over a catalogue: each delta is a
// session of 2-10 views, the first item Zipf-popular over the catalogue,
// each next one 7 times in 10 from the same category of 50 items (Zipf
// inside it, as shoppers browse neighbouring products), else Zipf over the
// catalogue; it carries up to 4 of the session's consecutive pairs and up
// to 8 of its items, as sdk/delta samples them.
type Sessions struct {
	rng      *rand.Rand
	all, cat *rand.Zipf
	ids      []string
	views    []int
}

// categorySize is how many neighbouring items a session browses among.
const categorySize = 50

// NewSessions returns the stream of seed over a catalogue of items.
func NewSessions(seed uint64, items int) *Sessions {
	rng := rand.New(rand.NewPCG(seed, seed+1))
	g := &Sessions{rng: rng, all: rand.NewZipf(rng, 1.1, 1, uint64(items-1)),
		cat: rand.NewZipf(rng, 1.2, 1, categorySize-1), ids: make([]string, items)}
	for i := range g.ids {
		g.ids[i] = fmt.Sprintf("sku-%07d", i)
	}
	return g
}

// Next fills d with the next session's delta, reusing its slices.
func (g *Sessions) Next(d *wire.Delta) {
	g.views = g.views[:0]
	n := 2 + g.rng.IntN(9)
	cur := int(g.all.Uint64())
	for range n {
		g.views = append(g.views, cur)
		if g.rng.IntN(10) < 7 {
			cur = min(len(g.ids)-1, cur/categorySize*categorySize+int(g.cat.Uint64()))
		} else {
			cur = int(g.all.Uint64())
		}
	}
	d.Pairs, d.Items = d.Pairs[:0], d.Items[:0]
	for i := 1; i < len(g.views) && len(d.Pairs) < 4; i++ {
		if g.views[i] != g.views[i-1] {
			d.Pairs = append(d.Pairs, wire.Pair{From: g.ids[g.views[i-1]], To: g.ids[g.views[i]], W: 1})
		}
	}
	seen := map[int]bool{}
	for _, v := range g.views {
		if !seen[v] && len(d.Items) < 8 {
			seen[v] = true
			d.Items = append(d.Items, wire.Count{ID: g.ids[v], N: 1})
		}
	}
}
