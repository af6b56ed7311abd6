package ldp

import (
	"math"
	"math/big"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/tailorhq/tailor/sdk/wire"
)

// script is a Random that replays fixed draws.
type script []uint64

func (s *script) Uint64() uint64 {
	x := (*s)[0]
	*s = (*s)[1:]
	return x
}

// TestEncodeIsEpsLDP checks ε-LDP exactly: for every output (row, col,
// bit) it derives the probability of that output under each input from
// what Encode does with scripted draws, and checks every ratio between two
// inputs against e^ε with exact rational arithmetic.
func TestEncodeIsEpsLDP(t *testing.T) {
	values := []string{"a", "running-shoes-1", "evening-gowns-2", PairValue("x", "y"), ""}
	for _, eps := range []float64{0.1, 0.5, 1, 2, 4, 8, 30} {
		thr := flipThreshold(eps)
		const one = 1 << 53
		// p(out) ∝ thr if out is the flipped bit, one-thr if not; the 1/(Rows·Cols)
		// factor for (row, col) is the same under every input.
		flip, keep := new(big.Rat).SetUint64(thr), new(big.Rat).SetUint64(one-thr)
		bound := new(big.Rat)
		bound.SetFloat64(math.Exp(eps))
		// Both outputs must be reachable and the worst ratio keep/flip within e^ε.
		if thr == 0 || thr >= one {
			t.Fatalf("eps %g: threshold %d makes an output impossible", eps, thr)
		}
		if new(big.Rat).Quo(keep, flip).Cmp(bound) > 0 {
			t.Fatalf("eps %g: keep/flip = %d/%d > e^eps", eps, one-thr, thr)
		}
		// The rounding costs utility only within a relative 1e-9.
		if p := 1 / (math.Exp(eps) + 1); float64(thr)/one-p > 1e-9*p+1.0/(1<<52) {
			t.Errorf("eps %g: flip probability %g, want about %g", eps, float64(thr)/one, p)
		}
		if eps > 2 {
			continue // the per-output enumeration below is the same for every ε
		}
		// bits[v][j*Cols+l] is the bit value v gives when not flipped.
		bits := make([][]int8, len(values))
		for vi, v := range values {
			bits[vi] = make([]int8, Rows*Cols)
			for j := uint64(0); j < Rows; j++ {
				for l := uint64(0); l < Cols; l++ {
					kept := EncodeHadamard(wire.ReportItem, v, eps, &script{j, l, math.MaxUint64})
					flipped := EncodeHadamard(wire.ReportItem, v, eps, &script{j, l, 0})
					if uint64(kept.Row) != j || uint64(kept.Col) != l || kept.Bit != -flipped.Bit {
						t.Fatalf("eps %g %q (%d,%d): kept %+v flipped %+v", eps, v, j, l, kept, flipped)
					}
					bits[vi][j*Cols+l] = kept.Bit
				}
			}
		}
		// Every output's probability is keep or flip: precompute the four
		// possible ratios exactly, then look each pair of inputs up.
		probs := [2]*big.Rat{keep, flip}
		var ratioOK [2][2]bool
		for x := range probs {
			for y := range probs {
				ratioOK[x][y] = new(big.Rat).Quo(probs[x], probs[y]).Cmp(bound) <= 0
			}
		}
		class := func(vi, cell int, bit int8) int {
			if bits[vi][cell] == bit {
				return 0
			}
			return 1
		}
		for a := range values {
			for b := range values {
				for cell := 0; cell < Rows*Cols; cell++ {
					for _, bit := range []int8{-1, 1} {
						if !ratioOK[class(a, cell, bit)][class(b, cell, bit)] {
							t.Fatalf("eps %g: P(%d,%d|%q)/P(.|%q) > e^eps", eps, cell, bit, values[a], values[b])
						}
					}
				}
			}
		}
	}
}

// TestNoEpsIsNoise checks that eps <= 0 or NaN flips with probability 1/2.
func TestNoEpsIsNoise(t *testing.T) {
	for _, eps := range []float64{0, -1, math.NaN()} {
		if got := flipThreshold(eps); got != 1<<52 {
			t.Errorf("eps %g: threshold %d, want 2^52", eps, got)
		}
	}
	if got := flipThreshold(math.Inf(1)); got != 0 {
		t.Errorf("eps +Inf: threshold %d, want 0", got)
	}
}

// TestHashGolden pins the hash: the guest and the server must agree on it,
// and a change would silently void every checkpointed sketch.
func TestHashGolden(t *testing.T) {
	for _, c := range []struct {
		row   int
		value string
		want  uint16
	}{
		{0, "", 2848},
		{0, "running-shoes-1", 100},
		{15, "running-shoes-1", 3558},
		{3, PairValue("evening-gowns-2", "metallic-heels-1"), 3737},
	} {
		if got := Hash(c.row, c.value); got != c.want {
			t.Errorf("Hash(%d, %q) = %d, want %d", c.row, c.value, got, c.want)
		}
	}
}

// TestHashSpreads checks the columns of many values are close to uniform
// in every row and the rows are not copies of each other.
func TestHashSpreads(t *testing.T) {
	const n = 64 * Cols
	for j := 0; j < Rows; j++ {
		var hist [Cols]int
		same := 0
		for i := 0; i < n; i++ {
			v := "item-" + strconv.Itoa(i)
			h := Hash(j, v)
			hist[h]++
			if h == Hash((j+1)%Rows, v) {
				same++
			}
		}
		chi := 0.0
		for _, c := range hist {
			d := float64(c) - 64
			chi += d * d / 64
		}
		// Cols-1 degrees of freedom: mean 4095, sd about 90.
		if chi > Cols+6*90 {
			t.Errorf("row %d: chi² %.0f over %d columns", j, chi, Cols)
		}
		if same > 3*n/Cols {
			t.Errorf("rows %d and %d agree on %d of %d values", j, (j+1)%Rows, same, n)
		}
	}
}

// TestEstimateErrorMatchesStdDev checks over repeated runs that the
// estimate's mean is the true count and its spread is within StdDev.
func TestEstimateErrorMatchesStdDev(t *testing.T) {
	const runs = 60
	mean, rms, sd := errorOverRuns(counters[0].new, runs, 500, 2, func(i int) string { return "other-" + strconv.Itoa(i) })
	if math.Abs(mean) > 4*sd/math.Sqrt(runs) {
		t.Errorf("mean error %.1f over %d runs, want 0 ± %.1f", mean, runs, 4*sd/math.Sqrt(runs))
	}
	if rms > 1.3*sd {
		t.Errorf("rms error %.1f above the StdDev bound %.1f", rms, sd)
	}
}

func TestAddRefuses(t *testing.T) {
	ok := wire.Report{Row: 1, Col: 2, Bit: 1}
	for _, c := range []struct {
		name string
		r    wire.Report
		eps  float64
		w    float64
	}{
		{"row", wire.Report{Row: Rows, Bit: 1}, 1, 1},
		{"col", wire.Report{Col: Cols, Bit: 1}, 1, 1},
		{"bit", wire.Report{Bit: 0}, 1, 1},
		{"tiny eps", ok, MinEps / 2, 1},
		{"nan eps", ok, math.NaN(), 1},
		{"inf eps", ok, math.Inf(1), 1},
		{"zero weight", ok, 1, 0},
		{"negative weight", ok, 1, -1},
		{"inf weight", ok, 1, math.Inf(1)},
	} {
		s := NewSketch()
		if s.Add(c.r, c.eps, c.w) || s.N() != 0 {
			t.Errorf("%s: Add accepted %+v eps %g w %g", c.name, c.r, c.eps, c.w)
		}
	}
}

func TestCodecRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, n := range []int{0, 1, 50, 20000} {
		s := NewSketch()
		for i := 0; i < n; i++ {
			s.Add(EncodeHadamard(wire.ReportItem, strconv.Itoa(i%13), 1.5, rng), 1.5, 0.5+float64(i%3))
		}
		b, err := s.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		var got Sketch
		if err := got.UnmarshalBinary(b); err != nil {
			t.Fatalf("%d reports: %v", n, err)
		}
		if !same(sketchAt{Sketch: s}, sketchAt{Sketch: &got}) || got.n != s.n || got.v != s.v {
			t.Errorf("%d reports: round trip differs", n)
		}
		if n == 0 && len(b) != 21 {
			t.Errorf("empty sketch: %d bytes, want 21", len(b))
		}
	}
}

func TestCodecRefuses(t *testing.T) {
	good, _ := NewSketch().MarshalBinary()
	one := NewSketch()
	one.Add(wire.Report{Row: 0, Col: 5, Bit: 1}, 1, 1)
	withCell, _ := one.MarshalBinary()
	for _, c := range []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"version", append([]byte{2}, good[1:]...)},
		{"truncated", good[:len(good)-1]},
		{"trailing", append(append([]byte{}, good...), 0)},
		{"cell count", func() []byte { b := append([]byte{}, good...); b[len(b)-1] = 0x7f; return b }()},
		{"index out of range", func() []byte {
			b := append([]byte{}, withCell[:21]...)
			b = appendUvarint(b, Rows*Cols)
			return appendFloat(b, 1)
		}()},
		{"nan cell", func() []byte {
			b := append([]byte{}, withCell[:21]...)
			b = appendUvarint(b, 0)
			return appendFloat(b, math.NaN())
		}()},
		{"huge varint", append(append([]byte{}, good[:19]...), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01)},
	} {
		var s Sketch
		if err := s.UnmarshalBinary(c.b); err != ErrCorrupt {
			t.Errorf("%s: err %v, want ErrCorrupt", c.name, err)
		}
	}
}

func FuzzUnmarshal(f *testing.F) {
	s := NewSketch()
	s.Add(wire.Report{Row: 3, Col: 7, Bit: -1}, 2, 1)
	b, _ := s.MarshalBinary()
	f.Add(b)
	f.Add([]byte{1, 16, 0x80, 0x20})
	f.Add([]byte{1, 16, 0x80, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, b []byte) { fuzzDecode(t, counters[0].zero, b) })
}

// FuzzAdd checks that no report, budget or weight panics or poisons the
// sketch with a non-finite number.
func FuzzAdd(f *testing.F) {
	f.Add(uint8(0), uint16(0), uint16(0), int8(1), 1.0, 1.0, "x")
	f.Add(uint8(1), uint16(65535), uint16(4096), int8(0), -1.0, math.MaxFloat64, "")
	f.Fuzz(func(t *testing.T, kind uint8, row, col uint16, bit int8, eps, w float64, v string) {
		s := NewSketch()
		s.Add(wire.Report{Kind: wire.ReportKind(kind), Row: row, Col: col, Bit: bit}, eps, w)
		s.Add(EncodeHadamard(wire.ReportKind(kind), v, eps, rand.New(rand.NewPCG(uint64(row), uint64(col)))), eps, 1)
		if e := s.Oracle().Estimate(v); math.IsNaN(e) {
			t.Fatalf("estimate NaN")
		}
	})
}
