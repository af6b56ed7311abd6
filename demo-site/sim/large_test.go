package sim_test

import (
	"context"
	"reflect"
	"sync"
	"testing"

	demosite "github.com/tailorhq/tailor/demo-site"
	"github.com/tailorhq/tailor/demo-site/sim"
	"github.com/tailorhq/tailor/sdk/delta"
	"github.com/tailorhq/tailor/sdk/wire"
)

// TestLargeSession: a shopper of a large catalogue clicks 3-8 products,
// the same ones for the same seed and index, mostly walking its category's
// line (the next product in catalogue order), sometimes on to a persona's
// next category.
func TestLargeSession(t *testing.T) {
	c, err := demosite.Synthetic(20_000)
	if err != nil {
		t.Fatal(err)
	}
	place := map[string]int{}
	for i, p := range c.Products {
		place[p.ID] = i
	}
	s := sim.NewLarge(c)
	steps, next, across := 0, 0, 0
	for i := range 2000 {
		ses := s.Session(7, i)
		if len(ses) < 3 || len(ses) > 8 {
			t.Fatalf("shopper %d: %d clicks", i, len(ses))
		}
		if again := s.Session(7, i); !reflect.DeepEqual(ses, again) {
			t.Fatalf("shopper %d: another session the second time", i)
		}
		for j := 1; j < len(ses); j++ {
			steps++
			switch {
			case ses[j].Category != ses[j-1].Category:
				across++
			case place[ses[j].ID] == place[ses[j-1].ID]+1:
				next++
			}
		}
	}
	// stepNext is 0.8, a change of category 0.05 (a walk past a line's
	// end wraps to its start, counted as neither).
	if f := float64(next) / float64(steps); f < 0.7 || f > 0.85 {
		t.Errorf("%.2f of the steps to the next product, want ~0.8", f)
	}
	if f := float64(across) / float64(steps); f < 0.02 || f > 0.08 {
		t.Errorf("%.2f of the steps to another category, want ~0.05", f)
	}
}

// TestLargeTraffic: each shopper's device posts a delta after a page
// that filled a block of delta.Block products no delta of it named before,
// as the loader does (sdk/delta: no two deltas of a device share an item;
// the shoppers do not come back, so a block left short is not sent):
// at least one a shopper of delta.Block products or more, at most one for
// every delta.Block products it clicked; each delta a few pairs of clicked
// products and no item on its own, no arm (nothing is ranked).
func TestLargeTraffic(t *testing.T) {
	c, err := demosite.Synthetic(2000)
	if err != nil {
		t.Fatal(err)
	}
	s := sim.NewLarge(c)
	const n = 60
	least, most := 0, 0
	clicked := map[string]bool{}
	for i := range n {
		seen := map[string]bool{}
		for _, p := range s.Session(3, i) {
			clicked[p.ID], seen[p.ID] = true, true
		}
		if len(seen) >= delta.Block {
			least++
		}
		most += len(seen) / delta.Block
	}
	site := demosite.Site()
	var mu sync.Mutex
	got, pairs := 0, 0
	err = s.Traffic(context.Background(), 4, site.Config(), n, 3, start, func(b []byte) error {
		var d wire.Delta
		if err := wire.Unmarshal(b, &d, "delta"); err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		got++
		pairs += len(d.Pairs)
		if d.Site != demosite.Key || len(d.Arms) != 0 {
			t.Errorf("delta of site %q with %d arms", d.Site, len(d.Arms))
		}
		if len(d.Items) != 0 || len(d.Pairs) == 0 || len(d.Pairs) > delta.SampledPairs {
			t.Errorf("delta of %d items and %d pairs, want none and 1-%d", len(d.Items), len(d.Pairs), delta.SampledPairs)
		}
		for _, q := range d.Pairs {
			if !clicked[q.From] || !clicked[q.To] {
				t.Errorf("delta pair %s → %s was never clicked", q.From, q.To)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got < least || got > most {
		t.Errorf("%d deltas with %d pairs, want %d-%d deltas", got, pairs, least, most)
	}
}
