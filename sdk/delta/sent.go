package delta

// MaxSent bounds how many pairs and items a device remembers having sent.
// The server's k floor counts deltas, and unlinkable deltas cannot be
// counted by device: a device that sent the same pair (or item) in every
// delta would put one visitor's rare pair over the floor alone after k
// page views. So a federated delta never carries a pair or an item the
// device already sent, as long as it is remembered. 512 is about 40
// deltas' worth of full samples (SampledPairs + SampledItems each) and
// keeps the profile's share at about 2.5 KB; past it the oldest is
// forgotten, so a visitor sends a pair again only after 512 other keys,
// which a repeated pair alone never reaches.
const MaxSent = 512

// hashKey is the key's FNV-1a, 32 bits: the sent set keeps hashes, so the
// profile stays small, and a collision only holds a fresh key back.
func hashKey(k string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(k); i++ {
		h ^= uint32(k[i])
		h *= 16777619
	}
	return h
}

// has reports whether s holds h.
func has(s []uint32, h uint32) bool {
	for _, v := range s {
		if v == h {
			return true
		}
	}
	return false
}
