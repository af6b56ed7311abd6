package tailor

import (
	"bytes"
	"context"
	"slices"
	"testing"

	"github.com/tailorhq/tailor/sdk/wire"
	"github.com/tailorhq/tailor/wasm/harness"
	"github.com/tailorhq/tailor/wasm/harness/harnesstest"
)

// TestMemoryPoolZeroes: a buffer comes back from the pool zero over
// everything a previous guest used, grows in place up to its maximum and
// refuses beyond it.
func TestMemoryPoolZeroes(t *testing.T) {
	var p memoryPool
	const max = 1 << 20
	tests := []struct {
		name  string
		sizes []uint64 // successive Reallocate calls
		want  []bool   // whether each succeeds
	}{
		{"grow in steps", []uint64{64 << 10, 256 << 10, max}, []bool{true, true, true}},
		{"beyond the maximum", []uint64{64 << 10, max + 1}, []bool{true, false}},
		{"reused after a full one", []uint64{max}, []bool{true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := p.Allocate(0, max)
			var first []byte
			used := 0
			for i, size := range tc.sizes {
				b := m.Reallocate(size)
				if (b != nil) != tc.want[i] {
					t.Fatalf("Reallocate(%d): got %v, want success %v", size, b != nil, tc.want[i])
				}
				if b == nil {
					continue
				}
				if first != nil && &b[0] != &first[0] {
					t.Errorf("Reallocate(%d) moved the buffer", size)
				}
				first = b
				// What the guest had keeps its contents; what grew is zero.
				if !bytes.Equal(b[used:], make([]byte, len(b)-used)) {
					t.Fatalf("Reallocate(%d): new memory not zero", size)
				}
				if !bytes.Equal(b[:used], bytes.Repeat([]byte{0xa5}, used)) {
					t.Fatalf("Reallocate(%d): the guest's memory changed", size)
				}
				for j := range b {
					b[j] = 0xa5 // what a guest leaves behind
				}
				used = len(b)
			}
			m.Free()
			m.Free() // a second Free is harmless
		})
	}
	if len(p.free) != 1 {
		t.Errorf("%d idle buffers, want the one reused", len(p.free))
	}
}

// TestPooledInstancesAgree: guests started on reused memories rank as a
// guest on fresh memory does.
func TestPooledInstancesAgree(t *testing.T) {
	ctx := context.Background()
	rt, err := harness.New(ctx, harnesstest.Wasm(t), harness.WithSeededRandom(1), harness.WithCompilationCache(compiled))
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close(ctx)
	var p memoryPool
	rank := func(ctx context.Context) []string {
		t.Helper()
		in, err := rt.Instantiate(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer in.Close(ctx)
		if err := in.Seed(5); err != nil {
			t.Fatal(err)
		}
		if err := in.Init(wire.Config{Site: siteKey, Privacy: wire.PrivacyFederated}); err != nil {
			t.Fatal(err)
		}
		w := &wire.Weights{Version: 1, Items: []wire.ItemWeights{
			{ID: "a", Pop: 1, Next: []wire.Neighbor{{ID: "b", W: 1}, {ID: "c", W: 0.5}}},
			{ID: "b", Pop: 0.5}, {ID: "c", Pop: 0.8},
		}}
		if err := in.ApplyWeights(w); err != nil {
			t.Fatal(err)
		}
		if err := in.Track(&wire.Event{Kind: wire.KindClick, Time: 1000, Item: &wire.Item{ID: "a"}}); err != nil {
			t.Fatal(err)
		}
		res, err := in.Rank(&wire.RankRequest{Slot: "next", Limit: 3, Time: 1001})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, it := range res.Items {
			ids = append(ids, it.ID)
		}
		return ids
	}
	want := rank(ctx)
	pooled := withPool(ctx, &p)
	for i := range 3 {
		if got := rank(pooled); !slices.Equal(got, want) {
			t.Errorf("pooled run %d ranks %v, fresh memory %v", i, got, want)
		}
	}
	if len(p.free) != 1 {
		t.Errorf("%d idle buffers after three instances one after the other, want 1", len(p.free))
	}
}
