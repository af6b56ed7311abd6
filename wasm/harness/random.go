package harness

import (
	"encoding/binary"
	"math/rand/v2"
)

// seededRandom is the deterministic random_get stream of WithSeededRandom:
// ChaCha8 keyed by two numbers and what they are (an instance's order of
// creation, or a seed from Instance.Seed), so the two kinds never share a
// stream.
//
// # Notes
//
// Not goroutine-safe; one per instance, read only from its calls.
type seededRandom struct{ c *rand.ChaCha8 }

// Kinds of seededRandom streams.
const (
	streamInstance = "harness instance" // (runtime seed, instances made)
	streamSeed     = "harness seed    " // (runtime seed, Instance.Seed)
)

func newSeededRandom(a, b uint64, kind string) *seededRandom {
	s := new(seededRandom)
	s.reset(a, b, kind)
	return s
}

func (s *seededRandom) reset(a, b uint64, kind string) {
	var key [32]byte
	binary.LittleEndian.PutUint64(key[0:], a)
	binary.LittleEndian.PutUint64(key[8:], b)
	copy(key[16:], kind)
	s.c = rand.NewChaCha8(key)
}

// Read fills p; it never fails.
func (s *seededRandom) Read(p []byte) (int, error) { return s.c.Read(p) }
