package tailor

import (
	"fmt"
	"maps"
	"slices"
	"testing"

	"github.com/tailorhq/tailor/sdk/wire"
	"github.com/tailorhq/tailor/server/aggregate"
	"github.com/tailorhq/tailor/wasm/harness/harnesstest"
)

// servedModel shards items by l as the server does, each shard "served"
// in 100+index bytes.
func servedModel(items []wire.ItemWeights, l aggregate.Layout) *served {
	shards, blobs := aggregate.Shards(1, items, l, nil)
	m := &served{count: l.Count, shards: map[int]shard{}}
	for _, sh := range shards {
		m.shards[sh.Index] = shard{b: blobs[sh.Hash], served: 100 + sh.Index, version: sh.Version}
		if sh.Head {
			m.head = append(m.head, sh.Index)
		}
	}
	return m
}

// TestFetch: a device fetches the head and the shards of the ids it
// meets, each once, and counts what they cost; a model of one shard is
// fetched whole.
func TestFetch(t *testing.T) {
	var items []wire.ItemWeights
	for i := range 300 {
		items = append(items, wire.ItemWeights{ID: fmt.Sprint("item-", i), Pop: 1 / float32(1+i),
			Next: []wire.Neighbor{{ID: fmt.Sprint("item-", (i+1)%300), W: 1}}})
	}
	in := harnesstest.Instance(t)
	if err := in.Init(wire.Config{Site: "replay", Privacy: wire.PrivacyFederated}); err != nil {
		t.Fatal(err)
	}
	m := servedModel(items, aggregate.Layout{Count: 16, Head: 10})
	held := map[int]bool{}
	ids := []string{"item-200", "item-250"}
	n, err := m.fetch(in, ids, held, false)
	if err != nil {
		t.Fatal(err)
	}
	want := map[int]bool{16: true, wire.ShardOf(ids[0], 16): true, wire.ShardOf(ids[1], 16): true}
	cost := 0
	for i := range want {
		cost += 100 + i
	}
	if !maps.Equal(held, want) || n != cost {
		t.Errorf("fetched %v for %d bytes, want %v for %d", slices.Sorted(maps.Keys(held)), n, slices.Sorted(maps.Keys(want)), cost)
	}
	if n, err := m.fetch(in, ids, held, false); err != nil || n != 0 {
		t.Errorf("fetching held shards again cost %d bytes (%v), want 0", n, err)
	}
	whole := servedModel(items, aggregate.Layout{Count: 1})
	if n, err := whole.fetch(in, ids[:1], map[int]bool{}, false); err != nil || n != 100 {
		t.Errorf("a model of one shard cost %d bytes (%v), want all of it, 100", n, err)
	}
}
