package rnd_test

import (
	"math/rand/v2"
	"testing"

	"github.com/tailorhq/tailor/sdk/internal/rnd"
)

// fixed returns the same number every time.
type fixed uint64

func (f fixed) Uint64() uint64 { return uint64(f) }

func TestDraws(t *testing.T) {
	for _, tc := range []struct {
		u     uint64
		n     int
		float float64
		intn  int
	}{
		{0, 10, 0, 0},
		{1 << 63, 10, 0.5, 8},
		{^uint64(0), 10, 1 - 1.0/(1<<53), 5},
		{^uint64(0), 1, 1 - 1.0/(1<<53), 0},
		{12345, 0, 12345 >> 11 / float64(1<<53), 0},
	} {
		if got := rnd.Float64(fixed(tc.u)); got != tc.float || got >= 1 {
			t.Errorf("Float64(%#x) = %v, want %v", tc.u, got, tc.float)
		}
		if got := rnd.Intn(fixed(tc.u), tc.n); got != tc.intn {
			t.Errorf("Intn(%#x, %d) = %d, want %d", tc.u, tc.n, got, tc.intn)
		}
	}
}

// TestIntnUniform checks that every value of a small range comes up about
// equally often.
func TestIntnUniform(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	const n, draws = 7, 70000
	var seen [n]int
	for range draws {
		seen[rnd.Intn(r, n)]++
	}
	for v, c := range seen {
		if c < draws/n*9/10 || c > draws/n*11/10 {
			t.Errorf("value %d drawn %d times of %d, want about %d", v, c, draws, draws/n)
		}
	}
}
