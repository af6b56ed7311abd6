package ldp

import (
	"math"
	"math/big"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/tailorhq/tailor/sdk/wire"
)

// TestOLHIsEpsLDP checks ε-LDP exactly over every output (hash function,
// bucket). It drives encode with scripted draws to check that the kept
// draw gives h_s(value) and that the g-1 draws of the move reach each other
// bucket exactly once; every output's probability under an input is then
// one of three exact rationals (kept, or moved by a residue of a 64-bit
// draw mod g-1 that occurs floor or ceil of 2^64/(g-1) times), and the
// noise report's likewise. The test compares every pair of them with e^ε
// in rational arithmetic.
func TestOLHIsEpsLDP(t *testing.T) {
	values := []string{"a", "running-shoes-1", PairValue("x", "y"), ""}
	for _, eps := range []float64{0.1, 0.5, 1, 2, 4, 8, 30} {
		g := Buckets(eps)
		bound := new(big.Rat)
		bound.SetFloat64(math.Exp(eps))
		two53, two64 := new(big.Int).Lsh(big.NewInt(1), 53), new(big.Int).Lsh(big.NewInt(1), 64)
		// probs returns the three probabilities of an output (up to the
		// common 1/Seeds) for keep threshold k: kept, moved by a rare and
		// by a common residue.
		probs := func(k uint64) []*big.Rat {
			if k == 0 || k >= 1<<53 {
				t.Fatalf("eps %g: threshold %d makes an output impossible", eps, k)
			}
			q, r := new(big.Int).QuoRem(two64, big.NewInt(int64(g-1)), new(big.Int))
			kept := new(big.Rat).SetFrac(new(big.Int).SetUint64(k), two53)
			moved := new(big.Rat).Sub(big.NewRat(1, 1), kept)
			out := []*big.Rat{kept, new(big.Rat).Mul(moved, new(big.Rat).SetFrac(q, two64))}
			if r.Sign() > 0 { // some residues occur once more
				out = append(out, new(big.Rat).Mul(moved, new(big.Rat).SetFrac(new(big.Int).Add(q, big.NewInt(1)), two64)))
			}
			return out
		}
		all := append(probs(keepThreshold(eps)), probs(uniformThreshold(g))...)
		for _, a := range all {
			for _, b := range all {
				if new(big.Rat).Quo(a, b).Cmp(bound) > 0 {
					t.Fatalf("eps %g (g %d): an output %s times likelier under one input than another", eps, g, new(big.Rat).Quo(a, b).FloatString(6))
				}
			}
		}
		// The rounding costs utility only within a relative 1e-9.
		if p, got := math.Exp(eps)/(math.Exp(eps)+float64(g-1)), float64(keepThreshold(eps))/(1<<53); p-got > 1e-9*p+1.0/(1<<52) {
			t.Errorf("eps %g: keep probability %g, want about %g", eps, got, p)
		}
		if eps > 4 {
			continue // the mechanics below are the same for every ε
		}
		for _, v := range values {
			h := Hash64(v)
			for s := uint64(0); s < Seeds; s++ {
				b := Bucket(h, int(s), g)
				kept := Encode(wire.ReportPair, v, eps, &script{s, 0})
				if kept != (wire.Report{Kind: wire.ReportPair, Row: uint16(s), Col: uint16(b)}) {
					t.Fatalf("eps %g %q seed %d: kept %+v, want bucket %d", eps, v, s, kept, b)
				}
				seen := make([]bool, g)
				for k := uint64(0); k < uint64(g-1); k++ {
					r := Encode(wire.ReportPair, v, eps, &script{s, math.MaxUint64, k})
					if r.Row != uint16(s) || int(r.Col) == b || seen[r.Col] {
						t.Fatalf("eps %g %q seed %d draw %d: moved to %+v (bucket %d)", eps, v, s, k, r, b)
					}
					seen[r.Col] = true
				}
			}
		}
	}
}

// TestNoiseSpendsNothing checks a report about nothing is nearly uniform
// over the buckets: kept with probability 1/g (rounded down to 2^-53).
func TestNoiseSpendsNothing(t *testing.T) {
	for _, eps := range []float64{1, 4, 8} {
		g := Buckets(eps)
		if got := float64(uniformThreshold(g)) / (1 << 53); math.Abs(got-1/float64(g)) > 1.0/(1<<52) {
			t.Errorf("eps %g: noise keeps with probability %g, want 1/%d", eps, got, g)
		}
		r := Noise(wire.ReportItem, eps, &script{7, 0})
		if r.Row != 7 || int(r.Col) != Bucket(0, 7, g) {
			t.Errorf("eps %g: noise report %+v", eps, r)
		}
	}
	if keepThreshold(0) != uniformThreshold(2) || keepThreshold(math.NaN()) != uniformThreshold(2) {
		t.Error("eps 0 or NaN must keep with probability 1/g")
	}
	if keepThreshold(math.Inf(1)) != 1<<53 {
		t.Error("eps +Inf must always keep")
	}
}

func TestBuckets(t *testing.T) {
	for _, c := range []struct {
		eps  float64
		want int
	}{{-1, 2}, {0, 2}, {math.NaN(), 2}, {0.1, 2}, {0.5, 3}, {1, 4}, {2, 8}, {4, 56}, {4.8, 123}, {8, wire.LDPMaxBuckets}, {math.Inf(1), wire.LDPMaxBuckets}} {
		if got := Buckets(c.eps); got != c.want {
			t.Errorf("Buckets(%g) = %d, want %d", c.eps, got, c.want)
		}
	}
}

// TestHashFamilyGolden pins the hash family: the guest and the server must
// agree on it, and a change would silently void every checkpointed table.
func TestHashFamilyGolden(t *testing.T) {
	for _, c := range []struct {
		value    string
		h        uint64
		b0, bMax int // seeds 0 and Seeds-1 over 56 buckets
		b5       int // seed 5 over 128
	}{
		{"", 0xcbf29ce484222325, 42, 16, 123},
		{"running-shoes-1", 0xbc6d9ecac9141df7, 19, 18, 111},
		{PairValue("evening-gowns-2", "metallic-heels-1"), 0x614dce3cf2bc52fa, 12, 13, 42},
	} {
		h := Hash64(c.value)
		if h != c.h || Bucket(h, 0, 56) != c.b0 || Bucket(h, Seeds-1, 56) != c.bMax || Bucket(h, 5, 128) != c.b5 {
			t.Errorf("%q: Hash64 %#x, buckets %d %d %d; want %#x, %d %d %d", c.value, h,
				Bucket(h, 0, 56), Bucket(h, Seeds-1, 56), Bucket(h, 5, 128), c.h, c.b0, c.bMax, c.b5)
		}
	}
}

// TestHashFamilySpreads checks that the family behaves like random
// functions: each one spreads values evenly, and two values collide under
// about 1/g of the functions (an estimate counts the collisions of other
// values as noise, expecting 1/g).
func TestHashFamilySpreads(t *testing.T) {
	const g, n = 56, 64 * 56
	for _, s := range []int{0, 1, 777, Seeds - 1} {
		var hist [g]int
		for i := 0; i < n; i++ {
			hist[Bucket(Hash64("item-"+strconv.Itoa(i)), s, g)]++
		}
		chi := 0.0
		for _, c := range hist {
			d := float64(c) - 64
			chi += d * d / 64
		}
		if chi > g-1+6*math.Sqrt(2*(g-1)) { // g-1 degrees of freedom
			t.Errorf("seed %d: chi² %.0f over %d buckets", s, chi, g)
		}
	}
	// Collisions over the seeds, for pairs of similar values.
	worst := 0.0
	for i := 0; i < 200; i++ {
		a, b := Hash64("item-"+strconv.Itoa(i)), Hash64("item-"+strconv.Itoa(i+1))
		same := 0
		for s := 0; s < Seeds; s++ {
			if Bucket(a, s, g) == Bucket(b, s, g) {
				same++
			}
		}
		// Binomial(Seeds, 1/g): mean 36.6, sd 6.0.
		worst = max(worst, math.Abs(float64(same)-Seeds/g)/math.Sqrt(Seeds/g*(1-1.0/g)))
	}
	if worst > 4.5 {
		t.Errorf("a pair of values collides %.1f sd away from 1/g of the hash functions", worst)
	}
}

// TestTableErrorMatchesStdDev checks over repeated runs that the
// estimate's mean is the true count and its spread is within StdDev,
// hash collisions included.
func TestTableErrorMatchesStdDev(t *testing.T) {
	const runs, n, eps = 60, 2000, 4.0
	// a few frequent values collide with "hit" under some seeds
	mean, rms, sd := errorOverRuns(counters[1].new, runs, n, eps, func(i int) string { return "other-" + strconv.Itoa(i%40) })
	// StdDev is an absent value's; "hit"'s own n/2 reports add
	// (p(1-p) - q(1-q))/(p-q)² each.
	p, q := NewTable(eps).keep(), 1/float64(Buckets(eps))
	sd = math.Sqrt(sd*sd + n/2*(p*(1-p)-q*(1-q))/((p-q)*(p-q)))
	if math.Abs(mean) > 4*1.3*sd/math.Sqrt(runs) {
		t.Errorf("mean error %.1f over %d runs, want 0 ± %.1f", mean, runs, 4*sd/math.Sqrt(runs))
	}
	if rms > 1.3*sd || rms < 0.7*sd {
		t.Errorf("rms error %.1f, want about the standard deviation %.1f", rms, sd)
	}
}

func TestTableRefuses(t *testing.T) {
	if NewTable(MinEps/2) != nil || NewTable(math.NaN()) != nil || NewTable(math.Inf(1)) != nil {
		t.Error("NewTable accepted an unusable eps")
	}
	ok := wire.Report{Row: 1, Col: 2}
	for _, c := range []struct {
		name string
		r    wire.Report
		w    float64
	}{
		{"hadamard", wire.Report{Row: 1, Col: 2, Bit: 1}, 1},
		{"seed", wire.Report{Row: Seeds}, 1},
		{"bucket", wire.Report{Col: 56}, 1},
		{"zero weight", ok, 0},
		{"negative weight", ok, -1},
		{"inf weight", ok, math.Inf(1)},
		{"nan weight", ok, math.NaN()},
	} {
		tb := NewTable(4)
		if tb.Add(c.r, c.w) || tb.N() != 0 {
			t.Errorf("%s: Add accepted %+v w %g", c.name, c.r, c.w)
		}
	}
}

// TestTableMergeOtherEps: a table of another ε (the site changed its
// budget) does not merge.
func TestTableMergeOtherEps(t *testing.T) {
	a := NewTable(3)
	a.Add(wire.Report{Row: 1, Col: 2}, 1)
	if other := NewTable(2); other.Merge(a) || other.N() != 0 {
		t.Error("a table of another eps merged")
	}
}

func TestTableCodecRefuses(t *testing.T) {
	good, _ := NewTable(4).MarshalBinary()
	one := NewTable(4)
	one.Add(wire.Report{Row: 3, Col: 5}, 1)
	withCell, _ := one.MarshalBinary()
	head := len(good) - 1 // up to the cell count
	for _, c := range []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"sketch version", append([]byte{codecVersion}, good[1:]...)},
		{"truncated", good[:len(good)-1]},
		{"trailing", append(append([]byte{}, good...), 0)},
		{"tiny eps", func() []byte { b := append([]byte{}, good...); copy(b[3:], appendFloat(nil, 0.001)); return b }()},
		{"cell count", func() []byte { b := append([]byte{}, good...); b[len(b)-1] = 0x7f; return b }()},
		{"index out of range", func() []byte {
			b := append([]byte{}, withCell[:head]...)
			b = appendUvarint(b, 1)
			b = appendUvarint(b, Seeds*56)
			return appendFloat(b, 1)
		}()},
		{"nan cell", func() []byte {
			b := append([]byte{}, withCell[:head]...)
			b = appendUvarint(b, 1)
			b = appendUvarint(b, 0)
			return appendFloat(b, math.NaN())
		}()},
	} {
		var tb Table
		if err := tb.UnmarshalBinary(c.b); err != ErrCorrupt {
			t.Errorf("%s: err %v, want ErrCorrupt", c.name, err)
		}
	}
}

func FuzzTableUnmarshal(f *testing.F) {
	tb := NewTable(2)
	tb.Add(wire.Report{Row: 3, Col: 7}, 1)
	b, _ := tb.MarshalBinary()
	f.Add(b)
	f.Add([]byte{tableCodec, 0x80, 0x10})
	f.Fuzz(func(t *testing.T, b []byte) {
		if tb := fuzzDecode(t, counters[1].zero, b); tb != nil && math.IsNaN(tb.estimate("x")) {
			t.Fatal("estimate NaN")
		}
	})
}

// FuzzTableAdd checks that no report, budget or weight panics or poisons
// a table with a non-finite estimate.
func FuzzTableAdd(f *testing.F) {
	f.Add(uint8(0), uint16(0), uint16(0), int8(0), 4.0, 1.0, "x")
	f.Add(uint8(1), uint16(65535), uint16(200), int8(1), 1e6, math.MaxFloat64, "")
	f.Fuzz(func(t *testing.T, kind uint8, row, col uint16, bit int8, eps, w float64, v string) {
		tb := NewTable(eps)
		if tb == nil {
			return
		}
		tb.Add(wire.Report{Kind: wire.ReportKind(kind), Row: row, Col: col, Bit: bit}, w)
		tb.Add(Encode(wire.ReportKind(kind), v, eps, rand.New(rand.NewPCG(uint64(row), uint64(col)))), 1)
		if e, sd := tb.Estimate(v), tb.StdDev(); math.IsNaN(e) || math.IsNaN(sd) {
			t.Fatalf("estimate %v ± %v", e, sd)
		}
	})
}
