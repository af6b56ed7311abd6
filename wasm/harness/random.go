package harness

import (
	"encoding/binary"
	"math/rand/v2"
)

// seededRandom is the deterministic random_get stream of WithSeededRandom:
// ChaCha8 keyed by two numbers.
//
// # Notes
//
// Not goroutine-safe; one per instance, read only from its calls.
type seededRandom struct{ c *rand.ChaCha8 }

func newSeededRandom(a, b uint64) *seededRandom {
	s := new(seededRandom)
	s.reset(a, b)
	return s
}

func (s *seededRandom) reset(a, b uint64) {
	var key [32]byte
	binary.LittleEndian.PutUint64(key[0:], a)
	binary.LittleEndian.PutUint64(key[8:], b)
	copy(key[16:], "tailor harness!!")
	s.c = rand.NewChaCha8(key)
}

// Read fills p; it never fails.
func (s *seededRandom) Read(p []byte) (int, error) { return s.c.Read(p) }
