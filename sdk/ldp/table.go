package ldp

import (
	"math"

	"github.com/tailorhq/tailor/sdk/wire"
)

// Table accumulates OLH reports of one kind on the server, for one ε (the
// site's): a weighted count per (hash function, bucket). A candidate's
// estimate reads one cell per hash function, so estimating c candidates
// costs Seeds·c cheap hashes, whatever the number of reports.
//
// Weights let the aggregate decay old reports (inflated units) and scale
// a whole table (Scale); estimates are then weighted counts.
//
// # Notes
//
// Not safe for concurrent use, except Estimate and StdDev, which only
// read. The zero value is not usable: call NewTable.
type Table struct {
	eps  float64
	g    int
	sums // m: Seeds*g, row-major by hash function; v: Σ w², which bounds an estimate's variance
}

// NewTable returns an empty table for reports made at budget eps, or nil
// if eps is below MinEps or not finite: a tiny ε would make each report
// count for hundreds.
func NewTable(eps float64) *Table {
	if !(eps >= MinEps) || math.IsInf(eps, 0) {
		return nil
	}
	g := Buckets(eps)
	return &Table{eps: eps, g: g, sums: sums{m: make([]float64, Seeds*g)}}
}

// Eps is the budget the table's reports were made at.
func (t *Table) Eps() float64 { return t.eps }

// Add folds OLH report r with weight w. It returns false (and folds
// nothing) for a report that is not OLH (Bit set) or out of range, or w
// not positive and finite.
func (t *Table) Add(r wire.Report, w float64) bool {
	if r.Bit != 0 || r.Row >= Seeds || int(r.Col) >= t.g || !(w > 0) || math.IsInf(w, 0) {
		return false
	}
	t.m[int(r.Row)*t.g+int(r.Col)] += w
	t.n += w
	t.v += w * w
	return true
}

// N is the weighted number of reports folded.
func (t *Table) N() float64 { return t.n }

// keep is the probability a report keeps its value's bucket.
func (t *Table) keep() float64 {
	e := math.Exp(t.eps)
	if math.IsInf(e, 1) {
		return 1
	}
	return e / (e + float64(t.g-1))
}

// Estimate is the debiased weighted count of reports about value:
// (Σ_s M[s][h_s(value)] - n/g) / (p - 1/g), p the keep probability. It
// is unbiased over the reports' random hash functions; it may be negative
// or exceed N for rare values.
func (t *Table) Estimate(value string) float64 {
	h := Hash64(value)
	sum := 0.0
	for s := 0; s < Seeds; s++ {
		sum += t.m[s*t.g+Bucket(h, s, t.g)]
	}
	q := 1 / float64(t.g)
	return (sum - t.n*q) / (t.keep() - q)
}

// StdDev is the standard deviation of the estimate of a value nobody
// reported: sqrt(Σw²·q(1-q))/(p-q), q = 1/g. Estimate > z·StdDev is a
// one-sided test at z. At ε = 4 (g = 56) the variance per report is
// about 0.076, as OLH's 4e^ε/(e^ε-1)².
func (t *Table) StdDev() float64 {
	q := 1 / float64(t.g)
	return math.Sqrt(t.v*q*(1-q)) / (t.keep() - q)
}

// Merge adds o's reports to t. A table of another ε (the site changed its
// budget) cannot be mixed in: Merge reports false and changes nothing.
func (t *Table) Merge(o *Table) bool {
	if o.eps != t.eps {
		return false
	}
	t.merge(&o.sums)
	return true
}

// Scale multiplies every weight folded so far by f (f > 0): the aggregate
// renormalises its decayed units with it.
func (t *Table) Scale(f float64) { t.scale(f) }

// Clone returns an independent copy.
func (t *Table) Clone() *Table {
	c := *t
	c.sums = t.clone()
	return &c
}

// tableCodec is the first byte of an encoded table (1 is a Sketch's).
const tableCodec = 2

// maxN bounds a decoded table's weighted count, so that no estimate can
// overflow: a real one is far smaller (the aggregate rebases its decay
// units long before).
const maxN = math.MaxFloat64 / (4 * Seeds)

// MarshalBinary encodes the table compactly for checkpoints: version,
// seeds, ε, n, v, then only the non-zero cells as (gap, float64) pairs.
func (t *Table) MarshalBinary() ([]byte, error) {
	b := []byte{tableCodec}
	b = appendUvarint(b, Seeds)
	b = appendFloat(b, t.eps)
	b = appendFloat(b, t.n)
	b = appendFloat(b, t.v)
	return appendCells(b, t.m), nil
}

// UnmarshalBinary replaces the table with the one encoded in b. It checks
// the dimensions, every index and that every number is finite, and never
// allocates more than one table.
func (t *Table) UnmarshalBinary(b []byte) error {
	d := decoder{b: b}
	if d.byte() != tableCodec || d.uvarint() != Seeds {
		return ErrCorrupt
	}
	eps, n, v := d.float(), d.float(), d.float()
	fresh := NewTable(eps)
	// Every cell is a share of n, which must leave room for the sum of
	// one cell per hash function (maxN).
	if d.bad || fresh == nil || !(n >= 0 && n <= maxN) || !(v >= 0) {
		return ErrCorrupt
	}
	d.cells(fresh.m, func(x float64) bool { return x > 0 && x <= n })
	if d.bad || len(d.b) != 0 {
		return ErrCorrupt
	}
	fresh.n, fresh.v = n, v
	*t = *fresh
	return nil
}
