package aggregate_test

import (
	"fmt"
	"testing"

	"github.com/tailorhq/tailor/sdk/wire"
	"github.com/tailorhq/tailor/server/aggregate"
	"github.com/tailorhq/tailor/server/store"
)

// catalogue returns n items, item i with popularity falling with i and
// neighbours neighbours each.
func catalogue(n, neighbours int) []wire.ItemWeights {
	items := make([]wire.ItemWeights, n)
	for i := range items {
		it := &items[i]
		it.ID = fmt.Sprintf("item-%06d", i)
		it.Pop = max(aggregate.Quantum, 1/float32(1+i/10))
		for j := range neighbours {
			it.Next = append(it.Next, wire.Neighbor{ID: fmt.Sprintf("item-%06d", (i+j*7+1)%n), W: 1 - float32(j)/32})
		}
	}
	return items
}

func TestChooseLayout(t *testing.T) {
	p := aggregate.DefaultParams
	p.ShardBytes = 8 << 10 // the figures below
	for _, tc := range []struct {
		name  string
		items int
		fixed int
		want  aggregate.Layout
	}{
		{"empty", 0, 0, aggregate.Layout{Count: 1}},
		{"fits one shard", 20, 0, aggregate.Layout{Count: 1}},
		// 3,000 items of 361 encoded bytes: 132 shards of 8 KiB.
		{"by size", 3000, 0, aggregate.Layout{Count: 128, Head: p.HeadItems}},
		{"capped", 200000, 0, aggregate.Layout{Count: aggregate.MaxShards, Head: p.HeadItems}},
		{"fixed", 20, 4, aggregate.Layout{Count: 4, Head: p.HeadItems}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := p
			p.Shards = tc.fixed
			if got := aggregate.ChooseLayout(catalogue(tc.items, 20), &p, nil); got != tc.want {
				t.Errorf("layout %+v, want %+v", got, tc.want)
			}
		})
	}
}

// TestChooseLayoutKeepsCount: a model that grows or shrinks a little keeps
// its shard count (and so its unchanged shards' URLs); one that doubled
// twice does not.
func TestChooseLayoutKeepsCount(t *testing.T) {
	p := aggregate.DefaultParams
	p.ShardBytes = 8 << 10 // the figures below
	prev, _ := aggregate.Shards(1, catalogue(3000, 20), aggregate.ChooseLayout(catalogue(3000, 20), &p, nil), nil)
	for _, tc := range []struct {
		items, want int
	}{{2000, 128}, {4500, 128}, {12000, 512}, {700, 32}} {
		items := catalogue(tc.items, 20)
		if got := aggregate.ChooseLayout(items, &p, prev); got.Count != tc.want {
			t.Errorf("%d items after 3,000: %d shards, want %d", tc.items, got.Count, tc.want)
		}
	}
}

func TestShardsHead(t *testing.T) {
	items := catalogue(3000, 20)
	l := aggregate.Layout{Count: 64, Head: 100}
	shards, blobs := aggregate.Shards(7, items, l, nil)
	if len(shards) != 65 || !shards[64].Head || shards[64].Index != 64 {
		t.Fatalf("%d shards, last %+v: want 64 by item and the head", len(shards), shards[len(shards)-1])
	}
	seen := map[string]int{}
	for i, sh := range shards {
		var w wire.Weights
		if err := wire.Unmarshal(blobs[sh.Hash], &w, "weights"); err != nil {
			t.Fatal(err)
		}
		if int(w.Shard) != i || w.Shards != 65 || w.Version != 7 || sh.Head != (i == 64) {
			t.Errorf("shard %d: %+v head %v", i, w, sh.Head)
		}
		for _, it := range w.Items {
			seen[it.ID]++
			head := it.Pop >= items[99].Pop && it.ID <= items[99].ID
			switch {
			case sh.Head && !head:
				t.Errorf("head holds %s (pop %v), not among the 100 most popular", it.ID, it.Pop)
			case !sh.Head && head:
				t.Errorf("shard %d holds %s, a head item", i, it.ID)
			case !sh.Head && wire.ShardOf(it.ID, 64) != i:
				t.Errorf("shard %d holds %s of shard %d", i, it.ID, wire.ShardOf(it.ID, 64))
			}
		}
	}
	if len(seen) != len(items) {
		t.Errorf("%d items in the shards, want %d", len(seen), len(items))
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("%s in %d shards", id, n)
		}
	}
}

// TestShardsUnchanged: a shard whose items did not change keeps its
// version and hash; one that did, and every shard of another layout,
// does not.
func TestShardsUnchanged(t *testing.T) {
	items := catalogue(3000, 20)
	l := aggregate.Layout{Count: 64, Head: 100}
	v1, _ := aggregate.Shards(1, items, l, nil)
	moved := items[2000].ID
	items[2000].Next[0].W = 0.5
	v2, blobs := aggregate.Shards(2, items, l, v1)
	for i, sh := range v2 {
		changed := i == wire.ShardOf(moved, 64)
		if (sh.Version == 2) != changed || (sh.Hash != v1[i].Hash) != changed {
			t.Errorf("shard %d: version %d hash changed %v, want changed %v", i, sh.Version, sh.Hash != v1[i].Hash, changed)
		}
		if _, ok := blobs[sh.Hash]; ok != changed {
			t.Errorf("shard %d: blob returned %v, want %v", i, ok, changed)
		}
	}
	v3, _ := aggregate.Shards(3, items, aggregate.Layout{Count: 32, Head: 100}, v2)
	for _, sh := range v3 {
		if sh.Version != 3 {
			t.Errorf("new layout: shard %d kept version %d", sh.Index, sh.Version)
		}
	}
	var none []store.Shard
	if one, _ := aggregate.Shards(4, nil, aggregate.Layout{Count: 1}, none); len(one) != 1 || one[0].Head {
		t.Errorf("empty model: %+v", one)
	}
}
