package ldp

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/tailorhq/tailor/sdk/wire"
)

// counter is what the tests drive of both frequency oracles: the Hadamard
// count sketch (its reports made at one ε) and the OLH table. The
// properties they share (unbiased estimates within StdDev, the algebra the
// aggregate relies on, a checkpoint that round-trips) are checked once,
// for both, in this file.
type counter interface {
	encode(value string, rng Random) wire.Report // a report about value
	add(r wire.Report, w float64) bool
	estimate(value string) float64
	stdDev() float64
	merge(o counter) bool
	scale(f float64)
	clone() counter
	sums() (head, m []float64) // what two counters compare by: the totals (and a table's ε and g), the cells
	marshal() []byte
	unmarshal(b []byte) error
}

// sketchAt is a Sketch whose reports are made at eps.
type sketchAt struct {
	*Sketch
	eps float64
}

func (s sketchAt) encode(v string, rng Random) wire.Report {
	return EncodeHadamard(wire.ReportItem, v, s.eps, rng)
}
func (s sketchAt) add(r wire.Report, w float64) bool { return s.Add(r, s.eps, w) }
func (s sketchAt) estimate(v string) float64         { return s.Oracle().Estimate(v) }
func (s sketchAt) stdDev() float64                   { return s.Oracle().StdDev() }
func (s sketchAt) merge(o counter) bool              { s.Merge(o.(sketchAt).Sketch); return true }
func (s sketchAt) scale(f float64)                   { s.Scale(f) }
func (s sketchAt) clone() counter                    { return sketchAt{s.Clone(), s.eps} }
func (s sketchAt) sums() (head, m []float64)         { return []float64{s.n, s.v}, s.m }
func (s sketchAt) marshal() []byte                   { b, _ := s.MarshalBinary(); return b }
func (s sketchAt) unmarshal(b []byte) error          { return s.UnmarshalBinary(b) }

// olh is a Table.
type olh struct{ *Table }

func (t olh) encode(v string, rng Random) wire.Report { return Encode(wire.ReportItem, v, t.eps, rng) }
func (t olh) add(r wire.Report, w float64) bool       { return t.Add(r, w) }
func (t olh) estimate(v string) float64               { return t.Estimate(v) }
func (t olh) stdDev() float64                         { return t.StdDev() }
func (t olh) merge(o counter) bool                    { return t.Merge(o.(olh).Table) }
func (t olh) scale(f float64)                         { t.Scale(f) }
func (t olh) clone() counter                          { return olh{t.Clone()} }
func (t olh) sums() (head, m []float64)               { return []float64{t.eps, float64(t.g), t.n, t.v}, t.m }
func (t olh) marshal() []byte                         { b, _ := t.MarshalBinary(); return b }
func (t olh) unmarshal(b []byte) error                { return t.UnmarshalBinary(b) }

// counters are both oracles, each made empty at a budget (new) and as the
// zero value a checkpoint decodes into (zero).
var counters = []struct {
	name string
	new  func(eps float64) counter
	zero func() counter
}{
	{"hadamard", func(eps float64) counter { return sketchAt{NewSketch(), eps} }, func() counter { return sketchAt{new(Sketch), 0} }},
	{"olh", func(eps float64) counter { return olh{NewTable(eps)} }, func() counter { return olh{new(Table)} }},
}

// same reports whether two counters hold the same sums up to rounding.
func same(a, b counter) bool {
	ah, am := a.sums()
	bh, bm := b.sums()
	return near(ah, bh) && near(am, bm)
}

// near reports whether a and b are equal up to rounding.
func near(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Abs(a[i]-b[i]) > 1e-9*(1+math.Abs(a[i])+math.Abs(b[i])) {
			return false
		}
	}
	return true
}

// TestUnbiased folds reports of known frequencies at each ε into each
// oracle and checks each estimate, and absent values, within 4 standard
// deviations; then that StdDev is as tight as the oracle's theory says.
func TestUnbiased(t *testing.T) {
	tight := map[string]func(t *testing.T, eps, sd, n float64){ // n: the reports folded
		// The Hadamard bound is about c_ε·sqrt(N).
		"hadamard": func(t *testing.T, eps, sd, n float64) {
			if want := cEps(eps) * math.Sqrt(n); sd > 1.01*want {
				t.Errorf("eps %g: StdDev %.1f, want about %.1f", eps, sd, want)
			}
		},
		// OLH's variance per report, 4e^ε/(e^ε-1)², where the buckets are not capped.
		"olh": func(t *testing.T, eps, sd, n float64) {
			e := math.Exp(eps)
			if want := math.Sqrt(n * 4 * e / ((e - 1) * (e - 1))); eps <= 4 && math.Abs(sd/want-1) > 0.05 {
				t.Errorf("eps %g: StdDev %.1f, want about %.1f", eps, sd, want)
			}
		},
	}
	for _, c := range counters {
		t.Run(c.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, 2))
			for _, tc := range []struct {
				eps    float64
				counts []int
			}{
				{1, []int{4000, 2000, 800, 0}},
				{2, []int{3000, 1500, 600, 200, 50}},
				{4, []int{2000, 1000, 300, 100, 10, 0}},
				{8, []int{1000, 400, 100, 20}},
			} {
				o, n := c.new(tc.eps), 0
				for vi, k := range tc.counts {
					for i := 0; i < k; i++ {
						if !o.add(o.encode("v"+strconv.Itoa(vi), rng), 1) {
							t.Fatal("Add refused a valid report")
						}
					}
					n += k
				}
				if tb, ok := o.(olh); ok {
					for i := 0; i < 500; i++ { // reports about nothing count for no value
						tb.Add(Noise(wire.ReportItem, tc.eps, rng), 1)
					}
					n += 500
				}
				sd := o.stdDev()
				for vi, k := range append(tc.counts, 0, 0) { // two values never reported
					if got := o.estimate("v" + strconv.Itoa(vi)); math.Abs(got-float64(k)) > 4*sd {
						t.Errorf("eps %g: value %d estimated %.0f, want %d ± 4·%.1f", tc.eps, vi, got, k, sd)
					}
				}
				tight[c.name](t, tc.eps, sd, float64(n))
			}
		})
	}
}

// errorOverRuns folds, runs times into a fresh counter, n reports at eps
// of which every other is about "hit" and the rest about other(i); it
// returns the mean and root mean square of the error of hit's estimate,
// and the counters' StdDev.
func errorOverRuns(newCounter func(eps float64) counter, runs, n int, eps float64, other func(i int) string) (mean, rms, sd float64) {
	rng := rand.New(rand.NewPCG(3, 4))
	var sum, sq float64
	for r := 0; r < runs; r++ {
		o := newCounter(eps)
		for i := 0; i < n; i++ {
			v := "hit"
			if i%2 == 1 {
				v = other(i)
			}
			o.add(o.encode(v, rng), 1)
		}
		e := o.estimate("hit") - float64(n/2)
		sum += e
		sq += e * e
		sd = o.stdDev()
	}
	return sum / float64(runs), math.Sqrt(sq / float64(runs)), sd
}

// TestAlgebra checks what the aggregate relies on, for both oracles:
// merging two equals folding both streams, Scale(f) equals folding with
// weight f, Clone is independent, and the checkpoint round-trips.
func TestAlgebra(t *testing.T) {
	for _, c := range counters {
		t.Run(c.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(5, 6))
			a, b, both, scaled := c.new(3), c.new(3), c.new(3), c.new(3)
			for i := 0; i < 3000; i++ {
				r := a.encode(PairValue("p", strconv.Itoa(i%7)), rng)
				dst := a
				if i%3 == 0 {
					dst = b
				}
				dst.add(r, 1)
				both.add(r, 1)
				scaled.add(r, 0.25)
			}
			cl := a.clone()
			if !a.merge(b) || !same(a, both) {
				t.Error("Merge differs from folding both streams")
			}
			both.scale(0.25)
			if !same(both, scaled) {
				t.Error("Scale differs from folding with the weight")
			}
			if same(cl, a) {
				t.Error("Clone shares state with its source")
			}
			for _, o := range []counter{c.new(1), a} {
				got := c.zero()
				if err := got.unmarshal(o.marshal()); err != nil || !same(o, got) {
					t.Errorf("round trip of %d bytes: %v", len(o.marshal()), err)
				}
			}
		})
	}
}

// fuzzDecode checks a checkpoint fuzzed into zero: if it decodes, its
// encoding decodes to the same sums, and estimating does not panic. It
// returns the decoded counter, or nil.
func fuzzDecode(t *testing.T, zero func() counter, b []byte) counter {
	o := zero()
	if o.unmarshal(b) != nil {
		return nil
	}
	again := zero()
	if err := again.unmarshal(o.marshal()); err != nil || !same(o, again) {
		t.Fatalf("re-encoding does not round-trip: %v", err)
	}
	o.estimate("x")
	return o
}
