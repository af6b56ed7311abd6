package aggregate

import (
	"cmp"
	"math"
	"slices"

	"github.com/tailorhq/tailor/sdk/wire"
	"github.com/tailorhq/tailor/server/store"
)

// MaxShards bounds how many shards by wire.ShardOf a version has: each is
// one manifest entry that every device downloads.
const MaxShards = 1024

// Layout is how a version's items are split into shards: Count shards by
// wire.ShardOf, then, with Head > 0, one more (index Count) holding the
// Head most popular items, which the shards by id leave out. A device
// fetches the head and the shards of the items it meets: a cold page
// ranks by popularity, and the popular items are the ones most sessions
// meet.
type Layout struct {
	Count int // shards by wire.ShardOf
	Head  int // items in the head shard; 0: none
}

// ChooseLayout returns the layout of a version of items: Params.Shards
// shards when set, else as many as keep one shard near ShardBytes
// encoded bytes (the nearest power of two, at most MaxShards), so that a
// page view downloads kilobytes whatever the catalogue. The count of prev (the
// previous version's shards) stays while it keeps shards within a factor
// of two of ShardBytes: a new count changes every shard's URL. A model
// that fits one shard has no head: a device fetches all of it anyway.
func ChooseLayout(items []wire.ItemWeights, p *Params, prev []store.Shard) Layout {
	n := p.Shards
	if n == 0 {
		total := 0
		for i := range items {
			total += encodedBytes(&items[i])
		}
		want := max(1, (total+p.ShardBytes-1)/p.ShardBytes)
		was, _ := prevLayout(prev)
		if was > 0 && want <= 2*was && 2*want >= was {
			n = was
		} else {
			n = min(MaxShards, 1<<int(math.Round(math.Log2(float64(want)))))
		}
	}
	if n == 1 {
		return Layout{Count: 1}
	}
	return Layout{Count: n, Head: p.HeadItems}
}

// prevLayout returns the shard count and whether a head shard exists of a
// version's shards.
func prevLayout(prev []store.Shard) (count int, head bool) {
	for _, sh := range prev {
		if sh.Head {
			head = true
		} else {
			count++
		}
	}
	return count, head
}

// encodedBytes is the encoded size of an item in a shard (wire.Weights'
// msgpack), near enough to choose a layout.
func encodedBytes(it *wire.ItemWeights) int {
	str := func(s string) int {
		if len(s) < 32 {
			return 1 + len(s)
		}
		return 2 + len(s)
	}
	n := 1 + str(it.ID) + 5 + 3
	for _, nb := range it.Next {
		n += str(nb.ID) + 5
	}
	return n
}

// Shards splits a version's items by layout l and encodes them: the head's
// items (the most popular, then by id) in shard l.Count, every other item
// in shard wire.ShardOf(id, l.Count). Each blob says it is shard Index of
// len(shards). A shard whose content equals the previous version's same
// shard (same layout) keeps that version number, and so its bytes and
// hash. It returns the shards and the blobs of those that changed.
func Shards(version uint32, items []wire.ItemWeights, l Layout, prev []store.Shard) ([]store.Shard, map[string][]byte) {
	n := l.Count
	total := n
	var head map[string]bool
	if l.Head > 0 {
		total++
		byPop := make([]*wire.ItemWeights, 0, len(items))
		for i := range items {
			if items[i].Pop > 0 {
				byPop = append(byPop, &items[i])
			}
		}
		slices.SortFunc(byPop, func(a, b *wire.ItemWeights) int { return cmp.Or(cmp.Compare(b.Pop, a.Pop), cmp.Compare(a.ID, b.ID)) })
		head = make(map[string]bool, l.Head)
		for _, it := range byPop[:min(len(byPop), l.Head)] {
			head[it.ID] = true
		}
	}
	parts := make([][]wire.ItemWeights, total)
	for _, it := range items {
		i := n
		if !head[it.ID] {
			i = wire.ShardOf(it.ID, n)
		}
		parts[i] = append(parts[i], it)
	}
	if was, hadHead := prevLayout(prev); was != n || hadHead != (l.Head > 0) || len(prev) != total {
		prev = nil
	}
	shards := make([]store.Shard, total)
	blobs := map[string][]byte{}
	for i, part := range parts {
		w := wire.Weights{Version: version, Shard: uint16(i), Shards: uint16(total), Items: part}
		isHead := i == n
		if prev != nil {
			w.Version = prev[i].Version
			if b := wire.Marshal(&w); store.Hash(b) == prev[i].Hash {
				shards[i] = prev[i]
				continue
			}
			w.Version = version
		}
		b := wire.Marshal(&w)
		h := store.Hash(b)
		shards[i] = store.Shard{Index: i, Version: version, Hash: h, Bytes: len(b), Head: isHead}
		blobs[h] = b
	}
	return shards, blobs
}
