package delta

// MaxSent bounds how many items a device remembers its deltas named.
// No two deltas of one device name the same item, as long as it is
// remembered (AddView and AddPair leave an item sent before out), for
// two reasons. The operator must not learn which deltas come from one
// device: a delta whose pair starts at the item an earlier delta ended
// at links the two, and chained they give the visit's click path away
// (server/e2e TestLinkage). And the server's k floor counts deltas, not
// devices: a device that sent the same pair in every delta would put one
// visitor's rare pair over the floor alone after k page views. 512 is
// about 170 full blocks (Block items each), or 100 full deltas, in
// 2 KB of the profile (4-byte hashes, oldest first); past it the oldest
// is forgotten, so a visitor names an item again only after 512 others.
const MaxSent = 512

// hashKey is the FNV-1a, 32 bits, of an item id. The sent set keeps
// hashes so that the profile stays small; a collision only holds a fresh
// item back. Not inlined: one copy serves AddPair, AddView and send
// (guest size).
//
//go:noinline
func hashKey(id string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(id); i++ {
		h = (h ^ uint32(id[i])) * 16777619
	}
	return h
}

// has reports whether sent (4-byte little-endian hashes) holds h.
func has(sent string, h uint32) bool {
	for i := 3; i < len(sent); i += 4 {
		if uint32(sent[i-3])|uint32(sent[i-2])<<8|uint32(sent[i-1])<<16|uint32(sent[i])<<24 == h {
			return true
		}
	}
	return false
}

// Block is how many of a visit's new items a federated delta names
// together: the delta waits until Block items no delta named are in, and
// then sends every pair of them, each in a direction drawn at random, so
// that it tells a set of items viewed in one visit and not their order.
const Block = 3
