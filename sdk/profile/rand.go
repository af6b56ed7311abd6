package profile

// Rand is a small deterministic generator (splitmix64) whose whole state is
// one number, so it is saved with the profile and a seeded device replays
// the same exploration.
type Rand struct{ State uint64 }

// Uint64 returns the next pseudo-random number.
func (r *Rand) Uint64() uint64 {
	r.State += 0x9e3779b97f4a7c15
	z := r.State
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// Float64 returns a pseudo-random number in [0, 1).
func (r *Rand) Float64() float64 { return float64(r.Uint64()>>11) / (1 << 53) }

// Intn returns a pseudo-random number in [0, n); n must be positive.
func (r *Rand) Intn(n int) int { return int(r.Uint64() % uint64(n)) }
