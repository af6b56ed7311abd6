package e2e

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	demosite "github.com/tailorhq/tailor/demo-site"
	"github.com/tailorhq/tailor/demo-site/sim"
	"github.com/tailorhq/tailor/sdk/delta"
	"github.com/tailorhq/tailor/sdk/wire"
	"github.com/tailorhq/tailor/wasm/harness"
	"github.com/tailorhq/tailor/wasm/harness/harnesstest"
)

// What TestLinkage finds, as PRIVACY.md states it ("What Tailor cannot
// protect"): on a catalogue of 40,000 products the operator links by
// content alone at least minLinked of the deltas that follow an earlier
// one of the same device to that device's (measured 99.8-99.9%), and
// rebuilds exactly at least minRebuilt of the click paths of 3 or more
// products (measured 99.1%).
const (
	minLinked  = 0.95
	minRebuilt = 0.90
)

// linkDelta is one delta as the operator sees it, with what the test
// knows: the device that sent it.
type linkDelta struct {
	device int
	at     time.Time
	items  map[string]bool
	refs   []string // pair endpoints the delta names without naming them as items
	order  []string // its items, ordered as its pairs allow (a pair's from first)
	pairs  [][2]string
}

// TestLinkage is the operator's attack on "which deltas come from the same
// device" (DESIGN.md: the operator must never learn it). A delta's pairs
// are the clicks since the last sync, "to within 10 steps after from", so
// the pair of a page's click usually starts at an item of an earlier page,
// which an earlier delta of the device named as an item (the sent set
// makes that explicit: a page of items already sent syncs only its new
// pairs). The operator links each delta whose pairs name items it does not
// name itself to the earlier delta, within 30 minutes of arrival (its web
// server's log) or in the store's arrival order alone, that named most of
// them (the latest on a tie). Shoppers of synthetic catalogues of 40,000,
// 2,000 and 200 products (demo-site/sim Large: the demo's personas along
// product lines, a new shopper every 10 s) on the real tailor.wasm, a
// delta after every page as the loader syncs on pagehide. Linked deltas
// chain into the visit, and their pairs in arrival order into its click
// path: what one delta does not reveal, the visit's deltas do. It is a
// known break (PRIVACY.md); the test fails once a defence brings it under
// minLinked on the large catalogue, so that the text changes with it.
func TestLinkage(t *testing.T) {
	for _, products := range []int{40000, 2000, 200} {
		t.Run(fmt.Sprint(products, " products"), func(t *testing.T) { linkage(t, products) })
	}
}

func linkage(t *testing.T, products int) {
	const shoppers, seed = 1500, 11
	c, err := demosite.Synthetic(products)
	if err != nil {
		t.Fatal(err)
	}
	large := sim.NewLarge(c)
	st := demosite.Site("http://localhost")
	cfg := st.Config()
	start := t0
	perDevice := make([][]linkDelta, shoppers)
	clicked := make([][]string, shoppers) // each device's distinct clicks in order
	pool := harnesstest.Runtime(t).NewPool(4, nil)
	err = pool.Run(context.Background(), shoppers, func(in *harness.Instance, i int) error {
		if err := in.Init(cfg); err != nil {
			return err
		}
		at := start.Add(time.Duration(i) * 10 * time.Second)
		for j, p := range large.Session(seed, i) {
			if !slices.Contains(clicked[i], p.ID) {
				clicked[i] = append(clicked[i], p.ID)
			}
			at = at.Add(time.Duration(20+j*7) * time.Second)
			if err := in.Track(sim.Event(wire.KindClick, &p, at)); err != nil {
				return err
			}
			b, err := in.TakeDelta()
			if err != nil {
				return err
			}
			if len(b) == 0 {
				continue
			}
			var d wire.Delta
			if err := wire.Unmarshal(b, &d, "delta"); err != nil {
				return err
			}
			ld := linkDelta{device: i, at: at, items: map[string]bool{}}
			for _, it := range d.Items {
				ld.items[it.ID] = true
			}
			for _, it := range d.Items {
				ld.order = append(ld.order, it.ID)
			}
			slices.SortStableFunc(ld.order, func(a, b string) int {
				switch {
				case slices.Contains(d.Pairs, wire.Pair{From: a, To: b, W: 1}):
					return -1
				case slices.Contains(d.Pairs, wire.Pair{From: b, To: a, W: 1}):
					return 1
				}
				return 0
			})
			for _, q := range d.Pairs {
				ld.pairs = append(ld.pairs, [2]string{q.From, q.To})
				for _, id := range []string{q.From, q.To} {
					if !ld.items[id] && !slices.Contains(ld.refs, id) {
						ld.refs = append(ld.refs, id)
					}
				}
			}
			perDevice[i] = append(perDevice[i], ld)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var all []linkDelta
	for _, ds := range perDevice {
		all = append(all, ds...)
	}
	slices.SortStableFunc(all, func(a, b linkDelta) int { return a.at.Compare(b.at) })

	// link guesses, for each delta, the earlier delta within window (0:
	// any earlier one) that named most of its refs as items.
	type result struct {
		deltas, later, linkable, right, pairOnly, pairOnlyRight, window int
		parent                                                          []int // the delta each was linked to, -1: none
	}
	link := func(within time.Duration) result {
		r := result{parent: make([]int, len(all))}
		for i, d := range all {
			r.deltas++
			hasEarlier := false
			best, bestScore := -1, 0
			for j := i - 1; j >= 0 && (within == 0 || d.at.Sub(all[j].at) <= within); j-- {
				r.window++
				e := all[j]
				if e.device == d.device {
					hasEarlier = true
				}
				score := 0
				for _, id := range d.refs {
					if e.items[id] {
						score++
					}
				}
				if score > bestScore { // the latest wins a tie: it is met first
					best, bestScore = j, score
				}
			}
			if hasEarlier {
				r.later++
			}
			r.parent[i] = best
			if best < 0 {
				continue
			}
			r.linkable++
			ok := all[best].device == d.device
			if ok {
				r.right++
			}
			if len(d.items) == 0 {
				r.pairOnly++
				if ok {
					r.pairOnlyRight++
				}
			}
		}
		return r
	}
	whole := link(0)
	r := link(30 * time.Minute)
	deltas, later, linkable, right, pairOnly, pairOnlyRight, window := r.deltas, r.later, r.linkable, r.right, r.pairOnly, r.pairOnlyRight, r.window
	share := func(a, b int) float64 { return float64(a) / float64(max(b, 1)) }
	t.Logf("%d shoppers, %d deltas (%d after an earlier one of the same device, %.0f deltas in a 30-minute window on average)",
		shoppers, deltas, later, share(window, deltas))
	t.Logf("linked by content: %d of %d deltas (%.1f%%), to the right device %d (%.1f%% of the guesses; %.1f%% of the %d later deltas); pair-only deltas %d, right %d (%.1f%%)",
		linkable, deltas, 100*share(linkable, deltas), right, 100*share(right, linkable), 100*share(right, later), later, pairOnly, pairOnlyRight, 100*share(pairOnlyRight, pairOnly))
	t.Logf("without times, among all %d deltas of the run (%s): %d guesses, right %d (%.1f%% of the guesses, %.1f%% of the later deltas)",
		whole.deltas, all[len(all)-1].at.Sub(all[0].at).Round(time.Minute), whole.linkable, whole.right,
		100*share(whole.right, whole.linkable), 100*share(whole.right, whole.later))
	// The click path: each chain of linked deltas, in arrival order, lists
	// its items as they first appear (in a delta, a pair's from first);
	// a device's path is rebuilt when the chain of its first delta lists
	// exactly its distinct clicks in order (those its deltas named).
	root := func(i int) int {
		for r.parent[i] >= 0 {
			i = r.parent[i]
		}
		return i
	}
	chains := map[int][]string{}
	first := map[int]int{} // device → index of its first delta
	for i, d := range all {
		c := root(i)
		for _, id := range d.order {
			if !slices.Contains(chains[c], id) {
				chains[c] = append(chains[c], id)
			}
		}
		if _, ok := first[d.device]; !ok {
			first[d.device] = i
		}
	}
	var paths, rebuilt int
	for dev, i := range first {
		sent := map[string]bool{}
		for _, d := range perDevice[dev] {
			for id := range d.items {
				sent[id] = true
			}
		}
		truth := slices.DeleteFunc(slices.Clone(clicked[dev]), func(id string) bool { return !sent[id] })
		if len(truth) < 3 {
			continue
		}
		paths++
		if slices.Equal(chains[root(i)], truth) {
			rebuilt++
		}
	}
	t.Logf("click paths of 3 or more products rebuilt exactly from the linked deltas: %d of %d (%.1f%%)", rebuilt, paths, 100*share(rebuilt, paths))

	// What one delta per visit, the sync that would leave nothing to
	// link, would keep of the pairs: at most 4 (delta.SampledPairs), no
	// two of which chain (greedily: an upper bound's estimate).
	var sentPairs, keptPairs int
	for _, ds := range perDevice {
		var kept [][2]string
		for _, d := range ds {
			for _, q := range d.pairs {
				sentPairs++
				if len(kept) < delta.SampledPairs && !slices.ContainsFunc(kept, func(k [2]string) bool { return k[1] == q[0] || q[1] == k[0] }) {
					kept = append(kept, q)
				}
			}
		}
		keptPairs += len(kept)
	}
	t.Logf("pairs sent: %d with a delta per page; one delta per visit would keep at most %d (%.1f%%)", sentPairs, keptPairs, 100*share(keptPairs, sentPairs))

	// The break as PRIVACY.md states it: a defence that lands must bring
	// it down, and change the text.
	if s := share(right, later); products == 40000 && s < minLinked {
		t.Errorf("%.1f%% of the later deltas are linked to their device's earlier one by content; PRIVACY.md says %.0f%% or more: update it", 100*s, 100*minLinked)
	}
	if s := share(rebuilt, paths); products == 40000 && s < minRebuilt {
		t.Errorf("%.1f%% of the click paths are rebuilt; PRIVACY.md says %.0f%% or more: update it", 100*s, 100*minRebuilt)
	}
}
