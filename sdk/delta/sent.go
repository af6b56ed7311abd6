package delta

import (
	"github.com/tailorhq/tailor/sdk/msgp"
)

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

// sent is the FIFO set of the keys the device sent, as 32-bit FNV-1a
// hashes: a collision only keeps a fresh key out of one delta, and the
// profile stays small.
type sent []uint32

func hashKey(k string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(k); i++ {
		h ^= uint32(k[i])
		h *= 16777619
	}
	return h
}

func (s sent) has(k string) bool {
	h := hashKey(k)
	for _, v := range s {
		if v == h {
			return true
		}
	}
	return false
}

// add remembers keys, dropping the oldest past MaxSent.
func (s *sent) add(keys []string) {
	for _, k := range keys {
		*s = append(*s, hashKey(k))
	}
	if n := len(*s); n > MaxSent {
		*s = append((*s)[:0], (*s)[n-MaxSent:]...)
	}
}

func (s sent) encodeTo(w *msgp.Writer) {
	w.ArrayHeader(len(s))
	for _, v := range s {
		w.Uint(uint64(v))
	}
}

func (s *sent) decodeFrom(r *msgp.Reader) {
	n := r.ArrayMax(MaxSent)
	if n == 0 {
		*s = nil // as a profile that never sent anything
		return
	}
	*s = make(sent, n)
	for i := range *s {
		(*s)[i] = uint32(r.UintMax(1<<32 - 1))
	}
}
