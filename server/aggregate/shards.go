package aggregate

import (
	"github.com/tailorhq/tailor/sdk/wire"
	"github.com/tailorhq/tailor/server/store"
)

// Shards splits a version's items into n shards by wire.ShardOf and
// encodes them. A shard whose content equals the previous version's same
// shard keeps that version number, and so its bytes and hash. It returns
// the shards and the blobs of those that changed.
func Shards(version uint32, items []wire.ItemWeights, n int, prev []store.Shard) ([]store.Shard, map[string][]byte) {
	parts := make([][]wire.ItemWeights, n)
	for _, it := range items {
		i := wire.ShardOf(it.ID, n)
		parts[i] = append(parts[i], it)
	}
	shards := make([]store.Shard, n)
	blobs := map[string][]byte{}
	for i, part := range parts {
		w := wire.Weights{Version: version, Shard: uint16(i), Shards: uint16(n), Items: part}
		if len(prev) == n {
			w.Version = prev[i].Version
			if b := wire.Marshal(&w); store.Hash(b) == prev[i].Hash {
				shards[i] = prev[i]
				continue
			}
			w.Version = version
		}
		b := wire.Marshal(&w)
		h := store.Hash(b)
		shards[i] = store.Shard{Index: i, Version: version, Hash: h, Bytes: len(b)}
		blobs[h] = b
	}
	return shards, blobs
}
