package e2e

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	demosite "github.com/tailorhq/tailor/demo-site"
	"github.com/tailorhq/tailor/demo-site/sim"
	"github.com/tailorhq/tailor/sdk/wire"
	"github.com/tailorhq/tailor/server/aggregate"
	"github.com/tailorhq/tailor/server/ingest"
	"github.com/tailorhq/tailor/wasm/harness"
	"github.com/tailorhq/tailor/wasm/harness/harnesstest"
)

// What TestAttackCost asserts an attacker needs.
//
// Issue 9 asks for 25% of a window's deltas to put an arbitrary item into
// the home top 5. That is out of reach while a new visitor's home page is
// ranked by popularity: an item's popularity is the share of deltas that
// show it, any delta can show any item, so an attacker with a share a of
// the deltas gives its item a, and the fifth most popular item of the demo
// has about 8%: a > f5/(1+f5) suffices, whatever the aggregation (binary
// counting removed the rest: one delta counts once). minHomeShare states
// what holds. Pairs after a popular item are held to minPairCost by
// PairShare and PairCap.
const (
	minHomeShare = 0.05 // share of a window's deltas needed to put any item into the home top 5 (issue target: 0.25)
	minPairCost  = 20   // deltas needed to plant a pair after the most popular item
)

// attackBench holds honest traffic folded into an aggregate and the real
// tailor.wasm to see what a new visitor is shown.
type attackBench struct {
	s      *sim.Sim
	cfg    wire.Config
	p      aggregate.Params
	honest *aggregate.State
	n      int // honest deltas
	in     *harness.Instance
	seq    uint64
}

func newAttackBench(t *testing.T, honest int) *attackBench {
	t.Helper()
	st := demosite.Site("http://localhost")
	st.Explore, st.Holdout = 0, 0 // no random promotion, no default-order holdout: the ranking is the model's
	b := &attackBench{s: newSim(t), cfg: st.Config(), p: aggregate.DefaultParams, honest: aggregate.NewState(), n: honest}
	deltas := make([][]byte, honest)
	pool := harnesstest.Runtime(t).NewPool(4, nil)
	err := pool.Run(context.Background(), honest, func(in *harness.Instance, i int) error {
		_, d, err := visit(b.s, in, b.cfg, i)
		deltas[i] = d
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, raw := range deltas {
		d, err := ingest.Decode(raw)
		if err != nil {
			t.Fatal(err)
		}
		b.seq++
		// The window: honest deltas over a day, the attack at its end.
		b.honest.Fold(&d, b.seq, t0.Add(time.Duration(i)*24*time.Hour/time.Duration(honest)), &b.p)
	}
	in, err := harnesstest.Runtime(t).Instantiate(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.Close(context.Background()) })
	b.in = in
	return b
}

// weights folds m attacker deltas (made by attack) over the honest
// aggregate and returns the weights a version would publish.
func (b *attackBench) weights(m int, attack func(i int) wire.Delta) []wire.ItemWeights {
	s := b.honest.Clone()
	at := t0.Add(24 * time.Hour)
	for i := 0; i < m; i++ {
		d := attack(i)
		s.Fold(&d, b.seq+uint64(i)+1, at, &b.p)
	}
	return s.Weights(&b.p, nil)
}

// rank shows a new visitor who clicked the given items (none: the home
// page) a ranking of the whole catalogue under the weights, and returns
// the top 5 ids.
func (b *attackBench) rank(t *testing.T, ws []wire.ItemWeights, clicked ...string) []string {
	t.Helper()
	if err := b.in.Init(b.cfg); err != nil {
		t.Fatal(err)
	}
	if err := b.in.ApplyWeights(&wire.Weights{Version: 1, Shard: 0, Shards: 1, Items: ws}); err != nil {
		t.Fatal(err)
	}
	at := t0.Add(25 * time.Hour)
	for _, id := range clicked {
		p := b.s.Catalog.Find(id)
		if p == nil {
			t.Fatalf("no product %q", id)
		}
		if err := b.in.Track(sim.Event(wire.KindClick, p, at)); err != nil {
			t.Fatal(err)
		}
		at = at.Add(30 * time.Second)
	}
	res, err := b.in.Rank(&wire.RankRequest{Slot: "recommended", Candidates: b.s.Candidates(), Limit: topK, Time: at.UnixMilli(), Ctx: sim.Context(at)})
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]string, len(res.Items))
	for i, it := range res.Items {
		ids[i] = it.ID
	}
	return ids
}

// smallest returns the smallest m in [1, hi] for which ok holds, by
// bisection (ok is monotone in m), or hi+1 if none does.
func smallest(hi int, ok func(m int) bool) int {
	if !ok(hi) {
		return hi + 1
	}
	lo := 0 // ok(lo) is false: no attack changes nothing
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		if ok(mid) {
			hi = mid
		} else {
			lo = mid
		}
	}
	return hi
}

// neighbor reports whether to is among from's published neighbours.
func neighbor(ws []wire.ItemWeights, from, to string) bool {
	i, ok := slices.BinarySearchFunc(ws, from, func(it wire.ItemWeights, id string) int {
		switch {
		case it.ID < id:
			return -1
		case it.ID > id:
			return 1
		}
		return 0
	})
	return ok && slices.ContainsFunc(ws[i].Next, func(nb wire.Neighbor) bool { return nb.ID == to })
}

// TestAttackCost measures, on 2,000 honest simulated shoppers of the demo
// run on the real tailor.wasm, what an attacker sending crafted deltas
// needs (issue 9, finding 7):
//   - to put an arbitrary item (the one honest shoppers like least) into a
//     new visitor's home top 5: the share of the window's deltas;
//   - to plant a pair after a given item (the three most popular ones, and
//     running-shoes-1 as in the issue): the number of deltas to get the
//     pair published, and to get it into the top 5 after a click. After an
//     item few visitors see, k (5) remains the price: the pair's support
//     is the attacker's own.
//
// The attacker's deltas are as strong as the wire format allows and still
// look like a shopper's (the server's shape checks pass them).
func TestAttackCost(t *testing.T) {
	const honest = 2000
	b := newAttackBench(t, honest)
	clean := b.weights(0, nil)
	var pops []wire.ItemWeights
	for _, it := range b.s.Candidates() {
		pops = append(pops, wire.ItemWeights{ID: it.ID})
	}
	for i := range pops {
		if j, ok := slices.BinarySearchFunc(clean, pops[i].ID, func(it wire.ItemWeights, id string) int {
			return cmp.Compare(it.ID, id)
		}); ok {
			pops[i].Pop = clean[j].Pop
		}
	}
	slices.SortStableFunc(pops, func(x, y wire.ItemWeights) int { return cmp.Compare(y.Pop, x.Pop) })
	home := b.rank(t, clean)
	least, most := pops[len(pops)-1].ID, pops[0].ID
	t.Logf("%d honest deltas; home top %d: %v; most popular %s, least %s", honest, topK, home, most, least)

	// The home page.
	homeAttack := func(target string) func(i int) wire.Delta {
		return func(i int) wire.Delta {
			d := wire.Delta{Items: []wire.Count{{ID: target, N: wire.MaxDeltaWeight}}}
			copy(d.ID[:], fmt.Sprintf("home-%d", i))
			return d
		}
	}
	m := smallest(4*honest, func(m int) bool {
		return slices.Contains(b.rank(t, b.weights(m, homeAttack(least))), least)
	})
	share := float64(m) / float64(honest+m)
	t.Logf("home top %d: %d attacker deltas (%.1f%% of the window's) put %s there", topK, m, 100*share, least)
	if share < minHomeShare {
		t.Errorf("an attacker with %.1f%% of the window's deltas put %s into the home top %d; want at least %.0f%% needed",
			100*share, least, topK, 100*minHomeShare)
	}

	// A pair after a given item.
	pairAttack := func(from, to string) func(i int) wire.Delta {
		return func(i int) wire.Delta {
			d := wire.Delta{Pairs: []wire.Pair{{From: from, To: to, W: wire.MaxDeltaWeight}},
				Items: []wire.Count{{ID: from, N: 1}, {ID: to, N: 1}}}
			copy(d.ID[:], fmt.Sprintf("pair-%d", i))
			return d
		}
	}
	for i, from := range []string{most, pops[1].ID, pops[2].ID, "running-shoes-1"} {
		to := least
		if to == from {
			to = pops[len(pops)-2].ID
		}
		published := smallest(2*honest, func(m int) bool { return neighbor(b.weights(m, pairAttack(from, to)), from, to) })
		shown := smallest(2*honest, func(m int) bool {
			return slices.Contains(b.rank(t, b.weights(m, pairAttack(from, to)), from), to)
		})
		t.Logf("pair %s → %s: published from %d attacker deltas, in the top %d after a click on %s from %d", from, to, published, topK, from, shown)
		if i == 0 && published < minPairCost {
			t.Errorf("%d deltas planted %s after %s; want at least %d needed", published, to, from, minPairCost)
		}
	}
}
