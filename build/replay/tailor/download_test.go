package tailor

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"testing"

	"github.com/tailorhq/tailor/sdk/profile"
	"github.com/tailorhq/tailor/sdk/wire"
	"github.com/tailorhq/tailor/server/aggregate"
	"github.com/tailorhq/tailor/wasm/harness"
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
	n, err := m.fetch(in, ids, held, held, false)
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
	if n, err := m.fetch(in, ids, held, held, false); err != nil || n != 0 {
		t.Errorf("fetching held shards again cost %d bytes (%v), want 0", n, err)
	}
	whole := servedModel(items, aggregate.Layout{Count: 1})
	if n, err := whole.fetch(in, ids[:1], nil, nil, false); err != nil || n != 100 {
		t.Errorf("a model of one shard cost %d bytes (%v), want all of it, 100", n, err)
	}
}

// TestPageIDs: a page view requests the shards of its item and of the
// remember most recent distinct items before it, as the loader does.
func TestPageIDs(t *testing.T) {
	if remember != 4 {
		t.Fatalf("remember = %d; the cases below are written for 4", remember)
	}
	for _, c := range []struct {
		item    string
		earlier []string
		want    []string
	}{
		{"a", nil, []string{"a"}},
		{"c", []string{"a", "b"}, []string{"c", "b", "a"}},
		{"f", []string{"a", "b", "c", "d", "e"}, []string{"f", "e", "d", "c", "b"}},
		{"x", []string{"a", "b", "c", "b", "c", "b"}, []string{"x", "b", "c", "a"}},
		{"b", []string{"a", "b", "c", "d", "e", "e", "d"}, []string{"b", "d", "e", "c", "b"}},
	} {
		if got := pageIDs(c.item, c.earlier); !slices.Equal(got, c.want) {
			t.Errorf("pageIDs(%q, %q) = %q, want %q", c.item, c.earlier, got, c.want)
		}
	}
}

// TestSessionHoldsPageShards: on each page view of a replayed session the
// device's engine holds exactly the shards that page requests (the head,
// its item's and those of the remember most recent items before it),
// however many it held before, still ranks from the whole profile, and
// pays once for each shard it fetched in the session.
func TestSessionHoldsPageShards(t *testing.T) {
	var items []wire.ItemWeights
	for i := range 300 {
		items = append(items, wire.ItemWeights{ID: fmt.Sprint("item-", i), Pop: 1 / float32(1+i),
			Next: []wire.Neighbor{{ID: fmt.Sprint("item-", (i+1)%300), W: 1}}})
	}
	rt, err := harness.New(context.Background(), harnesstest.Wasm(t), harness.WithSeededRandom(1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rt.Close(context.Background()) })
	m := &Method{rt: rt, model: servedModel(items, aggregate.Layout{Count: 64, Head: 10}),
		config: wire.Marshal(&wire.Config{Site: "replay", Privacy: wire.PrivacyFederated})}
	s := m.Start().(*session)
	defer s.Close()
	var clicks []string
	for i := 100; len(clicks) < remember+4; i += 7 {
		clicks = append(clicks, fmt.Sprint("item-", i))
	}
	cost := map[int]int{}
	for i, id := range clicks {
		want := m.model.want(pageIDs(id, clicks[:i]), false)
		top, err := s.Next(id, int64(1000*(i+1)), 20)
		if err != nil {
			t.Fatal(err)
		}
		if !maps.Equal(s.held, want) {
			t.Errorf("page view %d holds shards %v, want %v", i, slices.Sorted(maps.Keys(s.held)), slices.Sorted(maps.Keys(want)))
		}
		for j := range want {
			cost[j] = m.model.shards[j].served
		}
		next := items[(100+7*i+1)%300].ID
		if !slices.Contains(top, next) {
			t.Errorf("page view %d of %s ranks %v, without its neighbour %s", i, id, top, next)
		}
	}
	p, err := s.in.SaveProfile()
	if err != nil {
		t.Fatal(err)
	}
	if prof, err := profile.Unmarshal(p); err != nil || len(prof.Session) != len(clicks) {
		t.Errorf("the saved profile (%v) does not hold the %d clicks", err, len(clicks))
	}
	paid := 0
	for _, n := range cost {
		paid += n
	}
	if got := m.pages.first + m.pages.later; got != paid {
		t.Errorf("the session paid %d bytes of shards, want %d (each shard it fetched once)", got, paid)
	}
}
