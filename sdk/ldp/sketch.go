package ldp

import (
	"math"

	"github.com/tailorhq/tailor/sdk/wire"
)

// Sketch accumulates LDP reports of one kind on the server. Each report
// adds w·Rows·c_ε·bit to cell (row, col); the transform and the debiasing
// happen in Oracle, so a Sketch can keep folding after an estimate.
//
// Weights let the aggregate decay old reports (inflated units) and scale
// a whole sketch (Scale); estimates are then weighted counts.
//
// # Notes
//
// Not safe for concurrent use. The zero value is not usable: call NewSketch.
type Sketch struct {
	sums // m: Rows*Cols, row-major; v: Σ (w·c_ε)², which bounds an estimate's variance
}

// NewSketch returns an empty sketch.
func NewSketch() *Sketch { return &Sketch{sums{m: make([]float64, Rows*Cols)}} }

// MinEps is the smallest per-report ε the server folds. c_ε grows as 2/ε
// when ε shrinks, so a device claiming a tiny ε would make each of its
// reports count for hundreds; below MinEps a report is dropped.
const MinEps = 0.05

// Add folds report r, made with budget eps, with weight w. It returns false
// (and folds nothing) for a report out of range, eps < MinEps or not
// finite, or w not positive and finite.
func (s *Sketch) Add(r wire.Report, eps, w float64) bool {
	if r.Row >= Rows || r.Col >= Cols || (r.Bit != 1 && r.Bit != -1) {
		return false
	}
	if !(eps >= MinEps) || math.IsInf(eps, 0) || !(w > 0) || math.IsInf(w, 0) {
		return false
	}
	c := cEps(eps)
	s.m[int(r.Row)*Cols+int(r.Col)] += w * Rows * c * float64(r.Bit)
	s.n += w
	s.v += (w * c) * (w * c)
	return true
}

// cEps is (e^ε+1)/(e^ε-1), the factor that debiases a randomized bit.
func cEps(eps float64) float64 {
	e := math.Exp(eps)
	if math.IsInf(e, 0) {
		return 1
	}
	return (e + 1) / (e - 1)
}

// N is the weighted number of reports folded.
func (s *Sketch) N() float64 { return s.n }

// Merge adds o's reports to s.
func (s *Sketch) Merge(o *Sketch) { s.merge(&o.sums) }

// Scale multiplies every weight folded so far by f (f > 0): the aggregate
// renormalises its decayed units with it.
func (s *Sketch) Scale(f float64) { s.scale(f) }

// Clone returns an independent copy.
func (s *Sketch) Clone() *Sketch { return &Sketch{s.clone()} }

// Oracle is a transformed sketch that answers frequency estimates.
//
// # Notes
//
// Read-only once built; safe for concurrent use.
type Oracle struct {
	m    []float64
	n, v float64
}

// Oracle transforms a copy of the sketch (row-wise fast Walsh-Hadamard
// transform) for estimates.
func (s *Sketch) Oracle() *Oracle {
	o := &Oracle{m: make([]float64, len(s.m)), n: s.n, v: s.v}
	copy(o.m, s.m)
	for j := 0; j < Rows; j++ {
		fwht(o.m[j*Cols : (j+1)*Cols])
	}
	return o
}

// fwht is the in-place unnormalised Walsh-Hadamard transform of a (its
// length a power of two).
func fwht(a []float64) {
	for h := 1; h < len(a); h *= 2 {
		for i := 0; i < len(a); i += 2 * h {
			for k := i; k < i+h; k++ {
				x, y := a[k], a[k+h]
				a[k], a[k+h] = x+y, x-y
			}
		}
	}
}

// Estimate is the debiased weighted count of reports about value:
// m/(m-1)·(mean over rows j of M[j][hash_j(value)] - n/m). It is unbiased;
// it may be negative or exceed N for rare values.
func (o *Oracle) Estimate(value string) float64 {
	sum := 0.0
	for j := 0; j < Rows; j++ {
		sum += o.m[j*Cols+int(Hash(j, value))]
	}
	const m = Cols
	return m / (m - 1) * (sum/Rows - o.n/m)
}

// StdDev bounds the standard deviation of an estimate:
// m/(m-1)·sqrt(Σ (w·c_ε)²). A value absent from the reports is estimated
// at 0 ± StdDev, so Estimate > z·StdDev is a one-sided test at z.
func (o *Oracle) StdDev() float64 {
	const m = Cols
	return m / (m - 1) * math.Sqrt(o.v)
}

// N is the weighted number of reports behind the oracle.
func (o *Oracle) N() float64 { return o.n }
