package e2e

import (
	"context"
	"fmt"
	"reflect"
	"testing"

	demosite "github.com/tailorhq/tailor/demo-site"
	"github.com/tailorhq/tailor/sdk/wire"
	"github.com/tailorhq/tailor/server/aggregate"
	"github.com/tailorhq/tailor/server/ingest"
	"github.com/tailorhq/tailor/server/site"
	"github.com/tailorhq/tailor/wasm/harness"
	"github.com/tailorhq/tailor/wasm/harness/harnesstest"
)

// maxHitRateDrop is the stated bound of the poisoning test: 10% of devices
// sending maximal deltas for one item cost honest visitors less than this
// much hit rate (absolute).
const maxHitRateDrop = 0.03

// TestPoisoning: 900 honest visitors sync to two sites of one server,
// "clean" and "poisoned"; 100 more devices (10%) send "poisoned" maximal
// adversarial deltas pushing one item (every other item leads to it with
// weight 1000, and its count is 1000). After both publish:
//   - each site's published weights are exactly what its clipped sums give
//     (rebuilt here from the same deltas), and the poisoned sums moved from
//     the clean ones by no more than the clipping allows 100 deltas: per
//     entry 100 × ClipWeight, into or out of one item 100 × ClipItem, in
//     L1 100 × ClipL1;
//   - 500 held-out honest visitors' next-click hit rate under "poisoned"
//     is less than maxHitRateDrop below their rate under "clean".
func TestPoisoning(t *testing.T) {
	const honest, adversaries, evaluated = 900, 100, 500
	const target = "coffee-filters-1"
	s := newSim(t)
	var list []site.Site
	for _, key := range []string{"clean", "poisoned"} {
		st := demosite.Site("http://localhost")
		st.Key, st.Holdout = key, 0
		list = append(list, st)
	}
	sites := siteSet(t, list...)
	p := aggregate.DefaultParams
	p.HalfLife = 0 // the server folds at the hour it receives; the sums rebuilt here must match exactly
	srv := startServer(t, sites, p, 1<<30)
	clean := srv.fetch(t, "clean")

	// Honest visitors, synced to both sites; the clean aggregate is kept
	// here too, for the bound.
	deltas := make([][]byte, honest)
	pool := harnesstest.Runtime(t).NewPool(8, clean.apply)
	err := pool.Run(context.Background(), honest, func(in *harness.Instance, i int) error {
		_, d, err := visit(s, in, clean.config, i)
		deltas[i] = d
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	cleanState, poisonedState := aggregate.NewState(), aggregate.NewState()
	seq := uint64(0)
	for _, b := range deltas {
		d, err := ingest.Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		seq++
		cleanState.Fold(&d, seq, t0, &p)
		poisonedState.Fold(&d, seq, t0, &p)
		if _, err := srv.sync(b); err != nil {
			t.Fatal(err)
		}
		d.Site = "poisoned"
		d.ID[0] ^= 0xff
		if _, err := srv.sync(wire.Marshal(&d)); err != nil {
			t.Fatal(err)
		}
	}
	// The adversaries: maximal deltas for one item, as large as the wire
	// format and the server's checks allow (ingest: not every weight at
	// the maximum, at most ingest.PairsPerItem pairs per item reported).
	for a := 0; a < adversaries; a++ {
		d := wire.Delta{Site: "poisoned", Items: []wire.Count{{ID: target, N: wire.MaxDeltaWeight}}}
		copy(d.ID[:], fmt.Sprintf("adversary-%06d", a))
		for _, it := range s.Candidates() {
			if it.ID != target {
				d.Pairs = append(d.Pairs, wire.Pair{From: it.ID, To: target, W: wire.MaxDeltaWeight})
				if len(d.Pairs) > len(d.Items)*ingest.PairsPerItem {
					d.Items = append(d.Items, wire.Count{ID: it.ID, N: 1})
				}
			}
		}
		if _, err := srv.sync(wire.Marshal(&d)); err != nil {
			t.Fatal(err)
		}
		seq++
		poisonedState.Fold(&d, seq, t0, &p)
	}
	if err := srv.agg.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	cleanV, poisonedV := srv.fetch(t, "clean"), srv.fetch(t, "poisoned")
	if cleanV.manifest.Deltas != honest || poisonedV.manifest.Deltas != honest+adversaries {
		t.Fatalf("versions built from %d and %d deltas", cleanV.manifest.Deltas, poisonedV.manifest.Deltas)
	}

	// The bound: what the server published is what the sums give, and
	// the sums moved within what clipping allows.
	got, was := poisonedV.items(t), cleanV.items(t)
	for _, c := range []struct {
		name      string
		state     *aggregate.State
		published map[string]wire.ItemWeights
	}{{"clean", cleanState, was}, {"poisoned", poisonedState, got}} {
		want := c.state.Weights(&p, nil)
		if len(want) != len(c.published) {
			t.Fatalf("%s: published %d items, the sums give %d", c.name, len(c.published), len(want))
		}
		for _, it := range want {
			got := c.published[it.ID]
			if len(got.Next) == 0 && len(it.Next) == 0 {
				got.Next, it.Next = nil, nil // no neighbours: decoded empty, built nil
			}
			if !reflect.DeepEqual(got, it) {
				t.Fatalf("%s: published %+v\nthe sums give %+v", c.name, c.published[it.ID], it)
			}
		}
	}
	moved := aggregate.Moved(cleanState, poisonedState)
	if err := moved.Within(adversaries, &p); err != nil {
		t.Error(err)
	}
	maxMove := 0.0
	for from, it := range got {
		for _, nb := range it.Next {
			old := 0.0
			for _, o := range was[from].Next {
				if o.ID == nb.ID {
					old = float64(o.W)
				}
			}
			maxMove = max(maxMove, float64(nb.W)-old)
		}
	}
	ranked := 0
	for _, it := range got {
		for k, nb := range it.Next {
			if nb.ID == target && k < topK {
				ranked++
			}
		}
	}

	// The honest visitors' metric.
	eval := clean.config
	before := evaluate(t, s, eval, 2_000_000, evaluated, cleanV.apply)
	after := evaluate(t, s, eval, 2_000_000, evaluated, poisonedV.apply)
	t.Logf("%d honest + %d adversarial deltas (%.0f%%) pushing %s:", honest, adversaries, 100.0*adversaries/(honest+adversaries), target)
	t.Logf("  the sums moved: pairs %.0f in L1 (bound %.0f), items %.0f (bound %.0f), one entry at most %.1f (bound %.0f), into or out of one item at most %.1f (bound %.0f)",
		moved.PairsL1, adversaries*p.ClipL1, moved.ItemsL1, adversaries*p.ClipL1, moved.Entry, adversaries*p.ClipWeight, moved.PerItem, adversaries*p.ClipItem)
	t.Logf("  published: %s popularity %.3f → %.3f; among the top %d neighbours of %d of %d items; the largest rise of a neighbour weight %.3f",
		target, was[target].Pop, got[target].Pop, topK, ranked, len(got), maxMove)
	t.Logf("  next click in the top %d for %d honest visitors: %.1f%% clean, %.1f%% poisoned (drop %.1f points; stated bound %.0f)",
		topK, evaluated, 100*before, 100*after, 100*(before-after), 100*maxHitRateDrop)
	if before-after >= maxHitRateDrop {
		t.Errorf("poisoning cost honest visitors %.3f of hit rate, want less than %.2f", before-after, maxHitRateDrop)
	}
}
