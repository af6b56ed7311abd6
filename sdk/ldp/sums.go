package ldp

// sums is what both oracles fold, a Sketch and a Table: cells of weighted
// reports, n = Σ w, and v, which bounds an estimate's variance (its form
// is the oracle's). Merging, scaling and copying them is the same for both.
type sums struct {
	m []float64 // the cells
	n float64   // Σ w: the weighted number of reports
	v float64   // the oracle's variance sum
}

// merge adds o's cells and sums to s (of the same length).
func (s *sums) merge(o *sums) {
	for i, x := range o.m {
		s.m[i] += x
	}
	s.n += o.n
	s.v += o.v
}

// scale multiplies every weight folded so far by f: the cells and n by f,
// v (a sum of squared weights) by f².
func (s *sums) scale(f float64) {
	for i := range s.m {
		s.m[i] *= f
	}
	s.n *= f
	s.v *= f * f
}

// clone returns a copy that shares no cells with s.
func (s *sums) clone() sums {
	c := *s
	c.m = append([]float64(nil), s.m...)
	return c
}
