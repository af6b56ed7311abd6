package delta

// MaxSent bounds how many pairs and items a device remembers having sent.
// The server's k floor counts deltas, and unlinkable deltas cannot be
// counted by device: a device that sent the same pair (or item) in every
// delta would put one visitor's rare pair over the floor alone after k
// page views. So a federated delta never carries a pair (in either
// direction) or an item the device already sent, as long as it is
// remembered: AddPair and AddItem leave such keys out. 512 is about 40
// deltas' worth of full samples (SampledPairs + SampledItems each) in
// 2 KB of the profile (4-byte hashes, oldest first); past it the oldest
// is forgotten, so a visitor sends a pair again only after 512 other
// keys, which a repeated pair alone never reaches.
const MaxSent = 512

// hashKey is the FNV-1a, 32 bits, of an item id, and of a pair key
// (from NUL to) the xor of its two ids': a → b and b → a are one key, as
// the server's floor counts a pair's deltas in both directions
// (aggregate.State.Weights). The sent set keeps hashes so that the
// profile stays small; a collision only holds a fresh key back. Not
// inlined: one copy serves AddPair, AddItem and sample (guest size).
//
//go:noinline
func hashKey(k string) (sum uint32) {
	h := uint32(2166136261)
	for i := 0; i <= len(k); i++ {
		if i == len(k) || k[i] == 0 {
			sum ^= h
			h = 2166136261
		} else {
			h = (h ^ uint32(k[i])) * 16777619
		}
	}
	return sum
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
