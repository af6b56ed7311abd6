package harness_test

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/tailorhq/tailor/build/replay/data"
	"github.com/tailorhq/tailor/sdk/wire"
	"github.com/tailorhq/tailor/wasm/harness/harnesstest"
)

// pathSessions returns up to n click paths of at least 8 distinct items
// visited once each: YOOCHOOSE's real sessions when the dataset is
// present (../shared/datasets/yoochoose-100k), else synthetic ones.
func pathSessions(t *testing.T, n int) (paths [][]string, source string) {
	t.Helper()
	path := filepath.Join(harnesstest.Root(t), "..", "shared", "datasets", "yoochoose-100k", "train_tr.txt")
	if _, err := os.Stat(path); err == nil {
		ds, err := data.Read(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range ds.Sessions {
			var p []string
			for _, c := range s.Clicks {
				if len(p) == 0 || p[len(p)-1] != c.Item { // a repeated click is no step
					p = append(p, c.Item)
				}
			}
			if len(p) >= 8 && len(p) <= 40 && !repeats(p) {
				paths = append(paths, p)
			}
			if len(paths) == n {
				break
			}
		}
		return paths, "yoochoose-100k train_tr.txt"
	}
	rng := rand.New(rand.NewPCG(8, 8))
	for range n {
		p := make([]string, 8+rng.IntN(8))
		for i, v := range rng.Perm(1000)[:len(p)] {
			p[i] = "item-" + strconv.Itoa(v)
		}
		paths = append(paths, p)
	}
	return paths, "synthetic"
}

func repeats(p []string) bool {
	seen := map[string]bool{}
	for _, x := range p {
		if seen[x] {
			return true
		}
		seen[x] = true
	}
	return false
}

// oldDelta is what a device sent before issue 9 for a path: every pair
// within 10 steps, weighted 1/distance, and every item's count.
func oldDelta(p []string) wire.Delta {
	var d wire.Delta
	for i := range p {
		d.Items = append(d.Items, wire.Count{ID: p[i], N: 1})
		for k := 1; k <= 10 && i-k >= 0; k++ {
			d.Pairs = append(d.Pairs, wire.Pair{From: p[i-k], To: p[i], W: 1 / float32(k)})
		}
	}
	return d
}

// rebuild is the operator's attack on one delta: order every item the
// delta names by its net weighted out-degree (an item early in a path
// points at more than points at it), then by its count, then by id.
func rebuild(d wire.Delta) []string {
	net, count := map[string]float64{}, map[string]float32{}
	var items []string
	add := func(id string) {
		if _, ok := net[id]; !ok {
			net[id] = 0
			items = append(items, id)
		}
	}
	for _, c := range d.Items {
		add(c.ID)
		count[c.ID] += c.N
	}
	for _, p := range d.Pairs {
		add(p.From)
		add(p.To)
		net[p.From] += float64(p.W)
		net[p.To] -= float64(p.W)
	}
	slices.SortFunc(items, func(a, b string) int {
		switch {
		case net[a] != net[b]:
			return cmp(net[b], net[a])
		case count[a] != count[b]:
			return cmp(float64(count[b]), float64(count[a]))
		case a < b:
			return -1
		}
		return 1
	})
	return items
}

// chain returns the number of edges of the longest directed path the
// delta's pairs form (the longest piece of the path they could give away).
func chain(pairs []wire.Pair) int {
	var walk func(from string, depth int) int
	walk = func(from string, depth int) int {
		best := depth
		if depth > len(pairs) { // a cycle: cannot come from one path, stop
			return best
		}
		for _, p := range pairs {
			if p.From == from {
				best = max(best, walk(p.To, depth+1))
			}
		}
		return best
	}
	longest := 0
	for _, p := range pairs {
		longest = max(longest, walk(p.From, 0))
	}
	return longest
}

func cmp(a, b float64) int {
	if a < b {
		return -1
	}
	return 1
}

// kendall returns Kendall's tau between the rebuilt order of the items it
// names and their true order in path (1: all pairs in order; 0: chance),
// and whether the rebuilt order is the whole path, exactly.
func kendall(path, rebuilt []string) (tau float64, exact bool) {
	pos := map[string]int{}
	for i, x := range path {
		pos[x] = i
	}
	var r []int
	for _, x := range rebuilt {
		if i, ok := pos[x]; ok {
			r = append(r, i)
		}
	}
	if len(r) < 2 {
		return 0, false
	}
	conc, disc := 0, 0
	for i := range r {
		for j := i + 1; j < len(r); j++ {
			if r[i] < r[j] {
				conc++
			} else {
				disc++
			}
		}
	}
	return float64(conc-disc) / float64(conc+disc), slices.Equal(rebuilt, path)
}

// TestDeltaDoesNotRevealThePath is issue 9's finding 3: real sessions of 8
// or more clicks run through tailor.wasm, and the operator tries to rebuild
// each session's click order from its one federated delta. Before, the
// 1/distance pairs chained into the path: the same attack rebuilt almost
// every session exactly. Now a delta holds the pairs of a block of
// delta.Block items, weight 1, sorted by id, each in a random direction:
// no session is rebuilt, the pairs' directions follow the click order no
// more often than chance (so their chains are no ordered runs), and the
// order of the items a delta names is not recovered (Kendall's tau; 0 is
// chance).
func TestDeltaDoesNotRevealThePath(t *testing.T) {
	paths, source := pathSessions(t, 300)
	if len(paths) < 100 {
		t.Fatalf("only %d sessions of 8+ distinct clicks in %s", len(paths), source)
	}
	in := harnesstest.Instance(t)
	at := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	var before, after struct {
		tau   float64
		exact int
	}
	chains := map[int]int{} // longest chain (edges) → deltas
	forward, pairs := 0, 0  // pairs in the click order's direction, all pairs
	for _, p := range paths {
		if err := in.Init(cfg()); err != nil {
			t.Fatal(err)
		}
		for i, id := range p {
			if err := in.Track(event(wire.KindClick, id, "", at.Add(time.Duration(i)*time.Minute))); err != nil {
				t.Fatal(err)
			}
		}
		d := harnesstest.Delta(t, in)
		chains[chain(d.Pairs)]++
		for _, q := range d.Pairs {
			pairs++
			if slices.Index(p, q.From) < slices.Index(p, q.To) {
				forward++
			}
		}
		tau, exact := kendall(p, rebuild(d))
		after.tau += tau
		if exact {
			after.exact++
		}
		tau, exact = kendall(p, rebuild(oldDelta(p)))
		before.tau += tau
		if exact {
			before.exact++
		}
	}
	n := float64(len(paths))
	t.Logf("%d sessions of 8-40 distinct clicks from %s; rebuilt exactly: before %.1f%%, now %.1f%%; mean Kendall tau: before %.3f, now %.3f",
		len(paths), source, 100*float64(before.exact)/n, 100*float64(after.exact)/n, before.tau/n, after.tau/n)
	t.Logf("longest chain of pairs (edges: deltas): %v; %d of %d pairs in the click order's direction", chains, forward, pairs)
	if f := float64(forward) / float64(pairs); pairs < 100 || f < 0.4 || f > 0.6 {
		t.Errorf("%d of %d pairs in the click order's direction, want about half: a chain would be an ordered run", forward, pairs)
	}
	if float64(before.exact)/n < 0.9 || before.tau/n < 0.9 {
		t.Fatalf("the attack rebuilds only %.1f%% of old-style deltas (tau %.3f): it is too weak to show anything", 100*float64(before.exact)/n, before.tau/n)
	}
	if after.exact > 0 {
		t.Errorf("%d of %d sessions rebuilt exactly from their delta, want none", after.exact, len(paths))
	}
	if tau := after.tau / n; tau > 0.2 {
		t.Errorf("mean Kendall tau %.3f over the items a delta names, want at most 0.2 (0 is chance, 1 the path)", tau)
	}
}
