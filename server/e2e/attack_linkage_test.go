package e2e

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/tailorhq/tailor/demo-site/sim"
	"github.com/tailorhq/tailor/sdk/wire"
	"github.com/tailorhq/tailor/wasm/harness"
)

// What TestLinkage allows, as PRIVACY.md states it: linked by content to
// the right earlier delta, at most maxLinked of the deltas that follow an
// earlier one of the same device, and at most maxRebuilt of the click
// paths of 3 or more products rebuilt. Before a device's deltas shared no
// item, the same attack linked 99.8-99.9% and rebuilt 99.1% of the paths
// on 40,000 products (93.7% and 74.6% on 2,000, 60.4% and 15.0% on 200).
// A path within one delta (a block) is never linked to anything: the
// attack can only guess its order from the set of its ids; at most
// maxGuessed more of them may come out in order than the ids' order gives.
const (
	maxLinked  = 0.02
	maxRebuilt = 0.02
	maxGuessed = 0.05
)

// linkDelta is one delta as the operator sees it, with what the test
// knows: the device that sent it.
type linkDelta struct {
	device int
	at     time.Time
	named  []string // the items it names, on their own or in pairs, as they first appear (a pair's from first)
}

// TestLinkage is the operator's attack on "which deltas come from the same
// device" (DESIGN.md: the operator must never learn it). A delta's pairs
// are the clicks since the last sync, "to within 10 steps after from", so
// the pair of a page's click would start at an item of an earlier page,
// which an earlier delta of the device named: the operator links each
// delta to the earlier delta, within 30 minutes of arrival (its web
// server's log) or in the store's arrival order alone, that shares most
// of its items (the latest on a tie), chains linked deltas into visits and
// their items into click paths. Shoppers of synthetic catalogues of
// 40,000, 2,000 and 200 products (demo-site/sim Large: the demo's personas
// along product lines, a new shopper every 10 s) on the real tailor.wasm,
// a delta after every page as the loader syncs on pagehide. No two deltas
// of a device name one item (sdk/delta MaxSent), so what links is only
// another device's delta naming the same item: wrong guesses. A delta's
// pairs are a block's, in random directions: about half point the click
// order's way, and a path within one delta comes out in order no more
// often than the order of its ids gives.
func TestLinkage(t *testing.T) {
	for _, products := range []int{40000, 2000, 200} {
		t.Run(fmt.Sprint(products, " products"), func(t *testing.T) { linkage(t, products) })
	}
}

func linkage(t *testing.T, products int) {
	const shoppers, seed = 1500, 11
	large, cfg := largeShop(t, products)
	start := t0
	clicked := make([][]string, shoppers) // each device's distinct clicks in order
	forward := make([][2]int, shoppers)   // each device's pairs the click order's way, and all its pairs
	all := arrivals(t, shoppers, func(d linkDelta) time.Time { return d.at }, func(in *harness.Instance, i int) (out []linkDelta, err error) {
		if err := in.Init(cfg); err != nil {
			return nil, err
		}
		at := start.Add(time.Duration(i) * 10 * time.Second)
		for j, p := range large.Session(seed, i) {
			if !slices.Contains(clicked[i], p.ID) {
				clicked[i] = append(clicked[i], p.ID)
			}
			at = at.Add(time.Duration(20+j*7) * time.Second)
			if err := in.Track(sim.Event(wire.KindClick, &p, at)); err != nil {
				return nil, err
			}
			d, size, err := takeDelta(in)
			if err != nil {
				return nil, err
			}
			if size == 0 {
				continue
			}
			ld := linkDelta{device: i, at: at}
			name := func(id string) {
				if !slices.Contains(ld.named, id) {
					ld.named = append(ld.named, id)
				}
			}
			for _, q := range d.Pairs {
				name(q.From)
				name(q.To)
				if slices.Index(clicked[i], q.From) < slices.Index(clicked[i], q.To) {
					forward[i][0]++
				}
				forward[i][1]++
			}
			for _, it := range d.Items {
				name(it.ID)
			}
			out = append(out, ld)
		}
		return out, nil
	})
	perDevice := make([][]linkDelta, shoppers) // in the order each device sent them
	for _, d := range all {
		perDevice[d.device] = append(perDevice[d.device], d)
	}

	// link guesses, for each delta, the earlier delta within window (0:
	// any earlier one) that shares most of its items.
	type result struct {
		deltas, later, linkable, right, window int
		parent                                 []int // the delta each was linked to, -1: none
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
				for _, id := range d.named {
					if slices.Contains(e.named, id) {
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
			if all[best].device == d.device {
				r.right++
			}
		}
		return r
	}
	share := func(a, b int) float64 { return float64(a) / float64(max(b, 1)) }
	whole := link(0)
	r := link(30 * time.Minute)
	t.Logf("%d shoppers, %d deltas (%d after an earlier one of the same device, %.0f deltas in a 30-minute window on average)",
		shoppers, r.deltas, r.later, share(r.window, r.deltas))
	t.Logf("linked by content: %d of %d deltas (%.1f%%), to the right device %d (%.1f%% of the guesses; %.1f%% of the %d later deltas)",
		r.linkable, r.deltas, 100*share(r.linkable, r.deltas), r.right, 100*share(r.right, r.linkable), 100*share(r.right, r.later), r.later)
	t.Logf("without times, among all %d deltas of the run (%s): %d guesses, right %d (%.1f%% of the guesses, %.1f%% of the later deltas)",
		whole.deltas, all[len(all)-1].at.Sub(all[0].at).Round(time.Minute), whole.linkable, whole.right,
		100*share(whole.right, whole.linkable), 100*share(whole.right, whole.later))
	// The click path: each chain of linked deltas, in arrival order, lists
	// its items as they first appear; a device's path is rebuilt when the
	// chain of its first delta lists exactly its distinct clicks in order
	// (those its deltas named).
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
		for _, id := range d.named {
			if !slices.Contains(chains[c], id) {
				chains[c] = append(chains[c], id)
			}
		}
		if _, ok := first[d.device]; !ok {
			first[d.device] = i
		}
	}
	// A path within one delta is its block (sdk/delta Block): the pairs
	// come in the order of their ids and their directions are coin flips,
	// so the delta tells no more of the order than the set of ids does.
	// Those paths are counted apart, against the guess from the set alone
	// (the ids in order: the synthetic shoppers often browse a line in
	// the order of its ids).
	var paths, rebuilt, pairs, single, guessed, byID int
	for dev, i := range first {
		var sent []string
		for _, d := range perDevice[dev] {
			sent = append(sent, d.named...)
			pairs += len(d.named) / 2
		}
		truth := slices.DeleteFunc(slices.Clone(clicked[dev]), func(id string) bool { return !slices.Contains(sent, id) })
		if len(truth) < 3 {
			continue
		}
		exact := slices.Equal(chains[root(i)], truth)
		if len(perDevice[dev]) == 1 {
			single++
			if exact {
				guessed++
			}
			if slices.IsSorted(truth) {
				byID++
			}
			continue
		}
		paths++
		if exact {
			rebuilt++
		}
	}
	t.Logf("click paths of 3 or more products over 2 or more deltas rebuilt exactly from the linked deltas: %d of %d (%.1f%%); about %d pairs sent",
		rebuilt, paths, 100*share(rebuilt, paths), pairs)
	t.Logf("paths within one delta in the order the attack lists them: %d of %d (%.1f%%); in the order of their ids: %d (%.1f%%)",
		guessed, single, 100*share(guessed, single), byID, 100*share(byID, single))
	fwd, sent := 0, 0
	for _, f := range forward {
		fwd, sent = fwd+f[0], sent+f[1]
	}
	t.Logf("%d of %d pairs point the click order's way (%.1f%%)", fwd, sent, 100*share(fwd, sent))
	if s := share(fwd, sent); sent < 500 || s < 0.45 || s > 0.55 {
		t.Errorf("%.1f%% of the pairs point the click order's way, want about half: their directions would tell the order", 100*s)
	}
	if s, ids := share(guessed, single), share(byID, single); s > ids+maxGuessed {
		t.Errorf("%.1f%% of the paths within one delta come out in order, %.1f%% in the order of their ids; PRIVACY.md says at most %.0f points more", 100*s, 100*ids, 100*maxGuessed)
	}
	if s := share(r.right, r.later); s > maxLinked {
		t.Errorf("%.1f%% of the later deltas are linked to their device's earlier one by content; PRIVACY.md says at most %.0f%%", 100*s, 100*maxLinked)
	}
	if s := share(whole.right, whole.later); s > maxLinked {
		t.Errorf("without times, %.1f%% of the later deltas are linked to their device's earlier one; PRIVACY.md says at most %.0f%%", 100*s, 100*maxLinked)
	}
	if s := share(rebuilt, paths); s > maxRebuilt {
		t.Errorf("%.1f%% of the click paths are rebuilt; PRIVACY.md says at most %.0f%%", 100*s, 100*maxRebuilt)
	}
	if paths == 0 || r.later == 0 {
		t.Errorf("%d paths of 3 or more products, %d later deltas: nothing was attacked", paths, r.later)
	}
}
