package sim_test

import (
	"context"
	"reflect"
	"sync"
	"testing"

	demosite "github.com/tailorhq/tailor/demo-site"
	"github.com/tailorhq/tailor/demo-site/sim"
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

// TestLargeTraffic: each shopper's device posts a delta after each page
// that taught it something new to send, as the loader does: at least each
// click on a product it had not clicked before (a device sends an item and
// a pair once: sdk/delta's sent set), at most each click on a product other
// than the last (an add to the cart or a purchase of it may add nothing);
// with the pairs of its walk and no arm (nothing is ranked).
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
		ses := s.Session(3, i)
		seen := map[string]bool{}
		for _, p := range ses {
			clicked[p.ID] = true
			if !seen[p.ID] {
				seen[p.ID] = true
				least++
			}
		}
		most += len(ses)
		if i%6 == 0 {
			most += 2
		}
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
		for _, it := range d.Items {
			if !clicked[it.ID] {
				t.Errorf("delta item %s was never clicked", it.ID)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got < least || got > most || pairs < got {
		t.Errorf("%d deltas with %d pairs, want %d-%d deltas (one a page that taught something), a pair each on average or more", got, pairs, least, most)
	}
}
